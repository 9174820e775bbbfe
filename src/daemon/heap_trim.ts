/*
 * Gives memory back once a busy spell is over (issue 18, target 1: a daemon
 * that ran batches must idle like a fresh one).
 *
 * From V8 12 on (Node 22 and later) a daemon keeps what a burst made V8
 * take: 3 daemons after a 20-second burst of about 20,000 batches sat at
 * 208-227 MiB of private memory on Node 24 (22 fresh) and had not moved 60 s
 * later. Node 20's V8 gives most of it back by itself (84-104 -> 48-51 MiB
 * within 90 s), and nothing runs there: its gc() has no memory-reducing
 * collection.
 *
 * Every 10 s the trimmer looks at the event loop and the resident size.
 * Once the loop has been under 5% busy for two checks in a row while the
 * resident size is 16 MiB above its resting size (at start, or the least
 * seen since), it runs V8's memory-reducing collection (the gc extension's
 * "last-resort" flavor, what V8 runs under memory pressure), which shrinks
 * the young generation and releases the pages V8 keeps pooled: about 0.1 s,
 * while nothing else runs, at most once a minute, and a trim that gives back
 * little doubles the wait for the next (up to an hour).
 *
 * Measured with the same build and the same burst on Node 24 (docs/
 * BENCHMARKS.md, "The young generation after a burst"): with the trimmer,
 * 205-212 -> 80-84 MiB within 20 s; without it, none given back. Most of
 * that release comes before the first trim runs, and it comes from the
 * second V8 context the gc function is taken from (`--expose-gc`, set at
 * run time, installs it in contexts made afterwards): on Node 24 and 26 V8
 * gives back memory after a burst, 15 to 35 s later, only in a process
 * that has made a second context, kept or let go; --expose-gc alone does
 * nothing (bench section heap_release: 394 -> 105 MiB with the context,
 * 394 -> 394 without, on Node 24). So the context stays; the trims then find
 * little left (about 1 MiB each) and back off. On Node 22 the trims are
 * what does it (about 40 MiB each). Capping the young generation
 * instead (--semi-space-growth-factor=1) cost 13% more CPU per batch of 300
 * checks.
 */
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Logger } from "../base/logger.js";

export interface HeapTrimOptions {
  /** How often the heap and the event loop are looked at (ms). */
  checkMs: number;
  /** Checks in a row the event loop must have been this quiet (its utilization, 0 to 1) for a trim. */
  quietChecks: number;
  quietUtilization: number;
  /** Resident memory above its resting size that is worth a trim (bytes); a trim that gives back less than half of it is ineffective. */
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
  growthBytes: 16 * 1024 * 1024,
  minGapMs: 60_000,
  maxGapMs: 3_600_000,
};

/** What the trimmer knows between two checks. */
export interface TrimState {
  quietInARow: number;
  /** The process's resting size: resident bytes at start, lowered whenever it is found smaller. */
  restingBytes: number;
  lastTrimAt: number;
  /** Time that must pass since the last trim before the next. */
  gapMs: number;
  /**
   * Resident bytes just before the last trim, until the check after it has
   * seen what it gave back: V8 unmaps the pages it frees on a background
   * thread, so right after the collection the resident size has hardly moved.
   */
  trimmedFromBytes: number | null;
}

type Limits = Pick<HeapTrimOptions, "quietChecks" | "quietUtilization" | "growthBytes" | "minGapMs" | "maxGapMs">;

export function initialTrimState(o: Limits, residentBytes: number): TrimState {
  return { quietInARow: 0, restingBytes: residentBytes, lastTrimAt: -Infinity, gapMs: o.minGapMs, trimmedFromBytes: null };
}

/**
 * The decision at one check: whether to trim now, the state after this
 * check, and what the last trim gave back if this is the check after it.
 * A trim that gave back at least half of growthBytes sets the gap to the
 * next one to minGapMs (a batch's records expiring later may make that one
 * worth it too); one that gave back less doubles it, up to maxGapMs, so a
 * daemon that holds more for good (a large cluster's member table) is not
 * collected every minute for nothing.
 */
export function trimDecision(s: TrimState, o: Limits, utilization: number, residentBytes: number, now: number): { trim: boolean; state: TrimState; gaveBackBytes?: number } {
  const quiet = utilization < o.quietUtilization;
  const state: TrimState = { ...s, quietInARow: quiet ? s.quietInARow + 1 : 0, restingBytes: Math.min(s.restingBytes, residentBytes), trimmedFromBytes: null };
  let gaveBackBytes: number | undefined;
  if (s.trimmedFromBytes !== null) {
    gaveBackBytes = s.trimmedFromBytes - residentBytes;
    state.gapMs = gaveBackBytes >= o.growthBytes / 2 ? o.minGapMs : Math.min(s.gapMs * 2, o.maxGapMs);
  }
  const trim = quiet && state.quietInARow >= o.quietChecks && residentBytes > state.restingBytes + o.growthBytes && now - state.lastTrimAt >= state.gapMs;
  return { trim, state, ...(gaveBackBytes !== undefined && { gaveBackBytes }) };
}

/** The state after a trim started at `now` with `residentBytes` resident. */
export function afterTrim(s: TrimState, residentBytes: number, now: number): TrimState {
  return { ...s, lastTrimAt: now, trimmedFromBytes: residentBytes };
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
  let state = initialTrimState(o, process.memoryUsage.rss());
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let trims = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    const resident = process.memoryUsage.rss();
    const d = trimDecision(state, o, utilization, resident, Date.now());
    state = d.state;
    if (d.gaveBackBytes !== undefined) o.log?.debug({ rssBefore: resident + d.gaveBackBytes, rssAfter: resident, nextGapMs: state.gapMs }, "V8's heap trim gave memory back");
    if (!d.trim) return;
    const t0 = performance.now();
    gc();
    trims++;
    state = afterTrim(state, resident, Date.now());
    o.log?.debug({ rss: resident, ms: Math.round(performance.now() - t0) }, "trimming V8's heap after a busy spell");
  }, o.checkMs);
  timer.unref();
  return {
    get trims() {
      return trims;
    },
    stop: () => clearInterval(timer),
  };
}
