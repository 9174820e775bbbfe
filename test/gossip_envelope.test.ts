import { it } from "node:test";
import assert from "node:assert/strict";
import { pb, PROTOCOL_VERSION } from "../src/proto/index.js";
import { VirtualClock } from "../src/base/clock.js";
import { SeededRandom } from "../src/base/random.js";
import { decodeGossip, decodeLiveIds, encodeGossip, encodeLiveIds, type GossipMessage } from "../src/gossip/codec.js";
import { localGossipConfig } from "../src/gossip/config.js";
import { createEnvelope, envelopeProblem, hexToId, idToHex, isExpired, type Envelope } from "../src/gossip/envelope.js";

const clock = new VirtualClock(1_700_000_000_000);

function sample(ttlMs = 60_000): Envelope {
  return createEnvelope({ origin: "alpha", originAddress: "127.0.0.1:2000", kind: pb.EnvelopeKind.CHECK_BATCH, payload: new Uint8Array([1, 2, 3]), ttlMs }, clock, new SeededRandom(5));
}

it("a new envelope has a 128-bit ID from the injected Random, the clock's time, and its TTL", () => {
  const a = sample();
  const b = createEnvelope({ origin: "alpha", originAddress: "x:1", kind: 1, payload: new Uint8Array(), ttlMs: 1 }, clock, new SeededRandom(5));
  const c = createEnvelope({ origin: "alpha", originAddress: "x:1", kind: 1, payload: new Uint8Array(), ttlMs: 1 }, clock, new SeededRandom(6));
  assert.equal(a.id.length, 16);
  assert.deepEqual(a.id, b.id, "same seed, same ID");
  assert.notDeepEqual(a.id, c.id);
  assert.equal(a.createdMs, clock.now());
  assert.equal(a.ttlMs, 60_000);
  assert.equal(a.signature.length, 0);
});

it("IDs round-trip through hex, and malformed hex is refused", () => {
  const id = sample().id;
  const hex = idToHex(id);
  assert.match(hex, /^[0-9a-f]{32}$/);
  assert.deepEqual(hexToId(hex), id);
  assert.equal(hexToId("abc"), null);
  assert.equal(hexToId("zz".repeat(16)), null);
});

it("an envelope is expired strictly after createdMs + ttlMs", () => {
  const e = sample(1000);
  assert.equal(isExpired(e, e.createdMs + 1000), false);
  assert.equal(isExpired(e, e.createdMs + 1001), true);
});

it("envelopeProblem names what is wrong: short ID, no origin, bad TTL, created in the future", () => {
  const cfg = localGossipConfig();
  const now = clock.now();
  assert.equal(envelopeProblem(sample(), now, cfg), null);
  assert.match(envelopeProblem({ ...sample(), id: new Uint8Array(3) }, now, cfg)!, /id has 3 bytes/);
  assert.match(envelopeProblem({ ...sample(), origin: "" }, now, cfg)!, /no origin/);
  assert.match(envelopeProblem({ ...sample(), ttlMs: 0 }, now, cfg)!, /ttl_ms 0/);
  assert.match(envelopeProblem({ ...sample(), ttlMs: cfg.maxTtlMs + 1 }, now, cfg)!, /maxTtlMs/);
  assert.match(envelopeProblem({ ...sample(), createdMs: now + cfg.maxClockSkewMs + 1 }, now, cfg)!, /in the future/);
  assert.equal(envelopeProblem({ ...sample(), createdMs: now + cfg.maxClockSkewMs }, now, cfg), null, "skew inside the tolerance is fine");
});

it("every gossip message kind round-trips through the codec", () => {
  const env = { ...sample(), signature: new Uint8Array([9, 9]), signerKey: new Uint8Array(32).fill(7) };
  const reply = pb.NodeReply.create({ envelopeId: env.id, node: "beta", address: "b:1", receivedMs: 5, finishedMs: 6, rejected: "unsigned" });
  const messages: GossipMessage[] = [
    { kind: "push", envelope: env },
    { kind: "advertise", from: "alpha", ids: [env.id, new Uint8Array(16)] },
    { kind: "want", ids: [env.id] },
    { kind: "deliver", envelopes: [env, { ...env, payload: new Uint8Array(0) }] },
    { kind: "reply", reply },
    { kind: "ok" },
  ];
  for (const m of messages) {
    const d = decodeGossip(encodeGossip(m));
    assert.ok(d.ok, d.ok ? "" : d.error);
    assert.equal(d.value.kind, m.kind);
    if (m.kind === "push" && d.value.kind === "push") assert.deepEqual(plain(d.value.envelope), plain(m.envelope));
    if (m.kind === "deliver" && d.value.kind === "deliver") assert.deepEqual(d.value.envelopes.map(plain), m.envelopes.map(plain));
    if (m.kind === "advertise" && d.value.kind === "advertise") {
      assert.equal(d.value.from, "alpha");
      assert.deepEqual(d.value.ids.map(idToHex), m.ids.map(idToHex));
    }
    if (d.value.kind === "reply") {
      assert.equal(d.value.reply.body, "rejected");
      assert.equal(d.value.reply.rejected, "unsigned");
      assert.equal(d.value.reply.node, "beta");
    }
  }
});

it("an advertisement's digest window and a live-IDs request's window round-trip; a missing or non-finite one decodes as none", () => {
  const window = { createdUntilMs: 1_700_000_000_000.5, expiresAfterMs: 1_700_000_002_000 };
  const ad = decodeGossip(encodeGossip({ kind: "advertise", from: "a", ids: [], digest: { xor: new Uint8Array(16).fill(1), count: 2 }, window }));
  assert.ok(ad.ok && ad.value.kind === "advertise");
  assert.deepEqual(ad.value.window, window);
  assert.equal(ad.value.digest?.count, 2);
  const list = decodeGossip(encodeGossip({ kind: "live-ids", window }));
  assert.ok(list.ok && list.value.kind === "live-ids");
  assert.deepEqual(list.value.window, window);
  const none = decodeGossip(encodeGossip({ kind: "live-ids" }));
  assert.ok(none.ok && none.value.kind === "live-ids" && none.value.window === undefined);
  const nan = decodeGossip(pb.GossipMessage.encode({ version: PROTOCOL_VERSION, liveIds: { windowCreatedUntilMs: NaN, windowExpiresAfterMs: 5 } }).finish());
  assert.ok(nan.ok && nan.value.kind === "live-ids" && nan.value.window === undefined, "a NaN bound is no window");
});

it("a message from another protocol version is refused with an error naming both versions", () => {
  const bytes = pb.GossipMessage.encode({ version: PROTOCOL_VERSION + 1, ok: {} }).finish();
  const d = decodeGossip(bytes);
  assert.equal(d.ok, false);
  assert.match(!d.ok ? d.error : "", new RegExp(`version ${PROTOCOL_VERSION + 1}, this node speaks ${PROTOCOL_VERSION}`));
});

it("a message without a body, or garbage, is an error value", () => {
  const empty = decodeGossip(pb.GossipMessage.encode({ version: PROTOCOL_VERSION }).finish());
  assert.deepEqual(empty, { ok: false, error: "gossip message has no body" });
  const garbage = decodeGossip(new Uint8Array([0x12, 0xff, 0xff, 0xff, 0x0f]));
  assert.equal(garbage.ok, false);
});

it("live IDs and standing envelopes round-trip for push-pull state", () => {
  const ids = [sample().id, new Uint8Array(16).fill(1)];
  const standing = sample();
  const d = decodeLiveIds(encodeLiveIds(ids, [standing]));
  assert.ok(d.ok);
  assert.deepEqual(d.value.ids.map(idToHex), ids.map(idToHex));
  assert.deepEqual(
    d.value.standing.map((e) => [idToHex(e.id), e.origin, e.kind]),
    [[idToHex(standing.id), standing.origin, standing.kind]],
  );
  assert.equal(decodeLiveIds(new Uint8Array([0x0a, 0x50])).ok, false);
});

// Decoded bytes fields are Buffers; compare by value.
function plain(e: Envelope): Record<string, unknown> {
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v]));
}
