import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { VirtualClock } from "../src/base/clock.js";
import type { Logger } from "../src/base/logger.js";
import { coordinators, type CoordinatorCandidate, weightOf, WEIGHT_TAG } from "../src/swim/coordinator.js";
import { StableSize } from "../src/swim/coordinator_quorum.js";
import type { Member, MemberStatus } from "../src/swim/types.js";
import { CoordinatorWatch } from "../src/daemon/cluster/coordinator_watch.js";
import type { TriggerEvent } from "../src/triggers/index.js";
import { type DaemonOptions, type FlagContext, memberTags, parseDaemonFlags } from "../src/daemon/flags.js";
import { validateBatchBody } from "../src/daemon/api/validate.js";
import { parseWaitQuery } from "../src/daemon/api/members_wait.js";
import { parseTriggerSpec } from "../src/triggers/index.js";
import { triggerEnv } from "../src/triggers/env.js";

const m = (name: string, weight?: number, status: MemberStatus = "alive"): CoordinatorCandidate => ({ name, status, tags: weight === undefined ? {} : { [WEIGHT_TAG]: String(weight) } });

describe("coordinators: a pure function of the member list", () => {
  it("the heaviest running member wins; equal weights go to the smallest name", () => {
    assert.deepEqual(coordinators([m("b", 5), m("a", 3), m("c", 5)], { count: 1 }).coordinators, ["b"]);
    assert.deepEqual(coordinators([m("node-2"), m("node-10"), m("node-1")], { count: 1 }).coordinators, ["node-1"]);
    // Code-unit order, not the locale's: "B" (66) before "a" (97) on every host.
    assert.deepEqual(coordinators([m("a"), m("B")], { count: 1 }).coordinators, ["B"]);
  });

  it("-coordinators K keeps the K heaviest, heaviest first; fewer when fewer run", () => {
    const all = [m("a", 1), m("b", 9), m("c", 4), m("d", 4), m("e", 0)];
    assert.deepEqual(coordinators(all, { count: 3 }).coordinators, ["b", "c", "d"]);
    assert.deepEqual(coordinators(all.slice(0, 2), { count: 3 }).coordinators, ["b", "a"]);
  });

  it("a suspect member still counts (no flapping on a brief suspicion); dead and left ones never", () => {
    assert.deepEqual(coordinators([m("a", 9, "suspect"), m("b", 1)], { count: 1 }).coordinators, ["a"]);
    assert.deepEqual(coordinators([m("a", 9, "dead"), m("b", 1)], { count: 1 }).coordinators, ["b"]);
    assert.deepEqual(coordinators([m("a", 9, "left"), m("b", 1)], { count: 1 }).coordinators, ["b"]);
    const none = coordinators([m("a", 9, "dead")], { count: 1 });
    assert.deepEqual([none.coordinators, none.running], [[], 0]);
    // The quorum counts alive members only: a side that suspects the others gives its coordinator up.
    const suspecting = coordinators([m("a", 9), m("b", 1), m("c", 1, "suspect"), m("d", 1, "suspect"), m("e", 1, "suspect")], { count: 1, quorum: { stableSize: 5 } });
    assert.deepEqual([suspecting.coordinators, suspecting.running, suspecting.alive], [[], 5, 2]);
  });

  it("a missing or malformed weight tag is weight 0 everywhere", () => {
    for (const v of ["", "-1", "1.5", "1e3", "abc", "99999999", "1000001", " 5"]) assert.equal(weightOf({ [WEIGHT_TAG]: v }), 0, v);
    assert.equal(weightOf({ [WEIGHT_TAG]: "1000000" }), 1_000_000);
    assert.deepEqual(coordinators([{ name: "z", status: "alive", tags: { [WEIGHT_TAG]: "lots" } }, m("y")], { count: 1 }).coordinators, ["y"]);
  });

  it("with quorum: coordinators only while a strict majority of the stable size runs", () => {
    const three = [m("a", 3), m("b", 2), m("c", 1)];
    assert.deepEqual(coordinators(three, { count: 1, quorum: { stableSize: 5 } }).coordinators, ["a"]);
    const two = coordinators(three.slice(1), { count: 1, quorum: { stableSize: 5 } });
    assert.deepEqual(two.coordinators, []);
    assert.match(two.withheld!, /sees 2 alive members, fewer than a majority \(3\) of the last stable cluster size 5/);
    // Half is not a majority.
    assert.deepEqual(coordinators(three.slice(1), { count: 1, quorum: { stableSize: 4 } }).coordinators, []);
  });

  it("every node with the same view computes the same set, whatever the order it lists members in", () => {
    const member = fc.record({
      name: fc.stringMatching(/^[a-e]{1,3}$/),
      status: fc.constantFrom<MemberStatus>("alive", "suspect", "dead", "left"),
      weight: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(member, { selector: (x) => x.name, maxLength: 30 }), fc.integer({ min: 1, max: 5 }), fc.integer(), (list, count, seed) => {
        const view = list.map((x) => m(x.name, x.weight, x.status));
        const shuffled = [...view].sort((p, q) => (hash(p.name, seed) - hash(q.name, seed)) | 0 || (p.name < q.name ? -1 : 1));
        const a = coordinators(view, { count });
        const b = coordinators(shuffled, { count });
        assert.deepEqual(a, b);
        // And it is the sort by (weight desc, name asc) of the running ones, cut at count.
        const expect = view
          .filter((x) => x.status === "alive" || x.status === "suspect")
          .sort((p, q) => weightOf(q.tags) - weightOf(p.tags) || (p.name < q.name ? -1 : 1))
          .slice(0, count)
          .map((x) => x.name);
        assert.deepEqual(a.coordinators, expect);
      }),
      { numRuns: 500 },
    );
  });
});

function hash(s: string, seed: number): number {
  let h = seed | 0;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 0x9e3779b1);
  return h;
}

describe("the last stable cluster size (-coordinator-quorum)", () => {
  it("grows once a count held for the window, never shrinks on failures, shrinks on a graceful leave", () => {
    const s = new StableSize(10_000);
    assert.equal(s.observe(1, 0), 1, "the first count seen");
    assert.equal(s.observe(5, 100), 1, "not yet held");
    assert.equal(s.observe(5, 10_100), 5);
    assert.equal(s.observe(2, 11_000), 5);
    assert.equal(s.observe(2, 60_000), 5, "a minority stays a minority however long it lasts");
    s.left();
    assert.equal(s.value, 4);
  });
});

describe("CoordinatorWatch (the daemon's view)", () => {
  function world(self: string) {
    const clock = new VirtualClock(0);
    let members: Member[] = [];
    const set = (list: [string, number, MemberStatus][]) =>
      (members = list.map(([name, w, status]) => ({ name, address: `${name}:1`, status, incarnation: 1, tags: { [WEIGHT_TAG]: String(w) }, statusSinceMs: 0 })));
    const fired: TriggerEvent[] = [];
    const lines: string[] = [];
    const log = { info: (_o: object, msg: string) => void lines.push(msg), warn: (_o: object, msg: string) => void lines.push(msg), debug: () => {}, error: () => {} } as unknown as Logger;
    const w = new CoordinatorWatch({ self, members: () => members, config: { count: 1, quorum: false }, clock, log, fire: (e) => void fired.push(e) });
    const changes: string[][] = [];
    w.onChange((c) => changes.push(c.coordinators));
    return { w, set, fired, lines, changes, clock, member: (name: string) => members.find((x) => x.name === name)! };
  }

  it("promote, demote and change fire on the right node once joined; nothing before", () => {
    const b = world("b");
    b.set([["b", 1, "alive"]]);
    b.w.onMemberEvent({ type: "join", member: b.member("b") });
    assert.equal(b.fired.length, 0, "no trigger before the join");
    b.w.markJoined();
    assert.deepEqual(
      b.fired.map((e) => e.event),
      ["coordinator-promote"],
    );
    b.set([
      ["a", 9, "alive"],
      ["b", 1, "alive"],
    ]);
    b.w.onMemberEvent({ type: "join", member: b.member("a") });
    assert.deepEqual(
      b.fired.map((e) => e.event),
      ["coordinator-promote", "coordinator-demote", "coordinator-change"],
    );
    assert.deepEqual(b.fired.at(-1)!.coordinator, { coordinators: ["a"], previous: ["b"] });
    assert.deepEqual(b.w.current(), { coordinators: ["a"] });
    assert.ok(b.lines.includes("this node (b) is no longer a coordinator: demoted"));
    // a fails: b is promoted again.
    b.set([
      ["a", 9, "dead"],
      ["b", 1, "alive"],
    ]);
    b.w.onMemberEvent({ type: "fail", member: b.member("a") });
    assert.deepEqual(
      b.fired.slice(3).map((e) => e.event),
      ["coordinator-promote", "coordinator-change"],
    );
    assert.deepEqual(b.changes, [["b"], ["a"], ["b"]]);
  });

  it("with quorum, the minority withholds and says why, once (not at every count)", async () => {
    const x = world("d");
    x.w.setConfig({ count: 1, quorum: true });
    x.set(["a", "b", "c", "d", "e"].map((n, i) => [n, 5 - i, "alive"] as [string, number, MemberStatus]));
    x.w.start();
    await x.clock.advance(12_000);
    x.w.markJoined();
    assert.deepEqual(x.w.current(), { coordinators: ["a"] });
    x.set(["a", "b", "c", "d", "e"].map((n, i) => [n, 5 - i, n === "d" || n === "e" ? "alive" : "dead"] as [string, number, MemberStatus]));
    x.w.onMemberEvent({ type: "fail", member: x.member("a") });
    assert.deepEqual(x.w.current().coordinators, []);
    assert.match(x.w.current().withheld!, /fewer than a majority \(3\) of the last stable cluster size 5/);
    await x.clock.advance(60_000);
    assert.deepEqual(x.w.current().coordinators, [], "still none a minute later");
    assert.equal(x.fired.filter((e) => e.event === "coordinator-change").length, 1);
    x.w.stop();
  });
});

describe("the coordinator's flags, triggers and API input", () => {
  const ctx: FlagContext = { hostname: "h", homeDir: "/home/op", isRoot: false, externalIPv4: ["10.1.2.3"] };
  const run = (argv: string[]) => {
    const r = parseDaemonFlags(argv, ctx);
    return r.kind === "run" ? r.options : r.stderr;
  };

  it("-weight puts the reserved tag on the member; the tag itself cannot be set with -tag", () => {
    const o = run(["-weight", "7", "-tag", "role=db", "-coordinators", "2", "-coordinator-quorum"]) as DaemonOptions;
    assert.deepEqual(memberTags(o), { role: "db", [WEIGHT_TAG]: "7" });
    assert.deepEqual([o.coordinators, o.coordinatorQuorum], [2, true]);
    const d = run([]) as DaemonOptions;
    assert.deepEqual([d.weight, d.coordinators, d.coordinatorQuorum, memberTags(d)], [0, 1, false, {}]);
    assert.match(run(["-tag", `${WEIGHT_TAG}=3`]) as string, /reserved for -weight; set -weight N instead/);
    assert.match(run(["-weight", "-1"]) as string, /-weight "-1": expected a whole number from 0 to 1000000/);
    assert.match(run(["-weight", "2000000"]) as string, /-weight/);
    assert.match(run(["-coordinators", "0"]) as string, /-coordinators "0": expected a whole number of coordinators, at least 1/);
  });

  it("the trigger events parse and give scripts the coordinators", () => {
    for (const e of ["coordinator-promote", "coordinator-demote", "coordinator-change"]) assert.ok(parseTriggerSpec(`${e}=echo hi`).ok, e);
    const env = triggerEnv({ event: "coordinator-change", atMs: 1, coordinator: { coordinators: ["a", "b"], previous: ["c"] } }, { name: "n", address: "x" });
    assert.deepEqual([env.GOSSIPCHECK_COORDINATORS, env.GOSSIPCHECK_COORDINATORS_PREVIOUS], ["a,b", "c"]);
  });

  it('POST /v1/check takes "on": "coordinator", alone', () => {
    const checks = { x: { type: "file_exists", path: "/" } };
    const ok = validateBatchBody({ checks, on: "coordinator" });
    assert.ok(ok.ok && ok.value.on === "coordinator");
    const bad = validateBatchBody({ checks, on: "leader" });
    assert.ok(!bad.ok && /field "on" must be "coordinator"/.test(bad.error));
    const clash = validateBatchBody({ checks, on: "coordinator", nodes: ["a"] });
    assert.ok(!clash.ok && /leave out "nodes"/.test(clash.error));
    assert.ok(validateBatchBody({ checks, on: "coordinator", nodes: [], tags: {} }).ok, "empty targeting is no targeting");
  });

  it("GET /v1/members?wait=1 is validated and bounded", () => {
    const q = (s: string) => parseWaitQuery(new URL(`http://x/v1/members?${s}`));
    assert.deepEqual(q("wait=1&tag=service=db&count=2&timeout=60s"), { ok: true, value: { tags: { service: "db" }, count: 2, timeoutMs: 60_000 } });
    assert.deepEqual(q("wait=1"), { ok: true, value: { tags: {}, count: 1, timeoutMs: 60_000 } });
    const err = (s: string) => {
      const r = q(s);
      return r.ok ? "" : r.error;
    };
    assert.match(err("wait=1&timeout=11m"), /timeout "11m": expected a duration from 1ms to 10m/);
    assert.match(err("wait=1&count=0"), /count "0"/);
    assert.match(err("wait=1&tag=novalue"), /^tag "novalue"/);
    assert.match(err("wait=1&status=alive"), /status does not apply/);
  });
});
