import assert from "node:assert/strict";
import { test } from "node:test";
import { localConfig } from "../src/swim/config.js";
import { SimCluster } from "../src/swim/simulation.js";

test("50 nodes joining through one seed converge: every node lists all 50 alive", async () => {
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
