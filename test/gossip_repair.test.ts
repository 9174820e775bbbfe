import { it } from "node:test";
import assert from "node:assert/strict";
import { pb } from "../src/proto/index.js";
import type { Publication } from "../src/gossip/publication.js";
import { batchPayload, GossipSim, type SimNode } from "./support/gossip_sim.js";

// Periodic advertising effectively off: only the origin's directed repair can
// reach a node the burst missed.
const NO_ADVERTISE = { advertiseIntervalMs: 600_000, advertiseJitter: 0 };

function publishAll(origin: SimNode, nodes: SimNode[]): Publication {
  const res = origin.gossip.publish(pb.EnvelopeKind.CHECK_BATCH, batchPayload(), { expected: nodes.map((n) => n.name) });
  assert.ok(res.ok, res.ok ? "" : res.error);
  return res.publication;
}

it("an expected node the burst missed is repaired by the origin after repairAfterMs, not an advertise interval", async () => {
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

it("no repair traffic when every reply arrives before repairAfterMs", async () => {
  const sim = new GossipSim({ seed: 92 });
  const nodes = await sim.addNodes(50);
  const pub = publishAll(nodes[0]!, nodes);
  assert.notEqual(await sim.clock.runUntil(() => pub.done, 1000, 1), -1);
  await sim.clock.advance(500);
  assert.equal(nodes[0]!.gossip.counters().repairs, 0);
});

it("while replies keep arriving (a loaded host), the first repair round waits for them to stall", async () => {
  // Node i answers i * 10 ms after it got the batch: a reply every 10 ms until 300 ms.
  const delays = new Map<string, number>();
  const sim = new GossipSim({ seed: 95, config: NO_ADVERTISE, consumeDelayMs: (name) => delays.get(name) ?? 0 });
  const nodes = await sim.addNodes(30);
  nodes.forEach((n, i) => delays.set(n.name, i * 10));
  const pub = publishAll(nodes[0]!, nodes);
  assert.notEqual(await sim.clock.runUntil(() => pub.done, 2000, 1), -1);
  assert.equal(nodes[0]!.gossip.counters().repairs, 0, "nobody was advertised to while the stream ran");

  // The same stream with one node missed: repaired once the stream stalls, not at the first gap.
  const late = new GossipSim({ seed: 96, config: NO_ADVERTISE, consumeDelayMs: (name) => delays.get(name) ?? 0 });
  const lateNodes = await late.addNodes(30);
  delays.clear();
  lateNodes.forEach((n, i) => delays.set(n.name, i * 10));
  const missed = lateNodes[5]!;
  late.kill(missed.name);
  const pub2 = publishAll(lateNodes[0]!, lateNodes);
  await late.clock.advance(20);
  late.net.unsilence(missed.address);
  assert.notEqual(await late.clock.runUntil(() => pub2.done, 2000, 1), -1);
  assert.equal(late.consumedCount(missed.name, pub2.idHex), 1);
  assert.equal(lateNodes[0]!.gossip.counters().repairs, 1, "one advertisement, to the missed node, after the others had answered");
});

it("a node still running the batch is asked once, then left alone", async () => {
  const sim = new GossipSim({ seed: 93, consumeDelayMs: 5000 });
  const nodes = await sim.addNodes(10);
  const pub = publishAll(nodes[0]!, nodes);
  assert.notEqual(await sim.clock.runUntil(() => pub.done, 10_000, 10), -1);
  assert.equal(nodes[0]!.gossip.counters().repairs, 9, "one advertisement to each other node");
  assert.ok(sim.exactlyOnce(pub.idHex, sim.nodes.keys()));
});

it("a node that stays unreachable is asked again with a doubling delay, and gets the batch once it is back", async () => {
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
