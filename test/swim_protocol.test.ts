import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import { SeededRandom } from "../src/base/random.js";
import { Channel, TransportError } from "../src/net/transport.js";
import { pb, PROTOCOL_VERSION } from "../src/proto/index.js";
import { appendUpdates, encodeUpdate, packetWriter } from "../src/swim/codec.js";
import { localConfig } from "../src/swim/config.js";
import { SimCluster } from "../src/swim/simulation.js";
import type { PushPullDelegate } from "../src/swim/types.js";

it("garbage, mutated and foreign-version packets are dropped and counted; the node keeps working", async () => {
  const sim = new SimCluster({ seed: 21, config: localConfig() });
  const names = await sim.form(5);
  const target = sim.must("n2");
  const attacker = sim.net.transport("attacker:1");
  const random = new SeededRandom(99);
  for (let i = 0; i < 300; i++) attacker.sendPacket(target.address, random.bytes(random.int(1400)));
  attacker.sendPacket(target.address, pb.SwimPacket.encode({ version: PROTOCOL_VERSION + 1, ping: { seq: 1, target: "n2" } }).finish());
  const w = packetWriter({ ack: { seq: 12345 } }, 3);
  appendUpdates(w, [encodeUpdate({ alive: { node: "", address: "" } }), encodeUpdate({})]);
  attacker.sendPacket(target.address, w.finish());
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), (noise, at) => {
      const valid = packetWriter({ ping: { seq: 5, target: "n2", source: "x", sourceAddress: "attacker:1" } }, 5).finish();
      const b = new Uint8Array([...valid.subarray(0, at % valid.length), ...noise]);
      attacker.sendPacket(target.address, b);
    }),
    { numRuns: 300, seed: 5 },
  );
  const garbageRequest = attacker.request(target.address, Channel.Swim, random.bytes(200), 1000);
  garbageRequest.catch(() => {});
  await sim.clock.advance(2000);
  await assert.rejects(garbageRequest, (e: unknown) => e instanceof TransportError && e.code === "remote" && /push-pull request unreadable/.test(e.message));
  const c = target.swim.counters();
  assert.ok(c.droppedUndecodable! > 0, "undecodable packets counted");
  // Random bytes often parse as protobuf with no version field (0).
  assert.ok(c.droppedBadVersion! >= 1, "foreign versions counted");
  assert.ok(c.droppedUnknownSeq! >= 1, "the forged ack counted");
  assert.ok(c.droppedInvalidUpdates! >= 2, "updates without a node counted");
  assert.ok(sim.agree(names), "membership is intact");
  sim.shutdown();
});

it("a falsely suspected member refutes with a new incarnation before its suspicion can time out", async () => {
  const config = localConfig();
  const sim = new SimCluster({ seed: 22, config });
  const names = await sim.form(10);
  const victim = sim.must("n6");
  const before = victim.swim.member("n6")!.incarnation;
  const attacker = sim.net.transport("attacker:1");
  const w = packetWriter({}, 10);
  appendUpdates(w, [encodeUpdate({ suspect: { node: "n6", incarnation: before, from: "n1" } })]);
  attacker.sendPacket(sim.must("n3").address, w.finish());
  await sim.clock.advance(10);
  assert.equal(sim.must("n3").swim.member("n6")?.status, "suspect");
  const took = await sim.runUntil(() => names.every((n) => sim.must(n).swim.member("n6")?.incarnation === before + 1 && sim.must(n).swim.member("n6")?.status === "alive"), 5000, 10);
  assert.ok(took >= 0, "not everyone saw the refutation");
  assert.ok(took < 2000, `refuted in ${took} ms, the minimum suspicion timeout is 2000 ms`);
  assert.equal(victim.swim.counters().refutes, 1);
  assert.ok(victim.swim.healthScore() >= 0);
  for (const n of names) assert.ok(!sim.must(n).events.some((e) => e.type === "fail"), `${n} saw a failure`);
  sim.shutdown();
});

it("a seed that starts after its peers is joined once it appears (join retries with back-off)", async () => {
  const config = localConfig();
  const sim = new SimCluster({ seed: 23, config });
  const peers = sim.addMany(5, "p");
  const seedAddress = SimCluster.addressOf("seed");
  const joined: number[] = [];
  for (const p of peers) void p.swim.join([seedAddress]).then((n) => joined.push(n));
  await sim.clock.advance(8000);
  assert.deepEqual(joined, [], "nobody can have joined a seed that is not there");
  for (const p of peers) assert.equal(p.swim.statusCounts().alive, 1);
  sim.add("seed");
  const names = ["seed", ...peers.map((p) => p.name)];
  const took = await sim.runUntil(() => sim.agree(names) && joined.length === 5, config.joinRetryMaxMs + 2000);
  assert.ok(took >= 0, "the peers did not join the late seed");
  assert.deepEqual(joined, [1, 1, 1, 1, 1]);
  sim.shutdown();
});

it("a node cut off alone for a minute finds its way back through its seeds", async () => {
  const config = localConfig();
  const sim = new SimCluster({ seed: 24, config });
  const names = await sim.form(8);
  sim.net.partition([sim.must("n5").address]);
  await sim.clock.advance(60_000);
  assert.equal(sim.must("n5").swim.members().length, 1, "alone, having reaped everyone");
  assert.equal(sim.must("n0").swim.member("n5"), undefined, "reaped by the others");
  sim.net.heal();
  const took = await sim.runUntil(() => sim.agree(names), config.joinRetryMaxMs + 2000);
  assert.ok(took >= 0, "n5 did not find its way back");
  assert.ok(sim.must("n5").swim.counters().reconnectAttempts! > 0);
  sim.shutdown();
});

it("the push-pull delegate's user state travels both ways, flagged as a join", async () => {
  const sim = new SimCluster({ seed: 25, config: localConfig() });
  const got: string[] = [];
  const delegate = (who: string): PushPullDelegate => ({
    localState: (join) => new TextEncoder().encode(`${who}:${join}`),
    mergeRemoteState: (state, join, from) => got.push(`${who}<-${new TextDecoder().decode(state)} join=${join} from=${from}`),
  });
  sim.add("a", { delegate: delegate("a") });
  const b = sim.add("b", { delegate: delegate("b") });
  const joining = b.swim.join([SimCluster.addressOf("a")]);
  await sim.clock.advance(100);
  assert.equal(await joining, 1);
  assert.deepEqual(got.sort(), ["a<-b:true join=true from=b:7946", "b<-a:true join=true from=a:7946"]);
  sim.shutdown();
});

it("tags are advertised with the member, changes spread with a new incarnation, and oversized tags are refused", async () => {
  const config = localConfig();
  const sim = new SimCluster({ seed: 26, config });
  sim.add("a", { tags: { role: "web", dc: "par1" } });
  const b = sim.add("b");
  void b.swim.join([SimCluster.addressOf("a")]);
  await sim.runUntil(() => sim.agree(["a", "b"]), 5000);
  assert.deepEqual(b.swim.member("a")?.tags, { role: "web", dc: "par1" });
  const updates: string[] = [];
  b.swim.onEvent((e) => updates.push(`${e.type} ${e.member.name} ${JSON.stringify(e.member.tags)}`));
  sim.must("a").swim.setTags({ role: "db" });
  assert.ok((await sim.runUntil(() => b.swim.member("a")?.tags.role === "db", 2000, 10)) >= 0);
  assert.deepEqual(updates, ['update a {"role":"db"}']);
  assert.throws(
    () => sim.must("a").swim.setTags({ big: "x".repeat(config.maxTagBytes) }),
    /tags take 515 bytes, more than the limit of 512 bytes \(keys plus values\): shorten or drop some -tag values/,
  );
  assert.throws(() => sim.add("c", { tags: { big: "x".repeat(600) } }), /more than the limit of 512 bytes/);
  sim.shutdown();
});

it("a node that hears no acks raises its health score and stretches its probe interval (Lifeguard awareness)", async () => {
  const config = localConfig();
  const sim = new SimCluster({ seed: 27, config });
  const names = await sim.form(6);
  const lonely = sim.must("n3");
  // Everyone else goes quiet at once: n3's probes and ping-reqs all fail.
  for (const n of names) if (n !== "n3") sim.net.silence(sim.must(n).address);
  const probes0 = lonely.swim.counters().probes!;
  await sim.clock.advance(3000);
  assert.ok(lonely.swim.healthScore() >= 3, `health score ${lonely.swim.healthScore()}`);
  const probes1 = lonely.swim.counters().probes!;
  await sim.clock.advance(10_000);
  const probes2 = lonely.swim.counters().probes!;
  // Healthy, 10 s would hold 20 probes; stretched up to 8x, a handful.
  assert.ok(probes2 - probes1 <= 6, `${probes2 - probes1} probes in 10 s with health score ${lonely.swim.healthScore()}`);
  assert.ok(probes1 - probes0 >= 3);
  sim.shutdown();
});

it("a member spreading a stale accusation (it missed the refutation) is sent the newer alive at once", async () => {
  const sim = new SimCluster({ seed: 28, config: localConfig() });
  await sim.form(6);
  const inc = sim.must("n3").swim.member("n2")!.incarnation;
  const stale = sim.net.transport("stale:1");
  const heard: string[] = [];
  stale.onPacket((data) => {
    const p = pb.SwimPacket.decode(data);
    for (const u of p.updates) if (u.alive) heard.push(`${u.alive.node}@${u.alive.incarnation}`);
  });
  const w = packetWriter({}, 6);
  appendUpdates(w, [encodeUpdate({ suspect: { node: "n2", incarnation: inc - 1, from: "n9" } })]);
  stale.sendPacket(sim.must("n3").address, w.finish());
  await sim.clock.advance(10);
  assert.ok(heard.includes(`n2@${inc}`), `heard ${heard.join(", ")}`);
  assert.equal(sim.must("n3").swim.member("n2")?.status, "alive", "the stale accusation is not applied");
  assert.equal(sim.must("n3").swim.counters().corrections, 1);
  sim.shutdown();
});

it("a member held as left that says from its own address it is alive at no newer incarnation is told of its leave, and only it", async () => {
  const sim = new SimCluster({ seed: 29, config: localConfig() });
  await sim.form(5);
  const leaver = sim.must("n2");
  let left = false;
  void leaver.swim.leave(2000).finally(() => (left = true));
  assert.ok((await sim.runUntil(() => left && sim.must("n3").swim.member("n2")?.status === "left", 10_000, 1)) >= 0);
  const inc = sim.must("n3").swim.member("n2")!.incarnation;
  leaver.swim.shutdown();
  await leaver.transport.close();

  // The new process at the same address, which joined through a node that missed the leave.
  const fresh = sim.net.transport(leaver.address);
  const relay = sim.net.transport("relay:1");
  const heard: string[] = [];
  for (const [who, t] of [
    ["fresh", fresh],
    ["relay", relay],
  ] as const) {
    t.onPacket((data) => {
      for (const u of pb.SwimPacket.decode(data).updates) if (u.dead) heard.push(`${who}: ${u.dead.node}@${u.dead.incarnation} from ${u.dead.from}`);
    });
  }
  const staleAlive = () => {
    const w = packetWriter({}, 5);
    appendUpdates(w, [encodeUpdate({ alive: { node: "n2", address: leaver.address, incarnation: inc } })]);
    return w.finish();
  };
  fresh.sendPacket(sim.must("n3").address, staleAlive());
  relay.sendPacket(sim.must("n3").address, staleAlive());
  await sim.clock.advance(10);
  // (The leave may also ride along from n3's broadcast queue, in the same packet.)
  assert.deepEqual([...new Set(heard)], [`fresh: n2@${inc} from n2`]);
  assert.equal(sim.must("n3").swim.member("n2")?.status, "left", "the stale alive is not applied");
  assert.equal(sim.must("n3").swim.counters().corrections, 1);
  sim.shutdown();
});

it("a suspect or dead notice naming the address of an earlier process under a member's name is ignored and counted", async () => {
  const sim = new SimCluster({ seed: 30, config: localConfig() });
  const names = await sim.form(5);
  const oldAddress = sim.must("n2").address;
  const inc = sim.must("n3").swim.member("n2")!.incarnation;
  sim.kill("n2");
  assert.ok((await sim.runUntil(() => sim.must("n3").swim.member("n2")?.status === "dead", 30_000)) >= 0, "n2 declared dead");
  const fresh = sim.restart("n2", "n2-restarted:7946");
  void fresh.swim.join([sim.must("n0").address]);
  assert.ok((await sim.runUntil(() => sim.agree(names), 10_000, 1)) >= 0, "n2 back everywhere");
  const held = sim.must("n3").swim.member("n2")!;
  assert.equal(held.address, "n2-restarted:7946");
  assert.ok(held.incarnation > inc, "the new process is held above the old one");

  const stale = sim.net.transport("stale:1");
  const w = packetWriter({}, 5);
  appendUpdates(w, [
    encodeUpdate({ dead: { node: "n2", incarnation: held.incarnation + 5, from: "n9", address: oldAddress } }),
    encodeUpdate({ suspect: { node: "n2", incarnation: held.incarnation + 5, from: "n9", address: oldAddress } }),
  ]);
  const before = sim.must("n3").swim.counters().staleNotices!;
  stale.sendPacket(sim.must("n3").address, w.finish());
  await sim.clock.advance(10);
  assert.equal(sim.must("n3").swim.member("n2")?.status, "alive");
  assert.equal(sim.must("n3").swim.counters().staleNotices! - before, 2);
  sim.shutdown();
});
