/**
 * Scheduled checks (issue 14): the CPU cost of 1000 scheduled checks at a
 * 10 s interval on one node (target: under 1% of one core), with real
 * file_exists / file_contains checks and with a no-op run (the scheduler's
 * own overhead: timers, grouping, state); and the lateness of runs over a
 * simulated day on a VirtualClock (no drift).
 *
 * BENCH_SCHEDULE_SECONDS sets the real-time measurement (default 60 s each).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock, VirtualClock, type Clock } from "../src/base/clock.js";
import { nullLogger } from "../src/base/logger.js";
import { SeededRandom, systemRandom } from "../src/base/random.js";
import { runBatch, type CheckResult, type CheckSpec } from "../src/checks/index.js";
import { defaultSchedulerConfig } from "../src/schedule/config.js";
import { Scheduler, type SchedulerOptions } from "../src/schedule/scheduler.js";
import type { BenchSection } from "./report.js";

const CHECKS = 1000;
const INTERVAL_MS = 10_000;
const SPLAY_MS = 10_000;
const SECONDS = Number(process.env.BENCH_SCHEDULE_SECONDS ?? 60);
const DAY_MS = 24 * 3_600_000;

export async function run(): Promise<BenchSection[]> {
  const dir = await mkdtemp(join(tmpdir(), "gossipcheck-bench-schedule-"));
  try {
    const checks = await realChecks(dir);
    const runReal: SchedulerOptions["run"] = (cs, o) => runBatch(cs, { batchId: o.batchId, node: "bench", runActions: o.runActions, ...(o.skipReason !== undefined && { skipReason: o.skipReason }) });
    const coalesce = defaultSchedulerConfig().coalesceMs;
    const real = await cpuOver(checks, runReal);
    const real50 = await cpuOver(checks, runReal, 50);
    const noop = await cpuOver(checks, async (cs) => cs.map(passed));
    const day = await simulatedDay(checks);
    return [
      {
        title: `schedule: CPU of ${CHECKS} scheduled checks at a ${INTERVAL_MS / 1000} s interval, splay ${SPLAY_MS / 1000} s (one node, ${SECONDS} s of real time)`,
        columns: ["run", "CPU % of one core", "evaluations", "run calls", "ticks", "max late ms", "max early ms", "skipped"],
        rows: [
          row(`real checks (runBatch: half file_exists, half file_contains), coalescing ${coalesce} ms (default)`, real),
          row("real checks, coalescing 50 ms", real50),
          row(`no-op run (the scheduler's own overhead and the wake-ups), coalescing ${coalesce} ms`, noop),
        ],
        notes: [
          "Target: under 1% of one core. CPU is process.cpuUsage (user + system) over the window, after one warm-up interval; the process does nothing else.",
          "Ticks: timer wake-ups that ran something (checks due within the coalescing window share one). Late/early: a run's start against its slot, on the real clock.",
        ],
      },
      {
        title: `schedule: a simulated day of ${CHECKS} checks at a ${INTERVAL_MS / 1000} s interval (VirtualClock, timers up to 20 ms late, runs up to 5 s)`,
        columns: ["runs", "expected", "max deviation from slot ms", "max late ms", "max early ms", "skipped", "wall s"],
        rows: [[day.runs, day.expected, day.maxDeviationMs.toFixed(1), day.maxLateMs.toFixed(1), day.maxEarlyMs.toFixed(1), day.skipped, day.wallS.toFixed(1)]],
        notes: [
          "Deviation: of each check's k-th run from its first run + k x interval, over the whole day: it stays within the coalescing window (default 250 ms early at most) plus the timer's lateness (20 ms), however long the day and whatever runs take (no drift).",
        ],
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const passed = (c: CheckSpec): CheckResult => ({ name: c.name, type: c.type, status: "pass", message: "ok", durationMs: 0 });

async function realChecks(dir: string): Promise<CheckSpec[]> {
  const checks: CheckSpec[] = [];
  for (let i = 0; i < CHECKS; i++) {
    const path = join(dir, `f${i}`);
    await writeFile(path, `line one\nkey${i}=value\nline three\n`);
    checks.push(
      i % 2 === 0
        ? { name: `exists_${i}`, type: "file_exists", path, intervalMs: INTERVAL_MS, splayMs: SPLAY_MS }
        : { name: `contains_${i}`, type: "file_contains", path, check: `key${i}=`, intervalMs: INTERVAL_MS, splayMs: SPLAY_MS },
    );
  }
  return checks;
}

interface CpuRun {
  cpuPercent: number;
  counters: ReturnType<Scheduler["counters"]>;
}

function row(what: string, r: CpuRun): (string | number)[] {
  const c = r.counters;
  return [what, r.cpuPercent.toFixed(2), c.evaluations, c.runs, c.ticks, c.maxLateMs.toFixed(1), c.maxEarlyMs.toFixed(1), c.skippedBusy + c.missedSlots];
}

async function cpuOver(checks: CheckSpec[], run: SchedulerOptions["run"], coalesceMs?: number): Promise<CpuRun> {
  const scheduler = new Scheduler({ clock: systemClock, random: systemRandom, log: nullLogger, actionsEnabled: () => true, run, ...(coalesceMs !== undefined && { config: { coalesceMs } }) });
  scheduler.setSchedules([{ name: "bench", source: "local", checks }]);
  await sleep(INTERVAL_MS); // warm-up: every check has run once, the JIT has settled
  const before = scheduler.counters();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  const after = scheduler.counters();
  await scheduler.stop();
  const delta = { ...after, ticks: after.ticks - before.ticks, runs: after.runs - before.runs, evaluations: after.evaluations - before.evaluations };
  return { cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100, counters: delta };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function simulatedDay(checks: CheckSpec[]) {
  const vclock = new VirtualClock();
  const random = new SeededRandom(14);
  // Real timers fire a little late; so do these.
  const late: Clock = { now: () => vclock.now(), setTimeout: (fn, ms) => vclock.setTimeout(fn, ms + random.int(21)) };
  const starts = new Map<string, number[]>();
  const scheduler = new Scheduler({
    clock: late,
    random,
    log: nullLogger,
    actionsEnabled: () => true,
    async run(cs) {
      const at = vclock.now();
      for (const c of cs) (starts.get(c.name) ?? starts.set(c.name, []).get(c.name)!).push(at);
      await new Promise<void>((resolve) => vclock.setTimeout(resolve, random.int(5000)));
      return cs.map(passed);
    },
  });
  const t0 = performance.now();
  scheduler.setSchedules([{ name: "bench", source: "local", checks }]);
  for (let h = 0; h < 24; h++) await vclock.advance(DAY_MS / 24);
  const wallS = (performance.now() - t0) / 1000;
  let runs = 0;
  let maxDeviationMs = 0;
  for (const times of starts.values()) {
    runs += times.length;
    for (const t of times) {
      const k = Math.round((t - times[0]!) / INTERVAL_MS);
      maxDeviationMs = Math.max(maxDeviationMs, Math.abs(t - times[0]! - k * INTERVAL_MS));
    }
  }
  const c = scheduler.counters();
  let done = false;
  const stopping = scheduler.stop().then(() => (done = true));
  while (!done) await vclock.advance(1000);
  await stopping;
  return { runs, expected: CHECKS * (DAY_MS / INTERVAL_MS), maxDeviationMs, maxLateMs: c.maxLateMs, maxEarlyMs: c.maxEarlyMs, skipped: c.skippedBusy + c.missedSlots, wallS };
}
