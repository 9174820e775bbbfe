import { test } from "node:test";
import assert from "node:assert/strict";
import { pb } from "../src/proto/index.js";
import type { Publication } from "../src/gossip/results.js";
import { batchPayload, GossipSim, type SimNode } from "./support/gossip_sim.js";

// Periodic advertising effectively off: only the origin's directed repair can
// reach a node the burst missed.
const NO_ADVERTISE = { advertiseIntervalMs: 600_000, advertiseJitter: 0 };

function publishAll(origin: SimNode, nodes: SimNode[]): Publication {
  const res = origin.gossip.publish(pb.EnvelopeKind.CHECK_BATCH, batchPayload(), { expected: nodes.map((n) => n.name) });
  assert.ok(res.ok, res.ok ? "" : res.error);
  return res.publication;
}

test("an expected node the burst missed is repaired by the origin after repairAfterMs, not an advertise interval", async () => {
  const sim = new GossipSim({ seed: 91, config: NO_ADVERTISE });
  const nodes = await sim.addNodes(20);
  const missed = nodes[9]!;
  sim.kill(missed.name);
  const pub = publishAll(nodes[0]!, nodes);
  await sim.clock.advance(20);
  assert.equal(sim.consumers(pub.idHex).length, 19, "everyone else has it from the burst");
  sim.net.unsilence(missed.address);
  const took = await sim.clock.runUntil(() => pub.done, 1000, 1);
  assert.notEqual(took, -1);
  assert.ok(20 + took <= sim.config.repairAfterMs + 10, `done ${20 + took} ms after publishing`);
  assert.equal(sim.consumedCount(missed.name, pub.idHex), 1);
  assert.equal(nodes[0]!.gossip.counters().repairs, 1, "only the silent node was asked");
});

test("no repair traffic when every reply arrives before repairAfterMs", async () => {
  const sim = new GossipSim({ seed: 92 });
  const nodes = await sim.addNodes(50);
  const pub = publishAll(nodes[0]!, nodes);
  assert.notEqual(await sim.clock.runUntil(() => pub.done, 1000, 1), -1);
  await sim.clock.advance(500);
  assert.equal(nodes[0]!.gossip.counters().repairs, 0);
});

test("a node still running the batch is asked once, then left alone", async () => {
  const sim = new GossipSim({ seed: 93, consumeDelayMs: 5000 });
  const nodes = await sim.addNodes(10);
  const pub = publishAll(nodes[0]!, nodes);
  assert.notEqual(await sim.clock.runUntil(() => pub.done, 10_000, 10), -1);
  assert.equal(nodes[0]!.gossip.counters().repairs, 9, "one advertisement to each other node");
  assert.ok(sim.exactlyOnce(pub.idHex, sim.nodes.keys()));
});

test("a node that stays unreachable is asked again with a doubling delay, and gets the batch once it is back", async () => {
  const sim = new GossipSim({ seed: 94, config: NO_ADVERTISE });
  const nodes = await sim.addNodes(5);
  const away = nodes[3]!;
  sim.kill(away.name);
  const pub = publishAll(nodes[0]!, nodes);
  await sim.clock.advance(1000);
  const rounds = nodes[0]!.gossip.counters().repairs;
  // Rounds at 50, 150, 350, 750 ms: four in the first second, not a hot loop.
  assert.equal(rounds, 4);
  sim.net.unsilence(away.address);
  assert.notEqual(await sim.clock.runUntil(() => pub.done, 2000, 5), -1);
  assert.equal(sim.consumedCount(away.name, pub.idHex), 1);
});
