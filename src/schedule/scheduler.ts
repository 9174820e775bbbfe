import type { Clock, Timer } from "../base/clock.js";
import type { Logger } from "../base/logger.js";
import type { Random } from "../base/random.js";
import { errorMessage } from "../base/result.js";
import type { CheckResult, CheckSpec, CheckStatus, Quorum } from "../checks/types.js";
import type { CheckState, TransitionRecord } from "../control/watch_types.js";
import { defaultSchedulerConfig, type SchedulerConfig } from "./config.js";
import { DueHeap, type DueItem } from "./due_heap.js";
import { FlapGuard, formatWindow } from "./flap_guard.js";

/*
 * Runs every scheduled check (a check with an interval) of this node's
 * schedules on time, and follows each one's status.
 *
 * Timing. A check's k-th run is due at anchor + offset + k x interval: the
 * anchor is when its schedule (version) was set here, the offset a random
 * splay drawn once. Slots are computed, never accumulated, so a run's
 * duration or a late timer never shifts the next slot (no drift). All checks
 * sit in one min-heap by due time, with one timer for its top: the cost of a
 * tick is that of the checks it runs, not of the checks held.
 *
 * - Checks due within coalesceMs of the tick (at most a twentieth of their
 *   interval) run together, one `run` per schedule (one wake-up, one process
 *   snapshot, one batch record): see config.ts for what that saves.
 * - A check whose previous run is still going when its slot comes is not
 *   started twice: the slot is skipped (counted as skippedBusy).
 * - A slot found more than half an interval late (the event loop was
 *   blocked, the VM suspended) is skipped: the next slot is nearer than the
 *   missed one was, and running every held-back check at once would undo
 *   the splay. The checks resume at their next future slot; the skipped
 *   slots are counted (missedSlots). Never twice in a row for one check,
 *   so a loop that is always that late still runs every other slot rather
 *   than nothing.
 *
 * Actions run through the flap guard (flap_guard.ts): a check past its
 * bound is run in a separate call with actions off, and its failing result
 * says "action suppressed: flapping".
 */

export interface ScheduleSet {
  /** The schedule's name; a -checks-dir file's is "local:FILE". */
  name: string;
  source: "cluster" | "local";
  /** Only those with intervalMs are scheduled. */
  checks: CheckSpec[];
}

/** What the scheduler asks of one run call. */
export interface ScheduledRun {
  runActions: boolean;
  /** Why actions are skipped when runActions is false. */
  skipReason?: string;
  schedule: string;
  /** Shared by the calls of one schedule in one tick (one batch in the history). */
  batchId: string;
}

export interface ScheduleRunRecord {
  schedule: string;
  batchId: string;
  startedMs: number;
  finishedMs: number;
  checks: CheckSpec[];
  results: CheckResult[];
}

export type ScheduledTransition = TransitionRecord & { quorum?: Quorum; intervalMs: number };

export interface SuppressedAction {
  schedule: string;
  check: string;
  runsInWindow: number;
  windowMs: number;
}

export interface SchedulerOptions {
  clock: Clock;
  random: Random;
  config?: Partial<SchedulerConfig>;
  log: Logger;
  /** This node's name, for the transition records; default "". */
  node?: string;
  /** Runs checks (real: runBatch from src/checks with runActions per call; tests inject). Results in the order of `checks`. */
  run(checks: CheckSpec[], o: ScheduledRun): Promise<CheckResult[]>;
  /** Whether this node runs actions at all (-no-actions); read at each run. */
  actionsEnabled(): boolean;
  /** Every evaluation of a tick, per schedule (the history records it as a batch with schedule = name). Called before the run's transitions. */
  onRun?(r: ScheduleRunRecord): void;
  /** Every status change of a scheduled check: from "none" on its first run. */
  onTransition?(t: ScheduledTransition): void;
  /** The flap guard held back an action. */
  onSuppressed?(e: SuppressedAction): void;
}

export interface SchedulerCounters {
  /** Checks scheduled now. */
  scheduled: number;
  /** Evaluations (one per schedule per tick) still running. */
  running: number;
  /** Timer wake-ups that ran something. */
  ticks: number;
  /** run calls made. */
  runs: number;
  /** Check evaluations made. */
  evaluations: number;
  /** Slots skipped because the check's previous run was still going. */
  skippedBusy: number;
  /** Slots skipped after a stall (more than half an interval late). */
  missedSlots: number;
  /** Action runs the flap guard held back. */
  suppressedActions: number;
  transitions: number;
  /** Results dropped because their check was removed or replaced while it ran. */
  droppedResults: number;
  /** The latest and the earliest (coalesced) a run started against its slot (ms). */
  maxLateMs: number;
  maxEarlyMs: number;
}

interface Entry extends DueItem {
  schedule: string;
  spec: CheckSpec;
  /** The schedule's source and the spec, as JSON: an unchanged check keeps its entry. */
  identity: string;
  intervalMs: number;
  /** anchor + offset: slot k is due at baseMs + k x intervalMs. */
  baseMs: number;
  k: number;
  running: boolean;
  /** False once removed or replaced by setSchedules: its results are dropped. */
  current: boolean;
  /** The previous slot was skipped as stale (never twice in a row). */
  skippedStale: boolean;
  flap: FlapGuard;
  state?: Omit<CheckState, "schedule" | "check" | "intervalMs" | "quorum">;
}

export class Scheduler {
  private readonly config: SchedulerConfig;
  private readonly heap = new DueHeap<Entry>();
  private entries = new Map<string, Entry>();
  private timer: Timer | undefined;
  private armedAt = Infinity;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly flapReason: string;
  private readonly count: Omit<SchedulerCounters, "scheduled" | "running"> = {
    ticks: 0,
    runs: 0,
    evaluations: 0,
    skippedBusy: 0,
    missedSlots: 0,
    suppressedActions: 0,
    transitions: 0,
    droppedResults: 0,
    maxLateMs: 0,
    maxEarlyMs: 0,
  };

  constructor(private readonly o: SchedulerOptions) {
    this.config = { ...defaultSchedulerConfig(), ...o.config };
    this.flapReason = `flapping (${this.config.maxActionRuns} action runs in ${formatWindow(this.config.flapWindowMs)})`;
  }

  /**
   * Replaces the schedules. A check whose schedule, name and spec are
   * unchanged keeps its state and slots; a new or changed one starts afresh
   * (anchored now, first run after its splay offset); a removed one stops
   * (a run still going finishes, its results are dropped).
   */
  setSchedules(sets: ScheduleSet[]): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    const next = new Map<string, Entry>();
    const added: Entry[] = [];
    for (const set of sets) {
      for (const spec of set.checks) {
        if (spec.intervalMs === undefined) continue;
        const key = `${set.name}\u0000${spec.name}`;
        if (next.has(key)) {
          this.o.log.warn({ schedule: set.name, check: spec.name }, "scheduler: a check appears twice in a schedule: the first one is kept");
          continue;
        }
        const identity = JSON.stringify([set.source, spec]);
        const old = this.entries.get(key);
        if (old?.identity === identity) {
          next.set(key, old);
          continue;
        }
        const offset = spec.splayMs ? this.o.random.float() * spec.splayMs : 0;
        const entry: Entry = {
          schedule: set.name,
          spec,
          identity,
          intervalMs: spec.intervalMs,
          baseMs: now + offset,
          k: 0,
          dueMs: now + offset,
          heapIndex: -1,
          running: false,
          current: true,
          skippedStale: false,
          flap: new FlapGuard(this.config.maxActionRuns, this.config.flapWindowMs),
        };
        next.set(key, entry);
        added.push(entry);
      }
    }
    for (const [key, old] of this.entries) {
      if (next.get(key) === old) continue;
      old.current = false;
      this.heap.remove(old);
    }
    for (const e of added) this.heap.push(e);
    this.entries = next;
    this.arm();
  }

  /** The current state of every scheduled check that has run at least once. */
  states(): CheckState[] {
    const out: CheckState[] = [];
    for (const e of this.entries.values()) {
      if (!e.state) continue;
      out.push({ schedule: e.schedule, check: e.spec.name, ...e.state, intervalMs: e.intervalMs, ...(e.spec.quorum !== undefined && { quorum: e.spec.quorum }) });
    }
    return out;
  }

  counters(): SchedulerCounters {
    return { scheduled: this.entries.size, running: this.inFlight.size, ...this.count };
  }

  /** Stops scheduling; resolves when the running evaluations have finished (and reported). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** One timer, for the earliest due check. */
  private arm(): void {
    if (this.stopped) return;
    const top = this.heap.peek();
    if (top === undefined) {
      this.timer?.cancel();
      this.timer = undefined;
      this.armedAt = Infinity;
      return;
    }
    if (this.timer && this.armedAt <= top.dueMs) return; // an early wake-up finds nothing due and re-arms
    this.timer?.cancel();
    this.armedAt = top.dueMs;
    this.timer = this.o.clock.setTimeout(() => this.tick(), top.dueMs - this.o.clock.now());
  }

  private tick(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    if (this.stopped) return;
    const now = this.o.clock.now();
    const horizon = now + this.config.coalesceMs;
    const due = new Map<string, Entry[]>();
    const notYet: Entry[] = [];
    for (let top = this.heap.peek(); top !== undefined && top.dueMs <= horizon; top = this.heap.peek()) {
      this.heap.pop();
      const ownHorizon = now + Math.min(this.config.coalesceMs, top.intervalMs / 20);
      if (top.dueMs > ownHorizon) {
        notYet.push(top); // a short interval's check waits for its own tick
        continue;
      }
      const late = now - top.dueMs;
      if (late > top.intervalMs / 2 && !top.skippedStale) {
        top.skippedStale = true;
        this.count.missedSlots++;
      } else if (top.running) {
        top.skippedStale = false;
        this.count.skippedBusy++;
      } else {
        top.skippedStale = false;
        if (late > this.count.maxLateMs) this.count.maxLateMs = late;
        if (-late > this.count.maxEarlyMs) this.count.maxEarlyMs = -late;
        const list = due.get(top.schedule);
        if (list) list.push(top);
        else due.set(top.schedule, [top]);
      }
      this.advance(top, ownHorizon);
      this.heap.push(top);
    }
    for (const e of notYet) this.heap.push(e);
    if (due.size > 0) this.count.ticks++;
    for (const [schedule, entries] of due) {
      const p = this.evaluate(schedule, entries, now).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
    this.arm();
  }

  /** To the first slot after `after` (the next one, unless a stall passed more). */
  private advance(e: Entry, after: number): void {
    const k = Math.max(e.k + 1, Math.floor((after - e.baseMs) / e.intervalMs) + 1);
    this.count.missedSlots += k - e.k - 1;
    e.k = k;
    e.dueMs = e.baseMs + k * e.intervalMs;
  }

  private async evaluate(schedule: string, entries: Entry[], startedMs: number): Promise<void> {
    for (const e of entries) e.running = true;
    const batchId = Buffer.from(this.o.random.bytes(16)).toString("hex");
    const actions = this.o.actionsEnabled();
    const free: Entry[] = [];
    const held: Entry[] = [];
    for (const e of entries) (actions && e.spec.action !== undefined && !e.flap.allows(startedMs) ? held : free).push(e);
    const [freeResults, heldResults] = await Promise.all([
      this.call(free, { runActions: actions, ...(!actions && { skipReason: "actions disabled on this node" }), schedule, batchId }),
      this.call(held, { runActions: false, skipReason: this.flapReason, schedule, batchId }),
    ]);
    const finishedMs = this.o.clock.now();
    for (const e of entries) e.running = false;

    const checks: CheckSpec[] = [];
    const results: CheckResult[] = [];
    const transitions: ScheduledTransition[] = [];
    const suppressed: SuppressedAction[] = [];
    const take = (list: Entry[], rs: CheckResult[], isHeld: boolean) => {
      list.forEach((e, i) => {
        if (!e.current) {
          this.count.droppedResults++;
          return;
        }
        const r = rs[i]!;
        let wasSuppressed = false;
        if (isHeld && r.status === "fail" && r.action?.skipped !== undefined) {
          const reason = `action suppressed: ${this.flapReason}`;
          const suffix = ` (action skipped: ${this.flapReason})`;
          const message = r.message.endsWith(suffix) ? r.message.slice(0, -suffix.length) : r.message;
          r.message = `${message}; ${reason}`;
          r.action = { ...r.action, skipped: reason };
          wasSuppressed = true;
          suppressed.push({ schedule, check: e.spec.name, runsInWindow: e.flap.runsInWindow(startedMs), windowMs: this.config.flapWindowMs });
        } else if (!isHeld && r.action !== undefined && r.action.skipped === undefined) {
          e.flap.record(startedMs);
        }
        const t = this.observe(e, r, finishedMs);
        if (t) transitions.push(t);
        if (wasSuppressed) e.state!.suppressed++;
        checks.push(e.spec);
        results.push(r);
      });
    };
    take(free, freeResults, false);
    take(held, heldResults, true);
    this.count.transitions += transitions.length;
    this.count.suppressedActions += suppressed.length;
    if (results.length === 0) return; // the whole schedule went away while it ran
    this.notify("onRun", () => this.o.onRun?.({ schedule, batchId, startedMs, finishedMs, checks, results }));
    for (const s of suppressed) {
      this.o.log.warn({ ...s }, `scheduler: ${schedule}/${s.check}: action suppressed: ${this.flapReason}`);
      this.notify("onSuppressed", () => this.o.onSuppressed?.(s));
    }
    for (const t of transitions) {
      this.o.log.info({ schedule, check: t.check, from: t.from, to: t.to }, `scheduler: ${schedule}/${t.check}: ${t.from} -> ${t.to}: ${t.message}`);
      this.notify("onTransition", () => this.o.onTransition?.(t));
    }
  }

  /** One run call; never rejects: a failed call is an error result per check. */
  private async call(entries: Entry[], o: ScheduledRun): Promise<CheckResult[]> {
    if (entries.length === 0) return [];
    const checks = entries.map((e) => e.spec);
    this.count.runs++;
    this.count.evaluations += checks.length;
    let why: string;
    try {
      const results = await this.o.run(checks, o);
      if (results.length === checks.length) return results;
      why = `the run returned ${results.length} results for ${checks.length} checks`;
    } catch (e) {
      why = errorMessage(e);
    }
    this.o.log.error({ schedule: o.schedule, batchId: o.batchId, error: why }, "scheduler: a scheduled run failed");
    return checks.map((c) => ({ name: c.name, type: c.type, status: "error" as CheckStatus, message: `the scheduled run failed: ${why}`, durationMs: 0 }));
  }

  /** Records a result in the check's state; the transition when its status changed. */
  private observe(e: Entry, r: CheckResult, atMs: number): ScheduledTransition | undefined {
    const from = e.state?.status ?? "none";
    if (e.state && from === r.status) {
      e.state.message = r.message;
      e.state.lastRunMs = atMs;
      return undefined;
    }
    e.state = { status: r.status, message: r.message, sinceMs: atMs, lastRunMs: atMs, suppressed: 0 };
    return {
      node: this.o.node ?? "",
      schedule: e.schedule,
      check: e.spec.name,
      from,
      to: r.status,
      atMs,
      message: r.message,
      intervalMs: e.intervalMs,
      ...(e.spec.quorum !== undefined && { quorum: e.spec.quorum }),
    };
  }

  /** A listener that throws is logged; it never stops the scheduler. */
  private notify(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.o.log.error({ error: errorMessage(e) }, `scheduler: the ${what} listener threw`);
    }
  }
}
