import assert from "node:assert/strict";
import { it } from "node:test";
import { localConfig } from "../src/swim/config.js";
import { SimCluster } from "../src/swim/simulation.js";

it("50 nodes joining through one seed converge: every node lists all 50 alive", async () => {
  const sim = new SimCluster({ seed: 1, config: localConfig() });
  const nodes = sim.addMany(50);
  const seed = nodes[0]!.address;
  const joins = nodes.slice(1).map((n) => n.swim.join([seed]));
  const names = nodes.map((n) => n.name);
  const took = await sim.runUntil(() => sim.agree(names), 60_000);
  assert.ok(took >= 0, "the cluster did not converge within 60 s of simulated time");
  const answered = await Promise.all(joins);
  assert.ok(answered.every((a) => a === 1));
  console.log(`50 nodes converged in ${took} ms simulated`);
  sim.shutdown();
});

it("500 nodes joining through one seed at the same moment converge well within one push-pull interval", async () => {
  const config = localConfig();
  const sim = new SimCluster({ seed: 8, config, recordEvents: false });
  const nodes = sim.addMany(500);
  const seed = nodes[0]!.address;
  let refused = 0;
  for (const n of nodes.slice(1)) n.swim.join([seed]).catch(() => refused++);
  const names = nodes.map((n) => n.name);
  // Cheap check first (counts), the full pairwise one only once they match.
  const took = await sim.runUntil(() => nodes.every((n) => n.swim.statusCounts().alive === 500) && sim.agree(names), config.pushPullIntervalMs);
  assert.equal(refused, 0);
  assert.ok(took >= 0, `500 nodes did not converge within one push-pull interval (${config.pushPullIntervalMs} ms)`);
  let catchUps = 0;
  for (const n of nodes) catchUps += n.swim.counters().catchUpPulls!;
  console.log(`500 nodes converged in ${took} ms simulated, ${catchUps} catch-up pulls`);
  sim.shutdown();
});
