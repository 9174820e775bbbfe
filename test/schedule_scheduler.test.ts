import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { VirtualClock, type Clock } from "../src/base/clock.js";
import { nullLogger } from "../src/base/logger.js";
import { SeededRandom } from "../src/base/random.js";
import type { CheckResult, CheckSpec, CheckStatus } from "../src/checks/types.js";
import { Scheduler, type ScheduledRun, type ScheduledTransition, type ScheduleRunRecord, type ScheduleSet, type SuppressedAction } from "../src/schedule/scheduler.js";

/*
 * The scheduler on a virtual clock with an injected run: when checks run
 * (slots, splay, coalescing, slow runs, stalls), what their actions may do
 * (the flap guard), and what is reported (transitions, states).
 */

const SEC = 1000;
const MIN = 60 * SEC;
const COALESCE = 50;

interface Call {
  atMs: number;
  checks: string[];
  o: ScheduledRun;
}

interface HarnessOptions {
  /** How long a run takes (virtual ms), per call. */
  runMs?: (checks: CheckSpec[], at: number) => number;
  /** The status a check's evaluation finds, per check and run (n = the check's run count, from 0). */
  status?: (check: string, n: number) => CheckStatus;
  actionsEnabled?: () => boolean;
  /** Wraps the harness's virtual clock (a stalling one). */
  clock?: (v: VirtualClock) => Clock;
}

/** A scheduler whose run records each call and answers with `status`; a failing check with an action "runs" it when allowed (still failing). */
function harness(h: HarnessOptions = {}) {
  const vclock = new VirtualClock(1_700_000_000_000);
  const clock = h.clock?.(vclock) ?? vclock;
  const calls: Call[] = [];
  const starts = new Map<string, number[]>();
  const records: ScheduleRunRecord[] = [];
  const transitions: ScheduledTransition[] = [];
  const suppressed: SuppressedAction[] = [];
  let running = 0;
  let maxRunning = 0;
  const perCheckRunning = new Map<string, number>();
  let overlapped = false;
  const scheduler = new Scheduler({
    clock,
    random: new SeededRandom(7),
    log: nullLogger,
    node: "n1",
    config: { coalesceMs: COALESCE },
    actionsEnabled: h.actionsEnabled ?? (() => true),
    onRun: (r) => records.push(r),
    onTransition: (t) => transitions.push(t),
    onSuppressed: (s) => suppressed.push(s),
    async run(checks, o) {
      const at = clock.now();
      calls.push({ atMs: at, checks: checks.map((c) => c.name), o });
      running++;
      maxRunning = Math.max(maxRunning, running);
      for (const c of checks) {
        const list = starts.get(c.name) ?? starts.set(c.name, []).get(c.name)!;
        list.push(at);
        if ((perCheckRunning.get(c.name) ?? 0) > 0) overlapped = true;
        perCheckRunning.set(c.name, (perCheckRunning.get(c.name) ?? 0) + 1);
      }
      const ms = h.runMs?.(checks, at) ?? 0;
      if (ms > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
      running--;
      for (const c of checks) perCheckRunning.set(c.name, perCheckRunning.get(c.name)! - 1);
      return checks.map((c): CheckResult => {
        const status = h.status?.(c.name, starts.get(c.name)!.length - 1) ?? "pass";
        const base = { name: c.name, type: c.type, durationMs: ms };
        if (status !== "fail" || c.action === undefined) return { ...base, status, message: `${status} #${starts.get(c.name)!.length}` };
        const outcome = { command: c.action, exitCode: 0, signal: null, timedOut: false, output: "", outputTruncated: false, durationMs: 1, leftoversKilled: 0 };
        if (o.runActions) return { ...base, status: "fail", message: "still failing after the action (exit code 0): down", action: outcome };
        const skipped = `action skipped: ${o.skipReason}`;
        return { ...base, status: "fail", message: `down (${skipped})`, action: { ...outcome, exitCode: null, skipped } };
      });
    },
  });
  /** Stops the scheduler, moving time on while a run it waits for still takes (virtual) time. */
  const stop = async () => {
    let done = false;
    const stopping = scheduler.stop().then(() => (done = true));
    while (!done) await vclock.advance(100);
    await stopping;
  };
  return { clock: vclock, scheduler, stop, calls, starts, records, transitions, suppressed, maxRunning: () => maxRunning, overlapped: () => overlapped };
}

const check = (name: string, intervalMs: number, extra: Partial<CheckSpec> = {}): CheckSpec => ({ name, type: "file_exists", path: `/tmp/${name}`, intervalMs, ...extra });
const set = (name: string, checks: CheckSpec[], source: "cluster" | "local" = "cluster"): ScheduleSet => ({ name, source, checks });

/**
 * Asserts that every run of a check starts on its slot, the slots being
 * first + k x interval: within `toleranceMs` of it either way (the first run
 * may itself be early or late by a part of it).
 */
function assertOnSlots(times: number[], intervalMs: number, what: string, toleranceMs = COALESCE): void {
  const first = times[0]!;
  for (const t of times) {
    const k = Math.round((t - first) / intervalMs);
    assert.ok(Math.abs(t - first - k * intervalMs) <= toleranceMs, `${what}: a run at +${t - first} ms is off its slot ${k} by ${t - first - k * intervalMs} ms`);
  }
}

describe("scheduler: timing", () => {
  it("has no drift over a simulated day, whatever each run takes", async () => {
    // Each run takes up to 90% of the shortest interval among its checks, at random.
    // And every timer fires up to 20 ms late, as real timers do: lateness must not add up.
    const random = new SeededRandom(3);
    const h = harness({ runMs: (checks) => random.float() * 0.9 * Math.min(...checks.map((c) => c.intervalMs!)), clock: (v) => new LateClock(v, random, 20) });
    const t0 = h.clock.now();
    const checks = [check("ten", 10 * SEC, { splayMs: 10 * SEC }), check("seven", 7 * SEC, { splayMs: 3 * SEC }), check("hourly", 60 * MIN, { splayMs: 5 * MIN }), check("fast", 5 * SEC)];
    h.scheduler.setSchedules([set("base", checks)]);
    for (let hour = 0; hour < 24; hour++) await h.clock.advance(60 * MIN);
    const day = 24 * 60 * MIN;
    for (const c of checks) {
      const times = h.starts.get(c.name)!;
      assert.ok(times[0]! >= t0 - COALESCE && times[0]! <= t0 + (c.splayMs ?? 0) + COALESCE, `${c.name}: first run at +${times[0]! - t0} ms, outside its splay`);
      // Early by up to the coalescing window, late by up to the timer's 20 ms: relative to the first run, both.
      assertOnSlots(times, c.intervalMs!, c.name, COALESCE + 20);
      // Every slot of the day ran: none skipped, none doubled.
      const expected = Math.floor((t0 + day - times[0]!) / c.intervalMs!) + 1;
      assert.ok(Math.abs(times.length - expected) <= 1, `${c.name}: ${times.length} runs in a day, expected ${expected}`);
    }
    const n = h.scheduler.counters();
    assert.equal(n.skippedBusy + n.missedSlots, 0);
    assert.ok(n.maxLateMs <= 20 && n.maxEarlyMs <= COALESCE, JSON.stringify(n));
    await h.stop();
  });

  it("spreads the first runs over the splay, and without splay runs a schedule's checks together in one call", async () => {
    const h = harness();
    const t0 = h.clock.now();
    h.scheduler.setSchedules([
      set(
        "spread",
        Array.from({ length: 100 }, (_, i) => check(`s${i}`, 10 * SEC, { splayMs: 10 * SEC })),
      ),
      set(
        "together",
        Array.from({ length: 100 }, (_, i) => check(`t${i}`, 10 * SEC)),
      ),
    ]);
    await h.clock.advance(10 * SEC - 1);
    const firsts = [...h.starts.entries()].filter(([n]) => n.startsWith("s")).map(([, t]) => t[0]! - t0);
    assert.equal(firsts.length, 100);
    assert.ok(Math.min(...firsts) >= 0 && Math.max(...firsts) <= 10 * SEC);
    // Spread: the 100 first runs fall into many different seconds of the splay.
    const seconds = new Set(firsts.map((t) => Math.floor(t / SEC)));
    assert.equal(seconds.size, 10, `first runs in seconds ${[...seconds].join(",")}`);
    const together = h.calls.filter((c) => c.o.schedule === "together");
    assert.equal(together.length, 1);
    assert.equal(together[0]!.checks.length, 100);
    // A tick runs each schedule in its own call, with its own batch ID.
    assert.ok(new Set(h.calls.map((c) => c.o.batchId)).size === h.calls.length);
    await h.stop();
  });

  it("coalesces checks due within the window into one run, keeping each on its own slots", async () => {
    const h = harness();
    const a = check("a", 10 * SEC);
    h.scheduler.setSchedules([set("s", [a])]);
    await h.clock.advance(30);
    h.scheduler.setSchedules([set("s", [a, check("b", 10 * SEC)])]);
    await h.clock.advance(10 * SEC);
    assert.deepEqual(
      h.calls.map((c) => c.checks),
      [["a"], ["b"], ["a", "b"]],
    );
    assert.equal(h.calls[2]!.atMs - h.calls[0]!.atMs, 10 * SEC);
    await h.clock.advance(60 * SEC);
    assertOnSlots(h.starts.get("b")!, 10 * SEC, "b"); // b runs 30 ms early each time, never later
    assert.equal(h.starts.get("b")![1]! - h.starts.get("b")![0]!, 10 * SEC - 30);
    await h.stop();
  });

  it("coalesces a check at most a twentieth of its interval early", async () => {
    const clock = new VirtualClock();
    const calls: [number, string[]][] = [];
    const s = new Scheduler({
      clock,
      random: new SeededRandom(1),
      log: nullLogger,
      config: { coalesceMs: 250 },
      actionsEnabled: () => true,
      run: async (checks) => {
        calls.push([clock.now(), checks.map((c) => c.name)]);
        return checks.map((c) => ({ name: c.name, type: c.type, status: "pass", message: "", durationMs: 0 }));
      },
    });
    const t0 = clock.now();
    const [a, b, c] = [check("a", 10 * SEC), check("b", SEC), check("c", 10 * SEC)];
    s.setSchedules([set("s", [a])]);
    await clock.advance(100);
    s.setSchedules([set("s", [a, b])]);
    await clock.advance(100);
    s.setSchedules([set("s", [a, b, c])]);
    await clock.advance(10 * SEC - 200 + 150);
    // At 10 s: a, and c (due at 10.2 s, within 250 ms); b (due at 10.1 s) may be only 50 ms early, so it waits.
    assert.deepEqual(
      calls.filter(([t]) => t >= t0 + 10 * SEC).map(([t, names]) => [t - t0, names]),
      [
        [10_000, ["a", "c"]],
        [10_100, ["b"]],
      ],
    );
    await s.stop();
  });

  it("does not start a run twice: a slot that comes while the check still runs is skipped and counted", async () => {
    const h = harness({ runMs: () => 2500 });
    h.scheduler.setSchedules([set("slow", [check("slow", SEC)])]);
    await h.clock.advance(10 * SEC);
    assert.equal(h.overlapped(), false);
    const times = h.starts.get("slow")!;
    assertOnSlots(times, SEC, "slow");
    // Runs of 2.5 s at a 1 s interval: one every third slot.
    assert.deepEqual(
      times.map((t) => t - times[0]!),
      [0, 3000, 6000, 9000],
    );
    assert.equal(h.scheduler.counters().skippedBusy, 7); // the slots at 1, 2, 4, 5, 7, 8 and 10 s
    await h.stop();
  });

  it("after a stall, skips the missed slots instead of running them in a burst, and resumes on its slots", async () => {
    let stalling!: StallingClock;
    const h = harness({ clock: (v) => (stalling = new StallingClock(v)) });
    const vclock = h.clock;
    const tenS = Array.from({ length: 20 }, (_, i) => check(`c${i}`, 10 * SEC, { splayMs: 10 * SEC }));
    h.scheduler.setSchedules([set("s", tenS)]);
    await vclock.advance(30 * SEC);
    const before = h.calls.length;
    // The event loop is blocked for 60 s.
    stalling.stallFor(60 * SEC);
    await vclock.advance(60 * SEC);
    await vclock.advance(1); // the stall's end: whatever was held back fires now
    const atStallEnd = h.calls.filter((c) => c.atMs === vclock.now() - 1);
    assert.equal(atStallEnd.length, 0, "slots missed by the stall were run at its end");
    assert.ok(h.scheduler.counters().missedSlots >= 20 * 5, JSON.stringify(h.scheduler.counters()));
    const stallEnd = vclock.now() - 1;
    await vclock.advance(60 * SEC);
    for (const c of tenS) {
      const times = h.starts.get(c.name)!;
      // On the slots they had before the stall; none during it; after it, from the first future slot on, every slot.
      assertOnSlots(times, 10 * SEC, c.name);
      assert.equal(times.filter((t) => t > stallEnd - 60 * SEC && t <= stallEnd).length, 0);
      const after = times.filter((t) => t > stallEnd);
      assert.ok(after[0]! - stallEnd <= 10 * SEC, `${c.name}: first run ${after[0]! - stallEnd} ms after the stall`);
      assert.ok(after.length >= 6 && after.every((t, i) => i === 0 || t - after[i - 1]! === 10 * SEC), `${c.name}: ${after.map((t) => t - stallEnd).join(",")}`);
    }
    assert.ok(h.calls.length > before);
    await h.stop();
  });

  it("runs a slot that a short stall made late, once, late", async () => {
    let stalling!: StallingClock;
    const h = harness({ clock: (v) => (stalling = new StallingClock(v)) });
    const vclock = h.clock;
    h.scheduler.setSchedules([set("s", [check("a", 10 * SEC)])]);
    await vclock.advance(5 * SEC);
    stalling.stallFor(8 * SEC); // the slot at 10 s comes at 13 s
    await vclock.advance(20 * SEC);
    const times = h.starts.get("a")!.map((t) => t - h.starts.get("a")![0]!);
    assert.deepEqual(times, [0, 13 * SEC, 20 * SEC]);
    assert.equal(h.scheduler.counters().maxLateMs, 3 * SEC);
    await h.stop();
  });
});

describe("scheduler: the flap guard", () => {
  it("runs an always-failing check's action 3 times in 10 minutes, then suppresses it, until the window lets the next one through", async () => {
    const h = harness({ status: () => "fail" });
    h.scheduler.setSchedules([set("web", [check("nginx", MIN, { action: "systemctl restart nginx" }), check("plain", MIN)])]);
    await h.clock.advance(3 * MIN + 1); // runs at 0, 1, 2 and 3 min
    const nginx = h.calls.filter((c) => c.checks.includes("nginx"));
    assert.deepEqual(
      nginx.map((c) => c.o.runActions),
      [true, true, true, false],
    );
    assert.equal(nginx[3]!.o.skipReason, "flapping (3 action runs in 10m)");
    // The held-back check runs in its own call; the rest of the tick's checks run with actions as usual.
    assert.deepEqual(nginx[3]!.checks, ["nginx"]);
    assert.ok(h.calls.some((c) => c.atMs === nginx[3]!.atMs && c.checks.includes("plain") && c.o.runActions && c.o.batchId === nginx[3]!.o.batchId));
    const last = h.records.at(-1)!.results.find((r) => r.name === "nginx")!;
    assert.equal(last.status, "fail");
    assert.equal(last.message, "down; action suppressed: flapping (3 action runs in 10m)");
    assert.equal(last.action?.skipped, "action suppressed: flapping (3 action runs in 10m)");
    assert.deepEqual(h.suppressed, [{ schedule: "web", check: "nginx", runsInWindow: 3, windowMs: 10 * MIN }]);

    await h.clock.advance(7 * MIN); // runs at 4..10 min: the run at 0 leaves the window at 10 min
    const flags = h.calls.filter((c) => c.checks.includes("nginx")).map((c) => c.o.runActions);
    assert.deepEqual(flags, [true, true, true, false, false, false, false, false, false, false, true]);
    assert.equal(h.suppressed.length, 7);
    assert.equal(h.scheduler.counters().suppressedActions, 7);
    const state = h.scheduler.states().find((s) => s.check === "nginx")!;
    assert.equal(state.suppressed, 7);
    assert.equal(state.status, "fail");
    await h.stop();
  });

  it("holds nothing back on a node with actions disabled: every check runs without actions, saying why", async () => {
    const h = harness({ status: () => "fail", actionsEnabled: () => false });
    h.scheduler.setSchedules([set("web", [check("nginx", MIN, { action: "systemctl restart nginx" })])]);
    await h.clock.advance(5 * MIN);
    assert.ok(h.calls.every((c) => !c.o.runActions && c.o.skipReason === "actions disabled on this node"));
    assert.equal(h.suppressed.length, 0);
    await h.stop();
  });
});

describe("scheduler: transitions and states", () => {
  it("reports every change of status, the first result included, and nothing while it stays", async () => {
    const sequence: CheckStatus[] = ["pass", "pass", "fail", "fail", "fixed", "pass", "warn", "error", "pass", "pass"];
    const h = harness({ status: (_, n) => sequence[n] ?? "pass" });
    const t0 = h.clock.now();
    h.scheduler.setSchedules([set("db", [check("pg", 10 * SEC, { quorum: "majority" })])]);
    await h.clock.advance(95 * SEC);
    assert.deepEqual(
      h.transitions.map((t) => `${t.from}->${t.to}`),
      ["none->pass", "pass->fail", "fail->fixed", "fixed->pass", "pass->warn", "warn->error", "error->pass"],
    );
    const t = h.transitions[1]!;
    assert.deepEqual(t, { node: "n1", schedule: "db", check: "pg", from: "pass", to: "fail", atMs: t0 + 20 * SEC, message: "fail #3", intervalMs: 10 * SEC, quorum: "majority" });
    assert.equal(h.scheduler.counters().transitions, 7);
    assert.deepEqual(h.scheduler.states(), [
      { schedule: "db", check: "pg", status: "pass", message: "pass #10", sinceMs: t0 + 80 * SEC, lastRunMs: t0 + 90 * SEC, intervalMs: 10 * SEC, suppressed: 0, quorum: "majority" },
    ]);
    // Each evaluation is a batch of the schedule.
    assert.equal(h.records.length, 10);
    assert.ok(h.records.every((r) => r.schedule === "db" && r.checks.length === 1 && r.results.length === 1));
    await h.stop();
  });

  it("turns a run that throws into an error result per check", async () => {
    const clock = new VirtualClock();
    const records: ScheduleRunRecord[] = [];
    const s = new Scheduler({
      clock,
      random: new SeededRandom(1),
      log: nullLogger,
      actionsEnabled: () => true,
      onRun: (r) => records.push(r),
      run: () => Promise.reject(new Error("spawn EAGAIN")),
    });
    s.setSchedules([set("s", [check("a", SEC), check("b", SEC)])]);
    await clock.advance(10);
    assert.deepEqual(
      records[0]!.results.map((r) => [r.name, r.status, r.message]),
      [
        ["a", "error", "the scheduled run failed: spawn EAGAIN"],
        ["b", "error", "the scheduled run failed: spawn EAGAIN"],
      ],
    );
    await s.stop();
  });
});

describe("scheduler: setSchedules", () => {
  it("keeps an unchanged check's slots and state, restarts a changed one, starts a new one", async () => {
    const h = harness();
    const t0 = h.clock.now();
    const a = check("a", 10 * SEC, { splayMs: 10 * SEC });
    const b = check("b", 10 * SEC);
    h.scheduler.setSchedules([set("s", [a, b])]);
    await h.clock.advance(25 * SEC);
    const aSince = h.scheduler.states().find((s) => s.check === "a")!.sinceMs;
    // A new version of the schedule, as parsed again: a equal, b changed, c new.
    h.scheduler.setSchedules([set("s", [{ ...a }, { ...b, path: "/tmp/b2" }, check("c", 10 * SEC)])]);
    const t1 = h.clock.now();
    await h.clock.advance(60 * SEC);
    assertOnSlots(h.starts.get("a")!, 10 * SEC, "a");
    assert.ok(h.starts.get("a")!.length >= 8);
    assert.equal(h.scheduler.states().find((s) => s.check === "a")!.sinceMs, aSince);
    // b: on its old slots (t0 + k x 10 s) before, on the new anchor's after.
    const bTimes = h.starts.get("b")!;
    assert.deepEqual(
      bTimes.filter((t) => t < t1).map((t) => t - t0),
      [0, 10 * SEC, 20 * SEC],
    );
    assert.deepEqual(
      bTimes.filter((t) => t >= t1).map((t) => t - t1),
      [0, 10 * SEC, 20 * SEC, 30 * SEC, 40 * SEC, 50 * SEC, 60 * SEC],
    );
    // A changed check starts afresh: its first result is a transition from "none" again.
    assert.deepEqual(
      h.transitions.filter((t) => t.check === "b").map((t) => t.from),
      ["none", "none"],
    );
    assert.equal(h.transitions.filter((t) => t.check === "a").length, 1);
    await h.stop();
  });

  it("stops a removed schedule: no further runs, and the results of a run still going are dropped", async () => {
    const h = harness({ runMs: () => 5 * SEC, status: () => "fail" });
    h.scheduler.setSchedules([set("gone", [check("x", 10 * SEC)]), set("kept", [check("y", 10 * SEC)])]);
    await h.clock.advance(2 * SEC); // both runs going (5 s each)
    h.scheduler.setSchedules([set("kept", [check("y", 10 * SEC)])]);
    await h.clock.advance(60 * SEC);
    assert.equal(h.starts.get("x")!.length, 1);
    assert.equal(h.starts.get("y")!.length, 7);
    assert.ok(h.records.every((r) => r.schedule === "kept"));
    assert.ok(h.transitions.every((t) => t.check === "y"));
    assert.deepEqual(
      h.scheduler.states().map((s) => s.check),
      ["y"],
    );
    assert.equal(h.scheduler.counters().droppedResults, 1);
    assert.equal(h.scheduler.counters().scheduled, 1);
    h.scheduler.setSchedules([]);
    await h.clock.advance(60 * SEC);
    assert.equal(h.starts.get("y")!.length, 7);
    await h.stop();
  });

  it("ignores checks without an interval, and stop() waits for the running evaluations", async () => {
    const h = harness({ runMs: () => 3 * SEC });
    h.scheduler.setSchedules([set("s", [check("a", 10 * SEC), { name: "once", type: "file_exists", path: "/x" }])]);
    await h.clock.advance(1 * SEC);
    assert.deepEqual(
      h.calls.map((c) => c.checks),
      [["a"]],
    );
    let stopped = false;
    const stopping = h.scheduler.stop().then(() => (stopped = true));
    await h.clock.advance(1 * SEC);
    assert.equal(stopped, false);
    await h.clock.advance(2 * SEC);
    await stopping;
    assert.equal(h.records.length, 1, "the run that was going when stop() was called reported");
    await h.clock.advance(60 * SEC);
    assert.equal(h.calls.length, 1);
  });
});

/**
 * A clock whose timers cannot fire while "stalled", like a blocked event
 * loop or a suspended VM: what falls due during a stall fires at its end.
 */
class StallingClock implements Clock {
  private stalledUntil = 0;
  constructor(private readonly inner: VirtualClock) {}
  now(): number {
    return this.inner.now();
  }
  stallFor(ms: number): void {
    this.stalledUntil = this.inner.now() + ms;
  }
  setTimeout(fn: () => void, ms: number) {
    let cancelled = false;
    let timer = this.inner.setTimeout(fire, ms);
    const self = this;
    function fire() {
      if (cancelled) return;
      if (self.inner.now() < self.stalledUntil) timer = self.inner.setTimeout(fire, self.stalledUntil - self.inner.now());
      else fn();
    }
    return {
      cancel: () => {
        cancelled = true;
        timer.cancel();
      },
    };
  }
}

/** A clock whose timers fire up to maxLateMs late, at random. */
class LateClock implements Clock {
  constructor(
    private readonly inner: VirtualClock,
    private readonly random: SeededRandom,
    private readonly maxLateMs: number,
  ) {}
  now(): number {
    return this.inner.now();
  }
  setTimeout(fn: () => void, ms: number) {
    return this.inner.setTimeout(fn, ms + this.random.int(this.maxLateMs + 1));
  }
}
