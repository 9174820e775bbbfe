import { it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pb } from "../src/proto/index.js";
import { Channel, type TransportError } from "../src/net/transport.js";
import { encodeGossip } from "../src/gossip/codec.js";
import { createEnvelope, idToHex, type Envelope } from "../src/gossip/envelope.js";
import { GossipSim, type SimNode } from "./support/gossip_sim.js";

const BATCH = pb.EnvelopeKind.CHECK_BATCH;
const MB = 1_000_000;

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Pushes env from one node to another as a burst would; resolves with "ok" or the error text. */
async function push(sim: GossipSim, from: SimNode, to: SimNode, env: Envelope): Promise<string> {
  let outcome = "";
  from.transport.request(to.address, Channel.Gossip, encodeGossip({ kind: "push", envelope: env }), 1000).then(
    () => (outcome = "ok"),
    (e: TransportError) => (outcome = e.message),
  );
  assert.notEqual(await sim.clock.runUntil(() => outcome !== "", 1000, 1), -1);
  return outcome;
}

it("a 10 MB batch reaches every node intact and each runs it once", async () => {
  const hashes = new Map<string, string>();
  const sim = new GossipSim({ seed: 61, config: { gossipGroup: 2 }, onConsume: (n, env) => hashes.set(n.name, sha(env.payload)) });
  const nodes = await sim.addNodes(6);
  const payload = new Uint8Array(10 * MB);
  for (let i = 0; i < payload.length; i += 4096) payload[i] = i & 0xff;
  const res = nodes[0]!.gossip.publish(BATCH, payload, { expected: nodes.map((n) => n.name) });
  assert.ok(res.ok, res.ok ? "" : res.error);
  assert.notEqual(await sim.clock.runUntil(() => res.publication.done, 5000, 5), -1);
  assert.equal((await res.publication.finished).answered.length, 6);
  assert.ok(sim.exactlyOnce(res.publication.idHex, sim.nodes.keys()));
  assert.deepEqual(new Set(hashes.values()), new Set([sha(payload)]));
});

it("publishing an envelope above maxEnvelopeBytes is refused with the size and the limit", async () => {
  const sim = new GossipSim({ seed: 62, config: { maxEnvelopeBytes: 4096 } });
  const [a] = await sim.addNodes(2);
  const res = a!.gossip.publish(BATCH, new Uint8Array(5000));
  assert.equal(res.ok, false);
  assert.match(!res.ok ? res.error : "", /envelope of \d+ bytes exceeds the maximum of 4096 bytes \(maxEnvelopeBytes\)/);
  assert.equal(a!.gossip.counters().published, 0);
});

it("a peer whose frame limit is smaller refuses the push; the sender counts it and logs why", async () => {
  const warnings: string[] = [];
  const log = { debug() {}, info() {}, error() {}, warn: (_o: object, msg = "") => void warnings.push(msg) };
  const sim = new GossipSim({ seed: 63, net: { maxFrameBytes: 64 * 1024 }, logger: () => log });
  const [a] = await sim.addNodes(3);
  const res = a!.gossip.publish(BATCH, new Uint8Array(100 * 1024));
  assert.ok(res.ok);
  await sim.clock.advance(50);
  assert.equal(a!.gossip.counters().forwardFailed, 2);
  assert.ok(
    warnings.some((w) => /refused an envelope as too large/.test(w)),
    warnings.join("; "),
  );
});

it("an expired envelope is never consumed, whether pushed, pulled or expiring in transit", async () => {
  const sim = new GossipSim({ seed: 64, net: { latencyMs: 20 } });
  const [a, b, c] = await sim.addNodes(3);
  const stale = createEnvelope({ origin: a!.name, originAddress: a!.address, kind: BATCH, payload: new Uint8Array(1), ttlMs: 1000 }, sim.clock, sim.random);
  stale.createdMs -= 1001;
  assert.equal(await push(sim, a!, b!, stale), "ok", "dropped quietly, not an error");
  assert.equal(b!.gossip.counters().expiredDropped, 1);

  // 15 ms TTL, 20 ms per hop: live at the origin, dead on arrival elsewhere.
  const res = a!.gossip.publish(BATCH, new Uint8Array(1), { ttlMs: 15 });
  assert.ok(res.ok);
  await sim.clock.advance(2000);
  assert.deepEqual(sim.consumers(res.publication.idHex), [a!.name]);
  assert.deepEqual(sim.consumers(idToHex(stale.id)), []);
  assert.ok(b!.gossip.counters().expiredDropped + c!.gossip.counters().expiredDropped >= 3);
});

it("an envelope created further in the future than the tolerated skew is refused with a reason", async () => {
  const sim = new GossipSim({ seed: 65 });
  const [a, b] = await sim.addNodes(2);
  const future = createEnvelope({ origin: a!.name, originAddress: a!.address, kind: BATCH, payload: new Uint8Array(1), ttlMs: 1000 }, sim.clock, sim.random);
  future.createdMs += sim.config.maxClockSkewMs + 60_000;
  assert.match(await push(sim, a!, b!, future), /created \d+ ms in the future: check the clocks/);
  assert.equal(b!.gossip.counters().invalidDropped, 1);
  assert.equal(sim.consumedCount(b!.name, idToHex(future.id)), 0);
});
