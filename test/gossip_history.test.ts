import { it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SeenHistory } from "../src/gossip/history.js";
import { HEAP_PAYLOAD_MAX_BYTES, idToHex, keptEnvelope, type Envelope } from "../src/gossip/envelope.js";
import { pb } from "../src/proto/index.js";
import { GossipSim } from "./support/gossip_sim.js";

const MARGIN = 1000;
let counter = 0;

function env(createdMs: number, ttlMs: number): Envelope {
  const id = new Uint8Array(16);
  new DataView(id.buffer).setUint32(12, ++counter);
  return { id, origin: "o", originAddress: "o:1", createdMs, ttlMs, kind: 1, payload: new Uint8Array(8), signature: new Uint8Array(), signerKey: new Uint8Array() };
}

it("an ID is added once; the second add is refused", () => {
  const h = new SeenHistory(MARGIN);
  const e = env(0, 100);
  assert.equal(h.add(e), true);
  assert.equal(h.add({ ...e }), false);
  assert.equal(h.has(idToHex(e.id)), true);
  assert.equal(h.size, 1);
});

it("live() returns envelopes inside their TTL, newest first, and drops the bodies of expired ones", () => {
  const h = new SeenHistory(MARGIN);
  const a = env(0, 100);
  const b = env(10, 1000);
  h.add(a);
  h.add(b);
  assert.deepEqual(
    h.live(50).map((e) => idToHex(e.id)),
    [idToHex(b.id), idToHex(a.id)],
  );
  assert.deepEqual(
    h.live(101).map((e) => idToHex(e.id)),
    [idToHex(b.id)],
  );
  assert.equal(h.liveEnvelope(idToHex(a.id), 50), undefined, "the expired body is gone for good");
  assert.equal(h.has(idToHex(a.id)), true, "but its ID is still remembered");
});

it("live() answers from its cache while the set is unchanged, and the cache never differs from a fresh walk", () => {
  const h = new SeenHistory(MARGIN);
  h.add(env(0, 100));
  const first = h.live(10);
  assert.equal(h.live(20), first, "same set, same array");
  h.add(env(15, 100));
  assert.notEqual(h.live(20), first, "a new envelope makes a new answer");
  assert.equal(h.live(101).length, 1, "the first expired at 100");

  fc.assert(
    fc.property(
      fc.array(fc.record({ op: fc.constantFrom("add", "live", "prune", "remember"), dt: fc.integer({ min: 0, max: 300 }), ttl: fc.integer({ min: 1, max: 1000 }) }), { maxLength: 80 }),
      (ops) => {
        const hist = new SeenHistory(0);
        const added: Envelope[] = [];
        let now = 0;
        for (const o of ops) {
          now += o.dt;
          if (o.op === "add") {
            const e = env(now, o.ttl);
            hist.add(e);
            added.push(e);
          } else if (o.op === "remember") hist.remember({ id: `r${++counter}`, retainUntilMs: now + o.ttl });
          else if (o.op === "prune") hist.prune(now);
          else {
            const expected = added.filter((e) => now <= e.createdMs + e.ttlMs).reverse();
            assert.deepEqual(
              hist.live(now).map((e) => idToHex(e.id)),
              expected.map((e) => idToHex(e.id)),
            );
          }
        }
      },
    ),
  );
});

it("an ID is remembered until its envelope expired plus the margin, then pruned", () => {
  const h = new SeenHistory(MARGIN);
  const e = env(0, 100);
  h.add(e);
  assert.equal(h.prune(100 + MARGIN), 0);
  assert.equal(h.has(idToHex(e.id)), true);
  assert.equal(h.prune(100 + MARGIN + 1), 1);
  assert.equal(h.has(idToHex(e.id)), false);
});

it("whatever the mix of TTLs and arrival order, prune never forgets an ID before its envelope expired plus the margin", () => {
  const arrival = fc.record({ createdAgoMs: fc.nat(5000), ttlMs: fc.integer({ min: 1, max: 20_000 }), gapMs: fc.nat(300) });
  fc.assert(
    fc.property(fc.array(arrival, { maxLength: 60 }), fc.array(fc.nat(30_000), { maxLength: 10 }), (arrivals, pruneAt) => {
      const h = new SeenHistory(MARGIN);
      let now = 10_000;
      const added: Envelope[] = [];
      for (const a of arrivals) {
        now += a.gapMs;
        const e = env(now - a.createdAgoMs, a.ttlMs);
        h.add(e);
        added.push(e);
      }
      for (const t of pruneAt.map((x) => now + x).sort((x, y) => x - y)) {
        h.prune(t);
        for (const e of added) {
          if (e.createdMs + e.ttlMs + MARGIN >= t && !h.has(idToHex(e.id))) return false;
        }
      }
      return true;
    }),
    { numRuns: 500, seed: 7 },
  );
});

it("under a steady stream of envelopes the history stays flat once the TTL has passed", () => {
  const h = new SeenHistory(MARGIN);
  const ttl = 60_000;
  const every = 100; // one envelope per 100 ms
  const bound = Math.ceil((ttl + MARGIN) / every) + 1;
  const sizes: number[] = [];
  for (let now = 0; now <= 10 * ttl; now += every) {
    h.add(env(now, ttl));
    h.prune(now);
    h.live(now);
    if (now >= 2 * ttl && now % ttl === 0) sizes.push(h.size);
  }
  assert.ok(sizes.length >= 8);
  assert.ok(
    sizes.every((s) => s <= bound),
    `sizes ${sizes} exceed ${bound}`,
  );
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `not flat: ${sizes}`);
});

it("records() lists IDs oldest first with non-decreasing retention, and remember() restores them", () => {
  const h = new SeenHistory(MARGIN);
  h.add(env(0, 10_000));
  h.add(env(0, 100)); // shorter TTL after a longer one: retained as long as its predecessor
  h.add(env(0, 50_000));
  const r = h.records();
  assert.equal(r.length, 3);
  assert.ok(r.every((x, i) => i === 0 || x.retainUntilMs >= r[i - 1]!.retainUntilMs));
  const restored = new SeenHistory(MARGIN);
  for (const x of r) restored.remember(x);
  assert.deepEqual(restored.records(), r);
  assert.equal(restored.live(0).length, 0, "restored IDs carry no envelope to advertise");
});

it("a node under a steady stream of batches keeps a flat history and a flat set of live envelopes", async () => {
  const sim = new GossipSim({ seed: 81, config: { maxClockSkewMs: 1000 } });
  const [origin, other] = await sim.addNodes(3);
  const ttlMs = 3000;
  const every = 100;
  const samples: { history: number; live: number }[] = [];
  for (let t = 1; t <= 300; t++) {
    assert.ok(origin!.gossip.publish(pb.EnvelopeKind.CHECK_BATCH, new Uint8Array(64), { ttlMs }).ok);
    await sim.clock.advance(every);
    if (t % 50 === 0 && t >= 100) {
      const c = other!.gossip.counters();
      samples.push({ history: c.historySize, live: c.liveEnvelopes });
    }
  }
  const historyBound = (ttlMs + 1000) / every + 2;
  const liveBound = ttlMs / every + 2;
  assert.ok(
    samples.every((s) => s.history <= historyBound && s.live <= liveBound),
    JSON.stringify(samples),
  );
  const h = samples.map((s) => s.history);
  assert.ok(Math.max(...h) - Math.min(...h) <= 2, `not flat: ${h}`);
  assert.equal(other!.gossip.counters().received, 300);
});

it("the seen-history keeps a copy detached from the frame: same fields and bytes, no view of the frame; a payload over the limit is kept as it came", () => {
  // An envelope whose fields are views of one frame, as decoded from the wire.
  const frame = new Uint8Array(4096).map((_, i) => i & 0xff);
  const received: Envelope = {
    ...env(1000, 5000),
    id: frame.subarray(10, 26),
    payload: frame.subarray(100, 400),
    signature: frame.subarray(500, 564),
    signerKey: frame.subarray(600, 632),
  };
  const h = new SeenHistory(MARGIN);
  h.add(received);
  const kept = h.liveEnvelope(idToHex(received.id), 2000)!;
  assert.ok(kept !== received);
  for (const k of ["id", "payload", "signature", "signerKey"] as const) {
    assert.deepEqual([...kept[k]], [...received[k]], k);
    assert.notEqual(kept[k].buffer, frame.buffer, `${k} is not a view of the frame`);
  }
  assert.deepEqual(
    { origin: kept.origin, originAddress: kept.originAddress, createdMs: kept.createdMs, ttlMs: kept.ttlMs, kind: kept.kind },
    { origin: received.origin, originAddress: received.originAddress, createdMs: received.createdMs, ttlMs: received.ttlMs, kind: received.kind },
  );
  assert.equal(pb.Envelope.encode(kept).finish().length, pb.Envelope.encode(received).finish().length, "it encodes like the original");
  const big: Envelope = { ...env(1000, 5000), payload: new Uint8Array(HEAP_PAYLOAD_MAX_BYTES + 1) };
  assert.equal(keptEnvelope(big), big);
});
