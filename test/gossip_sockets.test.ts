import { after, it } from "node:test";
import assert from "node:assert/strict";
import { pb } from "../src/proto/index.js";
import { systemClock } from "../src/base/clock.js";
import { systemRandom } from "../src/base/random.js";
import { NodeTransport } from "../src/net/node_transport.js";
import { generateKey, Keyring } from "../src/net/keyring.js";
import { localGossipConfig } from "../src/gossip/config.js";
import { Disseminator } from "../src/gossip/disseminator.js";
import { idToHex } from "../src/gossip/envelope.js";
import { TestRoster } from "./support/gossip_membership.js";

/**
 * The same Disseminator on real TCP (NodeTransport on loopback, real clock):
 * what the simulations prove must also hold over sockets and pooled
 * connections.
 */
const started: { gossip: Disseminator; transport: NodeTransport }[] = [];
after(async () => {
  for (const s of started) {
    await s.gossip.stop();
    await s.transport.close();
  }
});

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

it("five daemons on loopback: a 10 MB batch and twenty small ones each run once everywhere, over pooled connections", async () => {
  const roster = new TestRoster(systemClock);
  const consumed = new Map<string, number>(); // "node/id" -> count
  const nodes: { name: string; gossip: Disseminator; transport: NodeTransport }[] = [];
  for (let i = 0; i < 5; i++) {
    const transport = await NodeTransport.listen({ bindHost: "127.0.0.1", port: 0 });
    const name = `real-${i}`;
    const membership = roster.join(name, transport.address);
    const gossip = new Disseminator({ membership, transport, clock: systemClock, random: systemRandom, config: localGossipConfig() });
    gossip.onEnvelope(pb.EnvelopeKind.CHECK_BATCH, async (env) => {
      const key = `${name}/${idToHex(env.id)}`;
      consumed.set(key, (consumed.get(key) ?? 0) + 1);
      return { checks: { results: [{ name: "size", status: pb.CheckStatus.PASS, message: String(env.payload.length) }] } };
    });
    await gossip.start();
    started.push({ gossip, transport });
    nodes.push({ name, gossip, transport });
  }
  const names = nodes.map((n) => n.name);

  const big = new Uint8Array(10_000_000).fill(7);
  const res = nodes[0]!.gossip.publish(pb.EnvelopeKind.CHECK_BATCH, big, { expected: names });
  assert.ok(res.ok, res.ok ? "" : res.error);
  const done = await res.publication.finished;
  assert.equal(done.reason, "complete");
  assert.equal(done.answered.length, 5);

  const small = [];
  for (let i = 0; i < 20; i++) {
    const r = nodes[i % 5]!.gossip.publish(pb.EnvelopeKind.CHECK_BATCH, new Uint8Array([i]), { expected: names });
    assert.ok(r.ok);
    small.push(r.publication);
  }
  for (const p of small) assert.equal((await p.finished).reason, "complete");

  const ids = [res.publication.idHex, ...small.map((p) => p.idHex)];
  await waitFor(() => ids.every((id) => names.every((n) => consumed.get(`${n}/${id}`) === 1)), "every node to run every batch");
  assert.ok(
    [...consumed.values()].every((c) => c === 1),
    "nothing ran twice",
  );
  const relayed = nodes.reduce((sum, n) => sum + n.transport.counters().relayed!, 0);
  assert.ok(relayed > 0, "pushes were passed on as the bytes received");
  for (const n of nodes) {
    const opened = n.transport.counters().connectionsOpened!;
    assert.ok(opened >= 1 && opened <= 4, `${n.name} opened ${opened} connections for 21 batches to 4 peers`);
  }
});

it("on real sockets, a node's replies to batches of one ack round are acknowledged by one frame", async () => {
  const roster = new TestRoster(systemClock);
  const nodes: { name: string; gossip: Disseminator; transport: NodeTransport }[] = [];
  for (let i = 0; i < 3; i++) {
    const transport = await NodeTransport.listen({ bindHost: "127.0.0.1", port: 0 });
    const name = `acks-${i}`;
    // A long round, so that the five replies of each node surely fall in one.
    const config = { ...localGossipConfig(), replyAckDelayMs: 2000, requestTimeoutMs: 20_000 };
    const gossip = new Disseminator({ membership: roster.join(name, transport.address), transport, clock: systemClock, random: systemRandom, config });
    gossip.onEnvelope(pb.EnvelopeKind.CHECK_BATCH, async () => ({ checks: { results: [] } }));
    await gossip.start();
    started.push({ gossip, transport });
    nodes.push({ name, gossip, transport });
  }
  const names = nodes.map((n) => n.name);
  const pubs = Array.from({ length: 5 }, (_, i) => {
    const r = nodes[0]!.gossip.publish(pb.EnvelopeKind.CHECK_BATCH, new Uint8Array([i]), { expected: names });
    assert.ok(r.ok);
    return r.publication;
  });
  for (const p of pubs) assert.equal((await p.finished).reason, "complete");
  await waitFor(() => nodes.slice(1).every((n) => n.gossip.counters().repliesAcked === 5), "every reply acknowledged", 15_000);
  const origin = nodes[0]!.transport.counters();
  assert.ok(origin.coalescedReplies! > 0, `replies of one round shared a frame (coalesced ${origin.coalescedReplies})`);
  for (const n of nodes.slice(1)) assert.equal(n.gossip.counters().repliesRetried, 0);
});

it("with a cluster key, pushes are relayed as sealed at the origin and open everywhere; a node whose primary key differs seals afresh", async () => {
  const roster = new TestRoster(systemClock);
  const [k1, k2] = [generateKey(), generateKey()];
  const consumed = new Map<string, number>();
  const nodes: { name: string; gossip: Disseminator; transport: NodeTransport }[] = [];
  for (let i = 0; i < 5; i++) {
    // Node 4 is mid-rotation: it already seals with k2, and still opens k1.
    const keyring = i === 4 ? new Keyring([k2, k1]) : new Keyring([k1, k2]);
    const transport = await NodeTransport.listen({ bindHost: "127.0.0.1", port: 0, keyring });
    const name = `sealed-${i}`;
    const gossip = new Disseminator({ membership: roster.join(name, transport.address), transport, clock: systemClock, random: systemRandom, config: localGossipConfig() });
    gossip.onEnvelope(pb.EnvelopeKind.CHECK_BATCH, async (env) => {
      consumed.set(`${name}/${idToHex(env.id)}`, (consumed.get(`${name}/${idToHex(env.id)}`) ?? 0) + 1);
      return { checks: { results: [] } };
    });
    await gossip.start();
    started.push({ gossip, transport });
    nodes.push({ name, gossip, transport });
  }
  const names = nodes.map((n) => n.name);
  const pubs = Array.from({ length: 5 }, (_, i) => {
    const r = nodes[i]!.gossip.publish(pb.EnvelopeKind.CHECK_BATCH, new Uint8Array(50_000).fill(i), { expected: names });
    assert.ok(r.ok);
    return r.publication;
  });
  for (const p of pubs) assert.equal((await p.finished).reason, "complete");
  await waitFor(() => [...consumed.values()].length === 25, "every node to run every batch");
  assert.ok([...consumed.values()].every((c) => c === 1));
  const c = nodes.map((n) => n.transport.counters());
  assert.ok(c.slice(0, 4).reduce((sum, x) => sum + x.relayed!, 0) > 0, "nodes sealing with k1 relayed k1-sealed pushes");
  assert.equal(c[4]!.relayed, 0, "the node sealing with k2 opened every push with its second key, so it sealed its own");
  assert.equal(
    c.reduce((sum, x) => sum + x.decryptFailures!, 0),
    0,
  );
});
