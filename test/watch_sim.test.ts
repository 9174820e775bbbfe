import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CheckSpec } from "../src/checks/types.js";
import type { WatchSimNode } from "./support/watch_sim.js";
import { WatchSim } from "./support/watch_sim.js";

/*
 * Schedules, drift and quorum in simulation (issue 14): real Disseminators
 * and Watches on an in-memory network with a virtual clock, check outcomes
 * injected per node.
 */

const scheduled = (name: string, intervalMs: number, extra: Partial<CheckSpec> = {}): CheckSpec => ({ name, type: "file_exists", path: "/sim", intervalMs, ...extra });

function setSchedule(on: WatchSimNode, name: string, checks: CheckSpec[], tags: Record<string, string> = {}) {
  const r = on.watch.setSchedule({ name, checks, document: {}, nodes: [], tags, submitter: "sim@test" });
  assert.ok(r.ok, r.ok ? "" : r.error);
  return r.change;
}

describe("schedules in a simulated 100-node cluster", () => {
  it("a schedule reaches every live node at once and a node that was down in push-pull, then runs a simulated day without drift", async () => {
    // Slow anti-entropy (30 s rounds): the burst does the work, and hours stay cheap to simulate.
    const sim = new WatchSim(7, { advertiseIntervalMs: 30_000 });
    const nodes: WatchSimNode[] = [];
    for (let i = 0; i < 100; i++) nodes.push(await sim.addNode(`n${String(i).padStart(3, "0")}`));
    const down = nodes[99]!;
    sim.net.silence(down.address);

    const interval = 10 * 60_000;
    const change = setSchedule(nodes[0]!, "fleet", [scheduled("disk_ok", interval, { splayMs: 60_000 })]);
    const live = nodes.slice(0, 99);
    const spread = await sim.clock.runUntil(() => live.every((n) => n.watch.book.get("fleet") !== undefined), 10_000);
    assert.ok(spread >= 0, "every live node has the schedule within 10 s");
    assert.equal(down.watch.book.get("fleet"), undefined, "the silenced node missed it");

    // Past the envelope's TTL: only push-pull can hand it over now.
    await sim.clock.advance(2 * 3600_000);
    sim.net.unsilence(down.address);
    sim.pushPull(down);
    assert.equal(down.watch.book.get("fleet")?.schedule.version, change.version, "push-pull handed the schedule to the node that was down");

    // A simulated day with only the schedulers running.
    for (const n of nodes) await n.gossip.stop();
    await sim.clock.advance(interval + 60_000);
    const before = new Map(nodes.map((n) => [n.name, n.watch.states()[0]!.lastRunMs]));
    const evaluationsBefore = new Map(nodes.map((n) => [n.name, n.watch.scheduler.counters().evaluations]));
    await sim.clock.advance(24 * 3600_000);
    for (const n of nodes) {
      const state = n.watch.states()[0]!;
      const c = n.watch.scheduler.counters();
      const phase = (state.lastRunMs - before.get(n.name)!) % interval;
      // A run may start up to the coalescing window (250 ms) early; its slots never move.
      assert.ok(phase <= 250 || interval - phase <= 250, `${n.name}: the last run of the day is ${phase} ms off its slot`);
      assert.equal(c.evaluations - evaluationsBefore.get(n.name)!, (24 * 3600_000) / interval, `${n.name}: one run per slot for a day`);
      assert.equal(c.missedSlots + c.skippedBusy, 0);
      assert.ok(c.maxLateMs <= 50, `${n.name}: at most 50 ms late (${c.maxLateMs})`);
    }
    await sim.stopAll();
  });

  it("every node keeps the same version of a schedule, whichever arrives first; a later one replaces it", async () => {
    const sim = new WatchSim(3);
    const nodes: WatchSimNode[] = [];
    for (let i = 0; i < 10; i++) nodes.push(await sim.addNode(`v${i}`));
    // Two sets at the same instant through two nodes: equal versions, the greater envelope ID wins everywhere.
    const a = setSchedule(nodes[0]!, "web", [scheduled("a", 60_000)]);
    const b = setSchedule(nodes[5]!, "web", [scheduled("a", 60_000), scheduled("b", 60_000)]);
    assert.equal(a.version, b.version);
    const winner = a.id > b.id ? a : b;
    const agreed = await sim.clock.runUntil(() => nodes.every((n) => n.watch.schedules().find((s) => s.name === "web")?.id === winner.id), 10_000);
    assert.ok(agreed >= 0, "every node keeps the winner");
    await sim.clock.advance(1000);
    const c = setSchedule(nodes[9]!, "web", [scheduled("a", 60_000), scheduled("b", 60_000), scheduled("c", 60_000)]);
    assert.ok(c.version > winner.version);
    await sim.clock.runUntil(() => nodes.every((n) => n.watch.book.get("web")?.schedule.version === c.version), 10_000);
    for (const n of nodes) assert.equal(n.watch.schedules().find((s) => s.name === "web")?.checks, 3);
    await sim.clock.runUntil(() => nodes.every((n) => n.watch.states().length === 3), 120_000);
    const removed = nodes[3]!.watch.removeSchedule({ name: "web", submitter: "sim@test" });
    assert.ok(removed.ok);
    await sim.clock.runUntil(() => nodes.every((n) => n.watch.book.get("web") === undefined), 10_000);
    for (const n of nodes) assert.equal(n.watch.states().length, 0, `${n.name} stopped the removed schedule`);
    await sim.stopAll();
  });
});

describe("quorum checks in simulation", () => {
  async function quorumCluster(quorum: number | "majority") {
    const sim = new WatchSim(11);
    const nodes: WatchSimNode[] = [];
    for (let i = 0; i < 10; i++) nodes.push(await sim.addNode(`q${i}`, { role: "web" }));
    setSchedule(nodes[4]!, "shared", [scheduled("api_up", 10_000, { quorum })], { role: "web" });
    await sim.clock.runUntil(() => nodes.every((n) => n.watch.states().length === 1 && n.watch.verdicts().length === 1), 60_000);
    return { sim, nodes };
  }

  const verdictsOf = (nodes: WatchSimNode[]) => nodes.map((n) => n.watch.verdicts()[0]!);
  const firedOf = (nodes: WatchSimNode[], event: string) => nodes.flatMap((n) => n.fired.filter((e) => e.event === event).map(() => n.name));

  it("majority: 3 of 10 voters failing is no verdict; 6 of 10 fails once in the cluster, on the firer; recovery fires once", async () => {
    const { sim, nodes } = await quorumCluster("majority");
    for (const n of nodes.slice(0, 3)) sim.failing.add(n.name);
    await sim.clock.runUntil(() => verdictsOf(nodes).every((v) => v.votes.filter((x) => x.status === "fail").length === 3), 60_000);
    assert.ok(verdictsOf(nodes).every((v) => !v.failing && v.needed === 6));
    assert.deepEqual(firedOf(nodes, "quorum-fail"), []);

    for (const n of nodes.slice(0, 6)) sim.failing.add(n.name);
    await sim.clock.runUntil(() => verdictsOf(nodes).every((v) => v.failing), 60_000);
    await sim.clock.advance(30_000);
    assert.deepEqual(firedOf(nodes, "quorum-fail"), ["q0"], "exactly one quorum-fail, on the first voter in order");
    const fired = nodes[0]!.fired.find((e) => e.event === "quorum-fail")!;
    assert.equal(fired.quorum?.failing, 6);
    assert.equal(fired.quorum?.needed, 6);

    sim.failing.clear();
    await sim.clock.runUntil(() => verdictsOf(nodes).every((v) => !v.failing), 60_000);
    await sim.clock.advance(30_000);
    assert.deepEqual(firedOf(nodes, "quorum-recover"), ["q0"]);
    await sim.stopAll();
  });

  it("quorum 3: 3 of 10 voters failing is a failing verdict", async () => {
    const { sim, nodes } = await quorumCluster(3);
    for (const n of nodes.slice(0, 3)) sim.failing.add(n.name);
    await sim.clock.runUntil(() => verdictsOf(nodes).every((v) => v.failing), 60_000);
    assert.ok(verdictsOf(nodes).every((v) => v.failing && v.needed === 3));
    await sim.clock.advance(30_000);
    assert.deepEqual(firedOf(nodes, "quorum-fail"), ["q0"]);
    await sim.stopAll();
  });
});
