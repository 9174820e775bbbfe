/**
 * Fuzzing of the membership layer's decoders at the fuzz-run scale
 * (FUZZ_RUNS; swim_codec.test.ts keeps a fixed small count for npm test):
 * UDP packets and TCP push-pull bodies, random and mutated bytes, forged
 * length prefixes, and well-formed messages with hostile field values fed to
 * a live node, which must neither throw nor stop answering probes.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import { pb, PROTOCOL_VERSION } from "../src/proto/index.js";
import { Channel } from "../src/net/transport.js";
import { appendUpdates, decodePacket, decodePushPull, encodePushPull, encodeUpdate, packetWriter } from "../src/swim/codec.js";
import { localConfig } from "../src/swim/config.js";
import { SimCluster } from "../src/swim/simulation.js";
import { allocationWatch, FUZZ_RUNS, mutatedFrom, varint } from "./support/fuzz.js";

function validPacket(updates: number): Uint8Array {
  const w = packetWriter({ ping: { seq: 7, target: "b", source: "a", sourceAddress: "10.0.0.1:7946" } }, 12);
  appendUpdates(
    w,
    Array.from({ length: updates }, (_, i) => encodeUpdate({ alive: { node: `node-${i}`, address: `10.0.0.${i}:7946`, incarnation: i, tags: { rack: `r${i}` } } })),
  );
  return w.finish();
}
const validPushPull = encodePushPull({
  join: true,
  from: "a",
  members: Array.from({ length: 10 }, (_, i) => ({ name: `n${i}`, address: `h:${i}`, incarnation: i, status: i % 4, tags: { k: "v" }, statusAgeMs: i * 1000 })),
  userState: new Uint8Array(48).fill(9),
});
const validPackets = [validPacket(0), validPacket(20), pb.SwimPacket.encode({ version: PROTOCOL_VERSION, ack: { seq: 3 }, memberCount: 4 }).finish()];

/** Both decoders on the same bytes: an error value or a decoded message of our version, never a throw. */
function decodesSafely(data: Uint8Array): void {
  for (const r of [decodePacket(data), decodePushPull(data)]) {
    if (r.ok) assert.equal(r.value.version, PROTOCOL_VERSION);
    else assert.ok((r.error === "undecodable" || r.error === "bad_version") && r.detail.length > 0);
  }
}

it("fuzz: random bytes never throw past the packet and push-pull decoders", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 1500 }), decodesSafely), { numRuns: FUZZ_RUNS, seed: 101 });
});

it("fuzz: mutated valid packets and push-pull bodies never throw past the decoders", () => {
  fc.assert(fc.property(mutatedFrom([...validPackets, validPushPull]), decodesSafely), { numRuns: FUZZ_RUNS, seed: 102 });
});

it("fuzz: a forged length prefix up to 2^53 is refused without allocating what it declares", () => {
  // A valid message, whole or cut at a random point, then a length-delimited
  // field (packet updates, push-pull members or user state, or a string)
  // whose declared length is far beyond the few bytes that follow. After a
  // whole message the field must be refused by that message's decoder.
  const wholes: [Uint8Array, (d: Uint8Array) => { ok: boolean }][] = [...validPackets.map((v): [Uint8Array, typeof decodePacket] => [v, decodePacket]), [validPushPull, decodePushPull]];
  const fieldTags = [(10 << 3) | 2, (4 << 3) | 2, (5 << 3) | 2, (3 << 3) | 2];
  const watch = allocationWatch();
  fc.assert(
    fc.property(
      fc.nat(wholes.length - 1),
      fc.option(fc.nat()),
      fc.constantFrom(...fieldTags),
      fc.oneof(fc.integer({ min: 1 << 20, max: 2 ** 32 - 1 }), fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER })),
      fc.uint8Array({ maxLength: 32 }),
      (which, cut, tag, declared, tail) => {
        const [valid, decode] = wholes[which]!;
        const prefix = cut === null ? valid : valid.subarray(0, cut % (valid.length + 1));
        const data = Uint8Array.from([...prefix, tag, ...varint(declared), ...tail]);
        decodesSafely(data);
        if (cut === null) assert.equal(decode(data).ok, false, "a field declared longer than the packet was accepted");
        watch.check();
      },
    ),
    { numRuns: FUZZ_RUNS, seed: 103 },
  );
  assert.ok(watch.grewBytes() < 64 * 2 ** 20, `array buffers grew by ${watch.grewBytes()} bytes while decoding forged lengths`);
});

// ------------------------------------------------ hostile values, live node

/** A bounded pool of names, so the member table stays small however long the run. */
const name = fc.constantFrom("n0", "n1", "n2", "x1", "x2", "", "a".repeat(300), "名前", "n0 ", "\u0000");
const address = fc.constantFrom(SimCluster.addressOf("n1"), SimCluster.addressOf("n0"), "attacker:1", "", "nowhere:0", "[::1]:99999", "x".repeat(500));
const uint32 = fc.oneof(fc.constantFrom(0, 1, 2 ** 31, 2 ** 32 - 1), fc.nat({ max: 2 ** 32 - 1 }));
const tags = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 64 }), { maxKeys: 6 });
const update: fc.Arbitrary<pb.Update.$Properties> = fc.oneof(
  fc.record({ alive: fc.record({ node: name, address, incarnation: uint32, tags }) }),
  fc.record({ suspect: fc.record({ node: name, incarnation: uint32, from: name }) }),
  fc.record({ dead: fc.record({ node: name, incarnation: uint32, from: name }) }),
  fc.constant({}),
);
const primary = fc.oneof(
  fc.record({ ping: fc.record({ seq: uint32, target: name, source: name, sourceAddress: address }) }),
  fc.record({ pingReq: fc.record({ seq: uint32, target: name, targetAddress: address, wantNack: fc.boolean(), source: name, sourceAddress: address }) }),
  fc.record({ ack: fc.record({ seq: uint32 }) }),
  fc.record({ nack: fc.record({ seq: uint32 }) }),
  fc.constant({}),
);
const hostilePacket = fc
  .record({ version: fc.oneof(fc.constant(PROTOCOL_VERSION), uint32), primary, updates: fc.array(update, { maxLength: 12 }), memberCount: uint32 })
  .map(({ primary: p, ...rest }) => pb.SwimPacket.encode({ ...rest, ...p }).finish());
const memberState = fc.record({ name, address, incarnation: uint32, status: fc.integer({ min: -1, max: 9 }), tags, statusAgeMs: fc.double() });
const hostilePushPull = fc
  .record({
    version: fc.oneof(fc.constant(PROTOCOL_VERSION), uint32),
    join: fc.boolean(),
    from: name,
    members: fc.array(memberState, { maxLength: 12 }),
    userState: fc.uint8Array({ maxLength: 64 }),
    error: fc.string({ maxLength: 20 }),
  })
  .map((p) => pb.PushPull.encode(p).finish());

it("fuzz: well-formed packets and push-pulls with hostile values never throw in a live node, which keeps answering probes", async () => {
  const sim = new SimCluster({ seed: 104, config: localConfig(), recordEvents: false });
  await sim.form(3);
  const node = sim.must("n0");
  const from = "attacker:1";
  let i = 0;
  let refused = 0;
  // Synchronous properties; the clock moves between batches of inputs so
  // the timers the inputs started (suspicions, probes, pulls) run too.
  const packets = fc.sample(fc.oneof(hostilePacket, mutatedFrom(validPackets)), { numRuns: FUZZ_RUNS, seed: 105 });
  const pushPulls = fc.sample(hostilePushPull, { numRuns: Math.ceil(FUZZ_RUNS / 4), seed: 106 });
  for (const p of packets) {
    node.transport.receivePacket(p, from);
    if (++i % 500 === 0) await sim.clock.advance(50);
  }
  for (const body of pushPulls) {
    await node.transport.receiveRequest(Channel.Swim, body, from).then(
      (reply) => assert.ok(decodePushPull(reply).ok, "a push-pull reply this node sends must decode"),
      (err: unknown) => {
        assert.ok(err instanceof Error && err.message.length > 0);
        refused++;
      },
    );
    if (++i % 500 === 0) await sim.clock.advance(50);
  }
  await sim.clock.advance(1000);

  // Still alive and answering: a valid ping from a fresh address gets its ack.
  const prober = sim.net.transport("prober:1");
  let acked = false;
  prober.onPacket((data) => {
    const r = decodePacket(data);
    if (r.ok && r.value.ack?.seq === 4242) acked = true;
  });
  prober.sendPacket(node.address, packetWriter({ ping: { seq: 4242, target: "n0", source: "prober", sourceAddress: "prober:1" } }, 1).finish());
  assert.notEqual(await sim.runUntil(() => acked, 1000, 5), -1, "the node stopped answering pings after the fuzz");
  const c = node.swim.counters();
  assert.ok(c.droppedBadVersion! > 0 && c.droppedInvalidUpdates! > 0, "hostile inputs were counted as dropped");
  assert.ok(refused > 0, "hostile push-pulls were refused");
  assert.ok(node.swim.members().length <= 16, `the member table grew to ${node.swim.members().length} from a pool of 10 names`);
  sim.shutdown();
});
