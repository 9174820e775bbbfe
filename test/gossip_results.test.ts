import { it } from "node:test";
import assert from "node:assert/strict";
import { pb } from "../src/proto/index.js";
import { Channel } from "../src/net/transport.js";
import { decodeGossip, encodeGossip } from "../src/gossip/codec.js";
import type { Publication, PublishEvent } from "../src/gossip/publication.js";
import { batchPayload, GossipSim, type SimNode } from "./support/gossip_sim.js";

function publish(origin: SimNode, expected?: string[], ttlMs?: number): Publication {
  const res = origin.gossip.publish(pb.EnvelopeKind.CHECK_BATCH, batchPayload(), { expected, ttlMs });
  assert.ok(res.ok, res.ok ? "" : res.error);
  return res.publication;
}

async function until(sim: GossipSim, cond: () => boolean, what: string, maxMs = 5000, stepMs = 5): Promise<void> {
  assert.notEqual(await sim.clock.runUntil(cond, maxMs, stepMs), -1, `timed out waiting for ${what}`);
}

async function eventsOf(pub: Publication): Promise<PublishEvent[]> {
  const out: PublishEvent[] = [];
  for await (const e of pub.events()) out.push(e);
  return out;
}

/** Sends a gossip message from one sim node to another and lets the clock run until it is answered. */
async function send(sim: GossipSim, from: SimNode, to: SimNode, body: Uint8Array): Promise<string> {
  let outcome = "";
  from.transport.request(to.address, Channel.Gossip, body, 1000).then(
    (r) => (outcome = decodeGossip(r).ok ? "answered" : "garbage"),
    (e: Error) => (outcome = `failed: ${e.message}`),
  );
  await until(sim, () => outcome !== "", "an answer");
  return outcome;
}

it("the event stream is: expected set, one reply per node, done (a late subscriber sees it all)", async () => {
  const sim = new GossipSim({ seed: 51 });
  const nodes = await sim.addNodes(5);
  const names = nodes.map((n) => n.name);
  const pub = publish(nodes[0]!, names);
  await until(sim, () => pub.done, "done");
  const events = await eventsOf(pub);
  assert.deepEqual(events[0], { type: "expected", id: pub.idHex, nodes: names });
  assert.deepEqual(
    events
      .slice(1, -1)
      .map((e) => (e.type === "reply" ? e.node : e.type))
      .sort(),
    names.slice().sort(),
  );
  assert.ok(events.slice(1, -1).every((e) => e.type === "reply" && e.expected));
  const done = events.at(-1)!;
  assert.equal(done.type, "done");
  assert.equal(done.type === "done" && done.reason, "complete");
});

it("a node's second reply is acknowledged and dropped; so is a reply for an unknown envelope", async () => {
  const sim = new GossipSim({ seed: 52 });
  const [o, a, b] = await sim.addNodes(3);
  const pub = publish(o!, [o!.name, a!.name, b!.name, "ghost-is-not-a-member"]);
  await until(sim, () => pub.hasAnswered(a!.name) && pub.hasAnswered(b!.name), "replies");
  const dup = pb.NodeReply.create({ envelopeId: pub.envelope.id, node: a!.name, address: a!.address, rejected: "forged second answer" });
  assert.equal(await send(sim, b!, o!, encodeGossip({ kind: "reply", reply: dup })), "answered");
  const unknown = pb.NodeReply.create({ envelopeId: new Uint8Array(16).fill(9), node: b!.name, rejected: "x" });
  assert.equal(await send(sim, b!, o!, encodeGossip({ kind: "reply", reply: unknown })), "answered");
  assert.equal(o!.gossip.counters().repliesDropped, 2);
  const events = await eventsOf(pub);
  assert.equal(events.filter((e) => e.type === "reply" && e.node === a!.name).length, 1);
  assert.ok(events.some((e) => e.type === "unreachable" && e.node === "ghost-is-not-a-member" && e.reason === "not a member"));
});

it("replies from unexpected nodes stop being recorded at the per-envelope limit; expected ones still count", async () => {
  // Slow consumers keep the publication open while the forged replies arrive.
  const sim = new GossipSim({ seed: 53, config: { maxRepliesPerEnvelope: 3 }, consumeDelayMs: 60_000 });
  const [o, a, b] = await sim.addNodes(3);
  const pub = publish(o!, [o!.name, a!.name, b!.name]);
  for (let i = 0; i < 5; i++) {
    const forged = pb.NodeReply.create({ envelopeId: pub.envelope.id, node: `invented-${i}`, rejected: "flood" });
    assert.equal(await send(sim, a!, o!, encodeGossip({ kind: "reply", reply: forged })), "answered");
  }
  assert.equal(pub.replyCount, 3, "three invented names fill the limit of 3");
  assert.equal(o!.gossip.counters().repliesDropped, 2);
  const expected = pb.NodeReply.create({ envelopeId: pub.envelope.id, node: b!.name, rejected: "expected, past the limit" });
  assert.equal(await send(sim, a!, o!, encodeGossip({ kind: "reply", reply: expected })), "answered");
  assert.ok(pub.hasAnswered(b!.name), "an expected node is recorded past the limit");
  assert.ok(!pub.done);
});

it("expected nodes that fail or leave before answering are reported unreachable, and done follows", async () => {
  const sim = new GossipSim({ seed: 53 });
  const [o, a, b, c] = await sim.addNodes(4);
  sim.kill(b!.name);
  sim.kill(c!.name);
  const pub = publish(o!, [o!.name, a!.name, b!.name, c!.name]);
  await until(sim, () => pub.hasAnswered(a!.name), "a's reply");
  await sim.clock.advance(1000);
  assert.equal(pub.done, false);
  sim.roster.fail(b!.name);
  assert.equal(pub.done, false);
  sim.roster.leave(c!.name);
  const done = await pub.finished;
  assert.equal(done.reason, "complete");
  const unreachable = (await eventsOf(pub)).filter((e) => e.type === "unreachable");
  assert.deepEqual(unreachable, [
    { type: "unreachable", node: b!.name, reason: "failed" },
    { type: "unreachable", node: c!.name, reason: "left" },
  ]);
});

it("a publication ends at expiry naming the missing nodes, and on cancel; later replies are dropped", async () => {
  const sim = new GossipSim({ seed: 54 });
  const [o, a, b] = await sim.addNodes(3);
  sim.kill(b!.name);
  const expiring = publish(o!, [a!.name, b!.name], 2000);
  await sim.clock.advance(2001);
  const done = await expiring.finished;
  assert.equal(done.reason, "expired");
  assert.deepEqual(done.missing, [b!.name]);

  const cancelled = publish(o!, [a!.name, b!.name]);
  cancelled.cancel();
  assert.equal((await cancelled.finished).reason, "cancelled");
  const dropped = o!.gossip.counters().repliesDropped;
  await until(sim, () => o!.gossip.counters().repliesDropped > dropped, "a's reply to the cancelled publication");
  assert.equal(cancelled.hasAnswered(a!.name), false);
});

it("a reply that cannot reach the origin is retried with backoff, not in a hot loop, until it gets through", async () => {
  const sim = new GossipSim({ seed: 55 });
  const [o, a] = await sim.addNodes(2);
  const pub = publish(o!, [a!.name]);
  await until(sim, () => sim.consumedCount(a!.name, pub.idHex) === 1, "a to run the batch", 50, 1);
  sim.net.partition([o!.address], [a!.address]);
  await sim.clock.advance(3000);
  const attempts = a!.gossip.counters().repliesSent + a!.gossip.counters().repliesRetried;
  // Schedule 50, 100, 200, 500, 500... (+-25%) ms: at most about 9 attempts in 3 s.
  assert.ok(attempts >= 4 && attempts <= 10, `${attempts} attempts in 3 s`);
  assert.equal(pub.done, false);
  sim.net.heal();
  await until(sim, () => pub.done && a!.gossip.counters().repliesAcked === 1, "the reply after the partition heals", 2000);
});

it("replies pause while the origin is declared dead and resume when it comes back", async () => {
  const sim = new GossipSim({ seed: 56 });
  const [o, a] = await sim.addNodes(2);
  const pub = publish(o!, [a!.name]);
  await until(sim, () => sim.consumedCount(a!.name, pub.idHex) === 1, "a to run the batch", 50, 1);
  sim.kill(o!.name);
  await sim.clock.advance(500);
  sim.roster.fail(o!.name);
  await sim.clock.advance(1000); // let an attempt notice the verdict
  const attempts = () => a!.gossip.counters().repliesSent + a!.gossip.counters().repliesRetried;
  const parked = attempts();
  await sim.clock.advance(10_000);
  assert.equal(attempts(), parked, "no attempts while the origin is dead");

  sim.net.unsilence(o!.address);
  sim.roster.revive(o!.name);
  await until(sim, () => pub.done, "the reply once the origin is back", 100);
  assert.equal((await pub.finished).reason, "complete");
});

it("a reply is abandoned when its envelope expires, after which nothing more is sent", async () => {
  const sim = new GossipSim({ seed: 57 });
  const [o, a] = await sim.addNodes(2);
  const pub = publish(o!, [a!.name], 3000);
  await until(sim, () => sim.consumedCount(a!.name, pub.idHex) === 1, "a to run the batch", 50, 1);
  sim.kill(o!.name); // silent, but never declared dead
  await sim.clock.advance(4000);
  assert.equal(a!.gossip.counters().repliesAbandoned, 1);
  const requests = a!.transport.counters().requestsOut;
  await sim.clock.advance(10_000);
  assert.equal(a!.transport.counters().requestsOut, requests);
});

it("the origin records replies at once and acknowledges them in rounds: every ack of a round at its end, replyAckDelayMs after its first reply", async () => {
  const sim = new GossipSim({ seed: 57, config: { replyAckDelayMs: 300 } });
  const [o, a, b] = await sim.addNodes(3);
  const names = [o!.name, a!.name, b!.name];
  const start = sim.clock.now();
  const pubs = [publish(o!, names), publish(o!, names), publish(o!, names)];
  await until(sim, () => pubs.every((p) => p.done), "three batches done");
  const doneAt = sim.clock.now() - start;
  assert.ok(doneAt < 300, `done after ${doneAt} ms, before the round ends`);
  for (const n of [a!, b!]) {
    assert.equal(n.gossip.counters().repliesSent, 3);
    assert.equal(n.gossip.counters().repliesAcked, 0, `${n.name}: nothing acknowledged before the round ends`);
  }
  await until(sim, () => [a!, b!].every((n) => n.gossip.counters().repliesAcked === 3), "all six acknowledgements");
  const ackedAt = sim.clock.now() - start;
  assert.ok(ackedAt >= 300 && ackedAt < 300 + 100, `acknowledged after ${ackedAt} ms`);
  for (const n of [a!, b!]) assert.equal(n.gossip.counters().repliesRetried, 0);
});

it("a stopping origin releases the acknowledgements its round still holds", async () => {
  const sim = new GossipSim({ seed: 58, config: { replyAckDelayMs: 60_000 } });
  const [o, a] = await sim.addNodes(2);
  const pub = publish(o!, [o!.name, a!.name]);
  await until(sim, () => pub.done, "done");
  assert.equal(a!.gossip.counters().repliesAcked, 0);
  await o!.gossip.stop();
  await until(sim, () => a!.gossip.counters().repliesAcked === 1, "the acknowledgement released on stop", 1000);
});
