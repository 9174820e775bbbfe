/*
 * Gives V8's young generation back once a busy spell is over (issue 18,
 * target 1: a daemon that ran batches must idle like a fresh one).
 *
 * While a process allocates fast, V8 doubles the young generation's
 * semi-spaces, up to 16 MiB each on Node 20, 22 and 26 and 32 on Node 24.
 * From V8 12 on (Node 22 and later) it keeps them when the process goes
 * quiet: 3 daemons after a 30-second burst of batches sat at 77 to 83 MiB of
 * private memory on Node 24 (22 fresh) and had not moved 90 s later. Node
 * 20's V8 gives them back by itself through its memory reducer (45 -> 31 MiB
 * within 50 s), so nothing is done there.
 *
 * Capping the growth instead (--semi-space-growth-factor=1, which V8 reads
 * at run time) cost 13% more CPU per batch of 300 checks (docs/BENCHMARKS.md,
 * "The young generation after a burst"). So the daemon lets V8 grow the young
 * generation while it is busy, and once the event loop has been nearly idle
 * for two checks in a row while V8's committed heap is well above its
 * resting size (at start, or the least seen since), it runs one
 * memory-reducing full GC: V8's own
 * "last resort" collection, the one it runs under memory pressure, which
 * also shrinks the young generation to its first size. It costs about 30 ms
 * of CPU, when nothing else is running, at most once a minute; a trim that
 * gives back little doubles the wait for the next (up to an hour).
 *
 * The collection comes from V8's gc extension: `--expose-gc` set at run time
 * installs `gc` in contexts made afterwards, so a throwaway vm context hands
 * it over without putting it on the daemon's global object.
 */
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Logger } from "../base/logger.js";

export interface HeapTrimOptions {
  /** How often the heap and the event loop are looked at (ms). */
  checkMs: number;
  /** Checks in a row the event loop must have been this quiet (its utilization, 0 to 1) for a trim. */
  quietChecks: number;
  quietUtilization: number;
  /** Committed heap above its resting size that is worth a trim (bytes); a trim that gives back less is ineffective. */
  growthBytes: number;
  /** Least time between two trims (ms), doubled after each ineffective trim up to maxGapMs. */
  minGapMs: number;
  maxGapMs: number;
  log?: Logger;
}

export const DEFAULT_HEAP_TRIM: HeapTrimOptions = {
  checkMs: 10_000,
  quietChecks: 2,
  quietUtilization: 0.05,
  growthBytes: 8 * 1024 * 1024,
  minGapMs: 60_000,
  maxGapMs: 3_600_000,
};

/** What the trimmer knows between two checks. */
export interface TrimState {
  quietInARow: number;
  /** The heap's resting size: committed bytes at start, lowered whenever it is found smaller. */
  restingBytes: number;
  lastTrimAt: number;
  /** Time that must pass since the last trim before the next. */
  gapMs: number;
}

type Limits = Pick<HeapTrimOptions, "quietChecks" | "quietUtilization" | "growthBytes" | "minGapMs" | "maxGapMs">;

export function initialTrimState(o: Limits, committedBytes: number): TrimState {
  return { quietInARow: 0, restingBytes: committedBytes, lastTrimAt: -Infinity, gapMs: o.minGapMs };
}

/** The decision at one check: whether to trim now, and the state after this check. */
export function trimDecision(s: TrimState, o: Limits, utilization: number, committedBytes: number, now: number): { trim: boolean; state: TrimState } {
  const quiet = utilization < o.quietUtilization;
  const state: TrimState = { ...s, quietInARow: quiet ? s.quietInARow + 1 : 0, restingBytes: Math.min(s.restingBytes, committedBytes) };
  const trim = quiet && state.quietInARow >= o.quietChecks && committedBytes > state.restingBytes + o.growthBytes && now - state.lastTrimAt >= state.gapMs;
  return { trim, state };
}

/**
 * The state after a trim that took the committed heap from `before` to
 * `after`: the gap back to minGapMs if it gave back at least growthBytes
 * (a batch's records expiring later may make the next one worth it too), else
 * doubled, so a daemon that holds more for good (a large cluster's member
 * table) is not collected every minute for nothing.
 */
export function afterTrim(s: TrimState, o: Limits, before: number, after: number, now: number): TrimState {
  const effective = before - after >= o.growthBytes;
  return { ...s, restingBytes: Math.min(s.restingBytes, after), lastTrimAt: now, gapMs: effective ? o.minGapMs : Math.min(s.gapMs * 2, o.maxGapMs) };
}

type GcFunction = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/** V8's memory-reducing collection, or null where V8 gives the young generation back by itself (V8 11: Node 20). */
export function memoryReducingGc(v8Version = process.versions.v8): (() => void) | null {
  const major = Number.parseInt(v8Version, 10);
  // V8 11's gc() knows no "flavor" (its collection would not shrink anything), and its memory reducer does the job.
  if (!(major >= 12)) return null;
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as GcFunction | undefined;
    if (typeof gc !== "function") return null;
    return () => gc({ type: "major", execution: "sync", flavor: "last-resort" });
  } catch {
    return null;
  }
}

export interface HeapTrimmer {
  /** Trims done so far. */
  readonly trims: number;
  stop(): void;
}

/** Starts the checks (an unref'd timer); null where this V8 needs none (memoryReducingGc). */
export function startHeapTrim(options: Partial<HeapTrimOptions> = {}, gc = memoryReducingGc()): HeapTrimmer | null {
  if (!gc) return null;
  const o = { ...DEFAULT_HEAP_TRIM, ...options };
  let state = initialTrimState(o, getHeapStatistics().total_heap_size);
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let trims = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    const before = getHeapStatistics().total_heap_size;
    const d = trimDecision(state, o, utilization, before, Date.now());
    state = d.state;
    if (!d.trim) return;
    const t0 = performance.now();
    gc();
    const after = getHeapStatistics().total_heap_size;
    trims++;
    state = afterTrim(state, o, before, after, Date.now());
    o.log?.debug({ committedBefore: before, committedAfter: after, ms: Math.round(performance.now() - t0), nextGapMs: state.gapMs }, "gave V8's heap back after a busy spell");
  }, o.checkMs);
  timer.unref();
  return {
    get trims() {
      return trims;
    },
    stop: () => clearInterval(timer),
  };
}
