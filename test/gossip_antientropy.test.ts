import { it } from "node:test";
import assert from "node:assert/strict";
import { pb } from "../src/proto/index.js";
import type { Publication } from "../src/gossip/publication.js";
import { liveDigest } from "../src/gossip/anti_entropy.js";
import { encodeGossip } from "../src/gossip/codec.js";
import { Channel } from "../src/net/transport.js";
import { batchPayload, GossipSim, type SimNode } from "./support/gossip_sim.js";

const BATCH = pb.EnvelopeKind.CHECK_BATCH;

function publish(origin: SimNode, opts: { ttlMs?: number; expected?: string[]; payload?: Uint8Array } = {}): Publication {
  const res = origin.gossip.publish(BATCH, opts.payload ?? batchPayload(), opts);
  assert.ok(res.ok, res.ok ? "" : res.error);
  return res.publication;
}

function total(sim: GossipSim, key: "served" | "wanted" | "advertisements" | "advertisedIds" | "digestMatches" | "digestMismatches" | "liveIdsServed"): number {
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

it("a converged cluster advertises a digest of its live set, less and less often: no IDs cross the wire and nothing is asked for", async () => {
  const sim = new GossipSim({ seed: 47 });
  const nodes = await sim.addNodes(10);
  const pubs = Array.from({ length: 200 }, (_, i) => publish(nodes[i % nodes.length]!, { ttlMs: 120_000 }));
  assert.notEqual(await sim.clock.runUntil(() => pubs.every((p) => sim.consumers(p.idHex).length === 10), 5000, 10), -1);
  await sim.clock.advance(2000); // the directed repairs and any anti-entropy of the burst are over
  const before = { ads: total(sim, "advertisements"), ids: total(sim, "advertisedIds"), wanted: total(sim, "wanted"), matches: total(sim, "digestMatches"), lists: total(sim, "liveIdsServed") };
  const windowMs = 20_000;
  await sim.clock.advance(windowMs);
  const ads = total(sim, "advertisements") - before.ads;
  const { advertiseIntervalMs, advertiseIdleMaxMs, advertiseJitter, advertiseFanout } = sim.config;
  assert.ok(ads > 0, "nodes kept advertising while 200 envelopes were live");
  // At the base interval it would be 10 nodes x fanout x (window / interval); backed off, each node sends a round per idle maximum at most (plus the last doubling steps).
  const atBase = (10 * advertiseFanout * windowMs) / advertiseIntervalMs;
  const backedOff = 10 * advertiseFanout * (windowMs / (advertiseIdleMaxMs * (1 - advertiseJitter)) + 2);
  assert.ok(ads <= backedOff, `${ads} advertisements in ${windowMs} ms: the interval did not back off (at most ${backedOff}; ${atBase} at the base interval)`);
  assert.equal(total(sim, "advertisedIds") - before.ids, 0, "no ID lists were sent");
  assert.equal(total(sim, "liveIdsServed") - before.lists, 0, "nobody asked for a list");
  assert.equal(total(sim, "wanted") - before.wanted, 0);
  assert.equal(total(sim, "digestMatches") - before.matches, ads, "every advertisement matched its receiver's set");
});

it("after a long quiet spell a new batch brings advertising back to the base interval: a node the burst missed has it within a couple of intervals", async () => {
  const sim = new GossipSim({ seed: 49, config: { repairAfterMs: 600_000 } });
  const nodes = await sim.addNodes(20);
  const old = publish(nodes[3]!, { ttlMs: 600_000 });
  assert.notEqual(await sim.clock.runUntil(() => sim.consumers(old.idHex).length === 20, 1000, 5), -1);
  await sim.clock.advance(60_000); // every node is at the idle maximum now
  const missed = nodes[7]!;
  sim.kill(missed.name);
  const pub = publish(nodes[0]!, { ttlMs: 600_000 });
  assert.notEqual(await sim.clock.runUntil(() => sim.consumers(pub.idHex).length === 19, 1000, 5), -1);
  sim.net.unsilence(missed.address);
  const interval = sim.config.advertiseIntervalMs * (1 + sim.config.advertiseJitter);
  const took = await sim.clock.runUntil(() => sim.consumedCount(missed.name, pub.idHex) === 1, 30_000, 5);
  assert.notEqual(took, -1, "the missed node never got the batch");
  assert.ok(took <= 3 * interval, `took ${took} ms of virtual time, more than three base advertise intervals (${3 * interval} ms)`);
});

it("a node that missed envelopes while the cluster advertised digests asks for the IDs once and fetches only what it lacks", async () => {
  const sim = new GossipSim({ seed: 48 });
  const nodes = await sim.addNodes(8);
  const early = Array.from({ length: 20 }, () => publish(nodes[1]!, { ttlMs: 120_000 }));
  assert.notEqual(await sim.clock.runUntil(() => early.every((p) => sim.consumers(p.idHex).length === 8), 2000, 5), -1);
  const missed = nodes[5]!;
  sim.kill(missed.name);
  const late = Array.from({ length: 3 }, () => publish(nodes[2]!, { ttlMs: 120_000 }));
  assert.notEqual(await sim.clock.runUntil(() => late.every((p) => sim.consumers(p.idHex).length === 7), 1000, 5), -1);
  await sim.clock.advance(3000);
  sim.net.unsilence(missed.address);
  const wantedBefore = missed.gossip.counters().wanted;
  assert.notEqual(await sim.clock.runUntil(() => late.every((p) => sim.consumedCount(missed.name, p.idHex) === 1), 10_000, 5), -1, "the missed node never got the late envelopes");
  assert.ok(missed.gossip.counters().digestMismatches >= 1);
  assert.equal(missed.gossip.counters().wanted - wantedBefore, 3, "it fetched the 3 it lacked, not the 20 it had");
  assert.ok(early.every((p) => sim.consumedCount(missed.name, p.idHex) === 1));
});

it("under a steady stream of batches the digests still agree: envelopes spreading by burst or about to expire are outside the window", async (t) => {
  const sim = new GossipSim({ seed: 51 });
  const nodes = await sim.addNodes(10);
  const pubs: Publication[] = [];
  // 50 batches a second for 10 s of virtual time, each live for 3 s: the live set turns over all the time, at both ends.
  for (let i = 0; i < 500; i++) {
    pubs.push(publish(nodes[i % nodes.length]!, { ttlMs: 3000 }));
    await sim.clock.advance(20);
  }
  const matches = total(sim, "digestMatches");
  const mismatches = total(sim, "digestMismatches");
  assert.ok(matches > 50, `${matches} digests compared`);
  t.diagnostic(`${mismatches} of ${matches + mismatches} digests differed`);
  assert.ok(mismatches <= matches / 100, `${mismatches} of ${matches + mismatches} digests differed, though every node held the same settled envelopes`);
  assert.notEqual(await sim.clock.runUntil(() => pubs.every((p) => sim.consumers(p.idHex).length === 10), 5000, 10), -1, "every node consumed every batch");
});

it("a digest without a window (a node from before windows) is compared with the whole live set", async () => {
  const sim = new GossipSim({ seed: 52 });
  const [a, b] = await sim.addNodes(2);
  const pubs = Array.from({ length: 3 }, () => publish(a!, { ttlMs: 120_000 }));
  assert.notEqual(await sim.clock.runUntil(() => pubs.every((p) => sim.consumers(p.idHex).length === 2), 1000, 5), -1);
  const before = b!.gossip.counters().digestMatches;
  const whole = encodeGossip({ kind: "advertise", from: a!.name, ids: [], digest: liveDigest(pubs.map((p) => p.envelope.id)) });
  await a!.transport.sendAll([b!.address], Channel.Gossip, whole)[0]!.catch(() => undefined);
  await sim.clock.advance(10);
  assert.equal(b!.gossip.counters().digestMatches - before, 1);
});

it("the live-set digest ignores order and tells sets apart", () => {
  const id = (b: number) => new Uint8Array(16).fill(b).map((x, i) => (x * 31 + i * 7) & 0xff);
  const [a, b, c] = [id(1), id(2), id(3)];
  assert.deepEqual(liveDigest([a, b, c]), liveDigest([c, a, b]));
  assert.notDeepEqual(liveDigest([a, b]), liveDigest([a, b, c]));
  assert.notDeepEqual(liveDigest([a, b]), liveDigest([a, c]));
  assert.deepEqual(liveDigest([]), { xor: new Uint8Array(16), count: 0 });
});

it("a flood of advertisements with malformed digests costs one list request at a time, and the node keeps working", async () => {
  const sim = new GossipSim({ seed: 50 });
  const [a, b] = await sim.addNodes(2);
  const pub = publish(a!, { ttlMs: 120_000 });
  assert.notEqual(await sim.clock.runUntil(() => sim.consumers(pub.idHex).length === 2, 1000, 5), -1);
  const servedBefore = a!.gossip.counters().liveIdsServed;
  // A 3-byte digest and an absurd count: never equal to b's own, so each one is a mismatch.
  const bogus = encodeGossip({ kind: "advertise", from: a!.name, ids: [], digest: { xor: new Uint8Array([1, 2, 3]), count: 4_000_000_000 } });
  for (let i = 0; i < 50; i++) void a!.transport.sendAll([b!.address], Channel.Gossip, bogus)[0]!.catch(() => undefined);
  await sim.clock.advance(50);
  assert.equal(b!.gossip.counters().digestMismatches, 50);
  assert.equal(a!.gossip.counters().liveIdsServed - servedBefore, 1, "one list request in flight per peer, however many advertisements arrive");
  assert.equal(b!.gossip.counters().decodeErrors, 0);
  const next = publish(a!, { ttlMs: 120_000 });
  assert.notEqual(await sim.clock.runUntil(() => sim.consumers(next.idHex).length === 2, 1000, 5), -1, "dissemination still works");
});
