import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import { pb, PROTOCOL_VERSION } from "../src/proto/index.js";
import { appendMember, appendUpdates, decodePacket, decodePushPull, encodePushPull, encodeUpdate, NO_TAGS, packetWriter, pushPullWriter, updateCost } from "../src/swim/codec.js";
import type { MemberIdentity } from "../src/swim/members.js";

const alive = (i: number) => encodeUpdate({ alive: { node: `node-${i}`, address: `10.0.0.${i}:7946`, incarnation: i, tags: { rack: `r${i}` } } });

function validPacket(updates: number): Uint8Array {
  const w = packetWriter({ ping: { seq: 7, target: "b", source: "a", sourceAddress: "10.0.0.1:7946" } }, 12);
  appendUpdates(
    w,
    Array.from({ length: updates }, (_, i) => alive(i)),
  );
  return w.finish();
}

it("a packet built from pre-encoded updates decodes like one encoded whole by the generated code", () => {
  const bytes = validPacket(3);
  const r = decodePacket(bytes);
  assert.ok(r.ok);
  assert.equal(r.value.ping?.target, "b");
  assert.equal(r.value.memberCount, 12);
  assert.deepEqual(
    r.value.updates.map((u) => u.alive?.node),
    ["node-0", "node-1", "node-2"],
  );
  const whole = pb.SwimPacket.encode({
    version: PROTOCOL_VERSION,
    memberCount: 12,
    ping: { seq: 7, target: "b", source: "a", sourceAddress: "10.0.0.1:7946" },
    updates: [0, 1, 2].map((i) => ({ alive: { node: `node-${i}`, address: `10.0.0.${i}:7946`, incarnation: i, tags: { rack: `r${i}` } } })),
  }).finish();
  // Field order differs (member_count goes before the updates here), which
  // protobuf allows; the decoded messages are the same.
  const json = (b: Uint8Array) => JSON.stringify(pb.SwimPacket.toObject(pb.SwimPacket.decode(b)));
  assert.equal(json(bytes), json(whole));
  // updateCost is exactly what each update adds.
  const header = packetWriter({ ping: { seq: 7, target: "b", source: "a", sourceAddress: "10.0.0.1:7946" } }, 12).len;
  assert.equal(bytes.length, header + [0, 1, 2].reduce((n, i) => n + updateCost(alive(i).length), 0));
});

it("a push-pull built from cached member entries decodes like one encoded whole by the generated code, through every change of incarnation and status", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          name: fc.string({ minLength: 1, maxLength: 12 }),
          address: fc.string({ minLength: 1, maxLength: 21 }),
          tags: fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
          // Each member as three successive views: the cache must never serve an older one.
          views: fc.array(
            fc.record({
              incarnation: fc.nat(1000),
              status: fc.constantFrom(pb.MemberStatus.ALIVE, pb.MemberStatus.SUSPECT, pb.MemberStatus.DEAD, pb.MemberStatus.LEFT),
              age: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e9, noNaN: true })),
            }),
            { minLength: 3, maxLength: 3 },
          ),
        }),
        { maxLength: 8 },
      ),
      fc.boolean(),
      (members, join) => {
        const identities: MemberIdentity[] = members.map((m) => ({ name: m.name, address: m.address, tags: Object.keys(m.tags).length ? m.tags : NO_TAGS }));
        for (let v = 0; v < 3; v++) {
          const header = { join, from: "me", userState: new Uint8Array([1, 2, 3]) };
          const w = pushPullWriter(header);
          for (const [i, m] of members.entries()) appendMember(w, identities[i]!, m.views[v]!.incarnation, m.views[v]!.status, m.views[v]!.age);
          const whole = encodePushPull({
            ...header,
            members: members.map((m) => ({ name: m.name, address: m.address, tags: m.tags, incarnation: m.views[v]!.incarnation, status: m.views[v]!.status, statusAgeMs: m.views[v]!.age })),
          });
          const json = (b: Uint8Array) => JSON.stringify(pb.PushPull.toObject(pb.PushPull.decode(b), { defaults: true }));
          assert.equal(json(w.finish()), json(whole));
        }
      },
    ),
    { numRuns: 300 },
  );
});

it("packets of another protocol version are refused by version, not misread", () => {
  const other = pb.SwimPacket.encode({ version: PROTOCOL_VERSION + 1, ack: { seq: 1 } }).finish();
  const r = decodePacket(other);
  assert.ok(!r.ok);
  assert.equal(r.error, "bad_version");
  assert.match(r.detail, new RegExp(`protocol version ${PROTOCOL_VERSION + 1}, this node speaks ${PROTOCOL_VERSION}`));
  const pp = decodePushPull(pb.PushPull.encode({ version: 0, from: "x" }).finish());
  assert.ok(!pp.ok && pp.error === "bad_version");
  const ok = decodePushPull(encodePushPull({ from: "x", members: [{ name: "x", address: "a:1", incarnation: 3 }] }));
  assert.ok(ok.ok && ok.value.members[0]!.incarnation === 3);
});

it("fuzz: random bytes never throw past the packet and push-pull decoders", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1500 }), (data) => {
      const p = decodePacket(data);
      const q = decodePushPull(data);
      assert.ok(typeof p.ok === "boolean" && typeof q.ok === "boolean");
    }),
    { numRuns: 3000, seed: 11 },
  );
});

it("fuzz: mutated valid packets (flipped, cut, spliced bytes) never throw past decode", () => {
  const base = validPacket(20);
  const pushPull = encodePushPull({ join: true, from: "a", members: Array.from({ length: 10 }, (_, i) => ({ name: `n${i}`, address: `h:${i}`, incarnation: i, status: i % 4, tags: { k: "v" } })) });
  const mutation = fc.record({
    flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }),
    cut: fc.nat(),
    insert: fc.uint8Array({ maxLength: 16 }),
  });
  fc.assert(
    fc.property(mutation, fc.boolean(), (m, usePushPull) => {
      const src = usePushPull ? pushPull : base;
      const b = src.slice(0, Math.max(1, src.length - (m.cut % src.length)));
      for (const f of m.flips) b[f.at % b.length] = f.value;
      const at = m.cut % b.length;
      const data = new Uint8Array([...b.subarray(0, at), ...m.insert, ...b.subarray(at)]);
      const r = usePushPull ? decodePushPull(data) : decodePacket(data);
      if (r.ok) assert.equal(r.value.version, PROTOCOL_VERSION);
      else assert.ok(r.error === "undecodable" || r.error === "bad_version");
    }),
    { numRuns: 3000, seed: 12 },
  );
});
