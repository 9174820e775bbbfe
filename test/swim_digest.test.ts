import assert from "node:assert/strict";
import { it } from "node:test";
import { Channel } from "../src/net/transport.js";
import { pb } from "../src/proto/index.js";
import { decodePushPull, encodePushPull } from "../src/swim/codec.js";
import { localConfig } from "../src/swim/config.js";
import { tableDigest, type DigestedMember } from "../src/swim/digest.js";
import { SimCluster } from "../src/swim/simulation.js";
import type { PushPullDelegate } from "../src/swim/types.js";

const member = (name: string, o: Partial<DigestedMember> = {}): DigestedMember => ({ name, address: `${name}:7946`, incarnation: 1, status: "alive", tags: {}, ...o });
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

it("a member table's digest ignores order and tag order, and changes with every field a member is known by", () => {
  const base = [member("a", { tags: { role: "web", dc: "par1" } }), member("b"), member("c", { status: "suspect", incarnation: 4 })];
  const d = hex(tableDigest(base));
  assert.equal(hex(tableDigest([base[2]!, base[0]!, base[1]!])), d, "order");
  assert.equal(hex(tableDigest([member("a", { tags: { dc: "par1", role: "web" } }), base[1]!, base[2]!])), d, "tag key order");
  const variants: [string, DigestedMember[]][] = [
    ["a member fewer", base.slice(0, 2)],
    ["a member more", [...base, member("d")]],
    ["address", [member("a", { tags: { role: "web", dc: "par1" }, address: "a:7947" }), base[1]!, base[2]!]],
    ["incarnation", [base[0]!, member("b", { incarnation: 2 }), base[2]!]],
    ["status", [base[0]!, member("b", { status: "dead" }), base[2]!]],
    ["a tag value", [member("a", { tags: { role: "db", dc: "par1" } }), base[1]!, base[2]!]],
    ["a tag fewer", [member("a", { tags: { role: "web" } }), base[1]!, base[2]!]],
    ["a tag key", [member("a", { tags: { role: "web", dc2: "par1" } }), base[1]!, base[2]!]],
    ["a name", [base[0]!, member("bb", { address: "b:7946" }), base[2]!]],
    ["incarnation above 2^32", [base[0]!, member("b", { incarnation: 2 ** 32 + 1 }), base[2]!]],
  ];
  const seen = new Set([d]);
  for (const [what, table] of variants) {
    const v = hex(tableDigest(table));
    assert.ok(!seen.has(v), `${what}: the digest did not change`);
    seen.add(v);
  }
  assert.equal(tableDigest([]).length, 12);
});

it("a settled cluster's periodic push-pulls compare digests and send no member list", async () => {
  const config = localConfig();
  const sim = new SimCluster({ seed: 41, config });
  const names = await sim.form(8);
  await sim.clock.advance(config.pushPullIntervalMs);
  const sum = (k: string) => names.reduce((t, n) => t + sim.must(n).swim.counters()[k]!, 0);
  const before = { checks: sum("digestChecks"), mismatches: sum("digestMismatches"), full: sum("pushPulls"), frameBytes: sim.net.stats.frameBytes };
  await sim.clock.advance(3 * config.pushPullIntervalMs);
  const checks = sum("digestChecks") - before.checks;
  assert.ok(checks >= 16, `each of 8 nodes compares at least twice in 3 periods: ${checks}`);
  assert.equal(sum("digestMismatches") - before.mismatches, 0);
  assert.equal(sum("pushPulls") - before.full, 0, "no full state exchanged");
  const bytesPerCheck = (sim.net.stats.frameBytes - before.frameBytes) / checks;
  assert.ok(bytesPerCheck < 80, `a digest check and its answer take ${bytesPerCheck} bytes`);
  assert.ok(sim.agree(names));
  sim.shutdown();
});

it("a digest check is answered with agreement and the user state, or only with 'differs'", async () => {
  const sim = new SimCluster({ seed: 42, config: localConfig() });
  const merged: string[] = [];
  const delegate: PushPullDelegate = {
    localState: () => new TextEncoder().encode("a-state"),
    mergeRemoteState: (s, join, from) => merged.push(`${new TextDecoder().decode(s)} join=${join} from=${from}`),
  };
  sim.add("a", { delegate });
  const b = sim.add("b");
  void b.swim.join([SimCluster.addressOf("a")]);
  assert.ok((await sim.runUntil(() => sim.agree(["a", "b"]), 5000)) >= 0);
  merged.length = 0;
  const probe = sim.net.transport("probe:1");
  const ask = async (digest: Uint8Array) => {
    const reply = probe.request(SimCluster.addressOf("a"), Channel.Swim, encodePushPull({ from: "probe", digest, userState: new TextEncoder().encode("p-state") }), 1000);
    await sim.clock.advance(10);
    const r = decodePushPull(await reply);
    assert.ok(r.ok);
    return r.value;
  };
  const agree = await ask(tableDigest(sim.must("a").swim.members()));
  assert.equal(agree.stateDiffers, false);
  assert.equal(agree.members.length, 0);
  assert.equal(new TextDecoder().decode(agree.userState), "a-state");
  assert.deepEqual(merged, ["p-state join=false from=probe:1"]);
  const differ = await ask(tableDigest([...sim.must("a").swim.members(), member("ghost")]));
  assert.equal(differ.stateDiffers, true);
  assert.equal(differ.members.length, 0);
  assert.equal(differ.userState.length, 0);
  assert.equal(merged.length, 1, "the user state waits for the full push-pull that follows");
  // Hostile digests (too short, oversized, the right size but garbage): "differs", a few bytes, nothing merged.
  const good = tableDigest(sim.must("a").swim.members());
  for (const bad of [good.subarray(0, 3), new Uint8Array(64 * 1024).fill(7), good.map((b) => b ^ 0xff)]) {
    const answer = await ask(bad);
    assert.equal(answer.stateDiffers, true);
    assert.equal(answer.members.length + answer.userState.length, 0);
  }
  assert.equal(merged.length, 1);
  assert.ok(sim.agree(["a", "b"]), "membership is untouched");
  assert.equal(sim.must("a").swim.counters().digestChecksServed, 5);
  sim.shutdown();
});

it("tables that differ are exchanged in full after the digest check; a peer from before digests answers in full at once", async () => {
  for (const peer of ["differs", "predates digests"] as const) {
    const config = localConfig();
    const sim = new SimCluster({ seed: 43, config });
    const a = sim.add("a");
    const b = sim.add("b");
    void b.swim.join([a.address]);
    assert.ok((await sim.runUntil(() => sim.agree(["a", "b"]), 5000)) >= 0);
    // b's push-pull answers, scripted: its member list carries tags a has never seen.
    const requests: pb.PushPull[] = [];
    const bState = () => encodePushPull({ from: "b", members: [{ name: "b", address: b.address, incarnation: 9, status: pb.MemberStatus.ALIVE, tags: { role: "new" } }] });
    b.transport.onRequest(Channel.Swim, (body) => {
      const r = decodePushPull(body);
      assert.ok(r.ok);
      requests.push(r.value);
      if (r.value.digest.length > 0 && peer === "differs") return encodePushPull({ from: "b", stateDiffers: true });
      return bState();
    });
    const learned = () => a.events.some((e) => e.type === "update" && e.member.name === "b" && e.member.tags.role === "new");
    assert.ok((await sim.runUntil(learned, 2 * config.pushPullIntervalMs + 1000, 10)) >= 0, `${peer}: a never merged b's list`);
    assert.ok(requests[0]!.digest.length > 0 && requests[0]!.members.length === 0, `${peer}: the periodic push-pull starts with a digest`);
    if (peer === "differs") {
      assert.equal(requests.length, 2);
      assert.ok(requests[1]!.digest.length === 0 && requests[1]!.members.length === 2, "then the full state, both members");
      assert.equal(a.swim.counters().digestMismatches, 1);
    } else {
      assert.equal(requests.length, 1, "no second exchange");
      assert.equal(a.swim.counters().digestMismatches, 0);
    }
    sim.shutdown();
  }
});
