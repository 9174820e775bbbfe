import { it } from "node:test";
import assert from "node:assert/strict";
import { pb } from "../src/proto/index.js";
import type { Publication } from "../src/gossip/publication.js";
import { batchPayload, GossipSim, type SimNode } from "./support/gossip_sim.js";

const BATCH = pb.EnvelopeKind.CHECK_BATCH;

function publish(origin: SimNode, opts: { ttlMs?: number; expected?: string[]; payload?: Uint8Array } = {}): Publication {
  const res = origin.gossip.publish(BATCH, opts.payload ?? batchPayload(), opts);
  assert.ok(res.ok, res.ok ? "" : res.error);
  return res.publication;
}

function total(sim: GossipSim, key: "served" | "wanted" | "advertisements"): number {
  return [...sim.nodes.values()].reduce((s, n) => s + n.gossip.counters()[key], 0);
}

it("a node the burst missed has the batch within a couple of advertise intervals", async () => {
  const sim = new GossipSim({ seed: 41 });
  const nodes = await sim.addNodes(20);
  const missed = nodes[7]!;
  sim.kill(missed.name); // unreachable for the whole burst
  const pub = publish(nodes[0]!);
  assert.notEqual(await sim.clock.runUntil(() => sim.consumers(pub.idHex).length === 19, 1000, 5), -1);
  assert.equal(sim.consumedCount(missed.name, pub.idHex), 0);

  sim.net.unsilence(missed.address);
  const interval = sim.config.advertiseIntervalMs * (1 + sim.config.advertiseJitter);
  const took = await sim.clock.runUntil(() => sim.consumedCount(missed.name, pub.idHex) === 1, 10_000, 5);
  assert.notEqual(took, -1, "the missed node never got the batch");
  assert.ok(took <= 2 * interval, `took ${took} ms of virtual time, more than two advertise intervals (${2 * interval} ms)`);
});

it("a late joiner inside the TTL consumes the batch through push-pull, and once", async () => {
  const sim = new GossipSim({ seed: 42 });
  const nodes = await sim.addNodes(10);
  const pub = publish(nodes[0]!, { ttlMs: 60_000 });
  await sim.clock.advance(10_000);
  const late = await sim.addNode("late", { pushPull: true });
  // Push-pull alone (no advertise round needed): a few ms of latency.
  assert.notEqual(await sim.clock.runUntil(() => sim.consumedCount("late", pub.idHex) === 1, 20, 1), -1);
  assert.notEqual(await sim.clock.runUntil(() => pub.hasAnswered("late"), 20, 1), -1, "its reply reached the origin");
  await sim.clock.advance(3000);
  assert.equal(sim.consumedCount("late", pub.idHex), 1);
  assert.ok(late.gossip.counters().wanted >= 1);
});

it("a late joiner without push-pull gets the batch from advertisements", async () => {
  const sim = new GossipSim({ seed: 43 });
  const nodes = await sim.addNodes(10);
  const pub = publish(nodes[0]!, { ttlMs: 60_000 });
  await sim.clock.advance(10_000);
  await sim.addNode("late", { pushPull: false });
  assert.notEqual(await sim.clock.runUntil(() => sim.consumedCount("late", pub.idHex) === 1, 2000, 5), -1);
});

it("a node joining after the TTL never consumes the batch, and idle nodes stop advertising", async () => {
  const sim = new GossipSim({ seed: 44 });
  const nodes = await sim.addNodes(10);
  const pub = publish(nodes[0]!, { ttlMs: 5_000 });
  assert.notEqual(await sim.clock.runUntil(() => sim.consumers(pub.idHex).length === 10, 1000, 5), -1);
  await sim.clock.advance(5_001);
  const late = await sim.addNode("late", { pushPull: true });
  const adsBefore = total(sim, "advertisements");
  await sim.clock.advance(5_000);
  assert.equal(sim.consumedCount("late", pub.idHex), 0);
  assert.equal(late.gossip.counters().received, 0);
  assert.equal(total(sim, "advertisements"), adsBefore, "nothing is live, so nothing is advertised");
});

it("envelopes that do not fit in one Deliver frame arrive over several Wants", async () => {
  const sim = new GossipSim({ seed: 45, config: { maxEnvelopeBytes: 2500 } });
  const nodes = await sim.addNodes(3);
  const pubs = Array.from({ length: 5 }, (_, i) => publish(nodes[0]!, { payload: new Uint8Array(1000).fill(i) }));
  await sim.clock.advance(50);
  const late = await sim.addNode("late");
  late.gossip.mergeRemoteState(nodes[1]!.gossip.localState(true), true, nodes[1]!.address);
  assert.notEqual(await sim.clock.runUntil(() => pubs.every((p) => sim.consumedCount("late", p.idHex) === 1), 50, 1), -1);
  assert.ok(nodes[1]!.gossip.counters().served === 5);
});

it("offers of the same batch from several peers at once lead to one fetch", async () => {
  const sim = new GossipSim({ seed: 46 });
  const nodes = await sim.addNodes(6);
  const pub = publish(nodes[0]!);
  await sim.clock.advance(50);
  const late = await sim.addNode("late");
  const servedBefore = total(sim, "served");
  for (const peer of nodes.slice(1, 5)) late.gossip.mergeRemoteState(peer.gossip.localState(false), false, peer.address);
  assert.notEqual(await sim.clock.runUntil(() => sim.consumedCount("late", pub.idHex) === 1, 50, 1), -1);
  assert.equal(total(sim, "served") - servedBefore, 1, "only one peer sent it");
  assert.equal(late.gossip.counters().wanted, 1);
});
