import { it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { pb } from "../src/proto/index.js";
import { Channel, TransportError } from "../src/net/transport.js";
import { decodeGossip, decodeLiveIds, encodeGossip, encodeLiveIds, type GossipMessage } from "../src/gossip/codec.js";
import { envelopeProblem } from "../src/gossip/envelope.js";
import { localGossipConfig } from "../src/gossip/config.js";
import { batchPayload, GossipSim } from "./support/gossip_sim.js";

// FUZZ_RUNS=100000 for the long fuzz run; npm test uses a smaller count.
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const config = localGossipConfig();

const id = (n: number) => new Uint8Array(16).fill(n);
const env = {
  id: id(1),
  origin: "alpha",
  originAddress: "127.0.0.1:2000",
  createdMs: 1_700_000_000_000,
  ttlMs: 300_000,
  kind: pb.EnvelopeKind.CHECK_BATCH,
  payload: batchPayload(4),
  signature: new Uint8Array(64).fill(3),
  signerKey: new Uint8Array(32).fill(4),
};
const valid: Uint8Array[] = (
  [
    { kind: "push", envelope: env },
    { kind: "advertise", from: "beta", ids: [id(1), id(2), id(3)] },
    { kind: "advertise", from: "beta", ids: [], digest: { xor: id(7), count: 3 } },
    { kind: "advertise", from: "beta", ids: [], digest: { xor: id(7), count: 3 }, window: { createdUntilMs: 1_700_000_000_000, expiresAfterMs: 1_700_000_002_000 } },
    { kind: "live-ids" },
    { kind: "live-ids", window: { createdUntilMs: 1_700_000_000_000, expiresAfterMs: 1_700_000_002_000 } },
    { kind: "want", ids: [id(1)] },
    { kind: "deliver", envelopes: [env, { ...env, id: id(2) }] },
    { kind: "reply", reply: pb.NodeReply.create({ envelopeId: id(1), node: "beta", address: "b:1", checks: { results: [{ name: "c", status: 2, action: { command: "x" } }] } }) },
    { kind: "ok" },
  ] as GossipMessage[]
).map(encodeGossip);

/** Decodes without throwing, and whatever decodes is safe to inspect. */
function decodesSafely(bytes: Uint8Array): boolean {
  const d = decodeGossip(bytes);
  if (!d.ok) return typeof d.error === "string" && d.error.length > 0;
  const m = d.value;
  if (m.kind === "push") envelopeProblem(m.envelope, Date.now(), config);
  if (m.kind === "deliver") m.envelopes.forEach((e) => envelopeProblem(e, Date.now(), config));
  if ((m.kind === "advertise" || m.kind === "live-ids") && m.window && !(Number.isFinite(m.window.createdUntilMs) && Number.isFinite(m.window.expiresAfterMs))) return false;
  return typeof m.kind === "string";
}

/** A valid message with random damage: flipped bytes, a truncation, inserted garbage. */
const mutated = fc
  .record({
    which: fc.nat(valid.length - 1),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }),
    cut: fc.option(fc.nat()),
    insert: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 }))),
  })
  .map(({ which, flips, cut, insert }) => {
    let b = Uint8Array.from(valid[which]!);
    for (const [at, x] of flips) b[at % b.length]! ^= x;
    if (insert) {
      const at = insert[0] % (b.length + 1);
      b = Uint8Array.from([...b.subarray(0, at), ...insert[1], ...b.subarray(at)]);
    }
    if (cut !== null) b = b.subarray(0, cut % (b.length + 1));
    return b;
  });

it("random bytes never throw past decodeGossip", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), decodesSafely), { numRuns: RUNS, seed: 42 });
});

it("mutated valid gossip messages never throw past decodeGossip", () => {
  fc.assert(fc.property(mutated, decodesSafely), { numRuns: RUNS, seed: 43 });
});

it("random and mutated push-pull state never throws past decodeLiveIds", () => {
  const good = encodeLiveIds([id(1), id(2)]);
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 128 }),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
      const b = Uint8Array.from(good);
      b[at % b.length]! ^= x;
      return b;
    }),
  );
  fc.assert(
    fc.property(input, (b) => typeof decodeLiveIds(b).ok === "boolean"),
    { numRuns: RUNS, seed: 44 },
  );
});

it("a node fed garbage on the gossip channel answers with an error, counts it, and keeps disseminating", async () => {
  const sim = new GossipSim({ seed: 21 });
  const [a, b] = await sim.addNodes(2);
  const inputs = fc.sample(fc.oneof(fc.uint8Array({ maxLength: 128 }), mutated), { numRuns: 200, seed: 45 });
  let refused = 0;
  for (const bytes of inputs) {
    const p = a!.transport.request(b!.address, Channel.Gossip, bytes, 1000).then(
      () => "answered",
      (err: unknown) => (err instanceof TransportError && err.code === "remote" ? "refused" : `other: ${String(err)}`),
    );
    let outcome = "";
    void p.then((o) => (outcome = o));
    assert.notEqual(await sim.clock.runUntil(() => outcome !== "", 2000, 1), -1);
    assert.ok(outcome === "answered" || outcome === "refused", outcome);
    if (outcome === "refused") refused++;
  }
  assert.ok(refused > 0);
  assert.ok(b!.gossip.counters().decodeErrors + b!.gossip.counters().invalidDropped >= refused);

  const res = a!.gossip.publish(pb.EnvelopeKind.CHECK_BATCH, batchPayload(), { expected: [a!.name, b!.name] });
  assert.ok(res.ok);
  assert.notEqual(await sim.clock.runUntil(() => res.publication.done, 2000, 5), -1);
  assert.equal((await res.publication.finished).reason, "complete");
});
