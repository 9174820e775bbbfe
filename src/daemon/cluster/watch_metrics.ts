import type { CheckStatus } from "../../checks/types.js";
import type { QuorumVerdict } from "../../control/watch_types.js";
import type { HistoryCounters } from "../../history/index.js";
import type { SchedulerCounters } from "../../schedule/index.js";
import type { TriggerCounters } from "../../triggers/index.js";
import type { Families, Sample } from "../api/lazy_metrics.js";
import { f as counter, families, g, type Family } from "./metrics.js";

/*
 * The always-on metrics (issue 14): the status of every scheduled check as
 * a gauge, transitions and suppressed actions as counters, quorum verdicts,
 * and the counters of the scheduler, the triggers and the history (a
 * family per quantity, as metrics.ts), read at each scrape.
 *
 * gossipcheck_check_status{schedule,check} uses the Nagios numbering, so one
 * alert rule reads it: 0 pass (or fixed), 1 warn, 2 fail, 3 error.
 */

const STATUS_VALUE: Record<CheckStatus, number> = { pass: 0, fixed: 0, warn: 1, fail: 2, error: 3 };

export interface WatchSources {
  states: () => { schedule: string; check: string; status: CheckStatus }[];
  scheduler: () => SchedulerCounters;
  triggers: () => TriggerCounters;
  /** Absent while the node has no history. */
  history: () => HistoryCounters | undefined;
}

const SCHEDULER_RUNS = "Scheduled-check slots, by what became of them.";

/** Every SchedulerCounters field. */
const SCHEDULER: Record<keyof SchedulerCounters, Family> = {
  scheduled: g("gossipcheck_scheduler_checks", "Checks scheduled on this node now."),
  running: g("gossipcheck_scheduler_running_evaluations", "Scheduled evaluations (one per schedule per tick) running now."),
  ticks: counter("gossipcheck_scheduler_ticks_total", "Scheduler wake-ups that ran something."),
  runs: counter("gossipcheck_scheduler_runs_total", "Runs of scheduled checks (one per schedule per tick, two when the flap guard holds some actions back)."),
  evaluations: counter("gossipcheck_scheduler_evaluations_total", "Scheduled check evaluations."),
  skippedBusy: counter("gossipcheck_scheduler_slots_skipped_total", SCHEDULER_RUNS, ["reason", "still_running"]),
  missedSlots: counter("gossipcheck_scheduler_slots_skipped_total", SCHEDULER_RUNS, ["reason", "stalled"]),
  suppressedActions: counter("gossipcheck_scheduler_actions_suppressed_total", "Actions the flap guard held back."),
  transitions: counter("gossipcheck_scheduler_transitions_total", "Status changes of scheduled checks."),
  droppedResults: counter("gossipcheck_scheduler_results_dropped_total", "Results dropped because their check was removed or replaced while it ran."),
  maxLateMs: g("gossipcheck_scheduler_max_late_seconds", "Latest a scheduled run has started after its slot, since the start."),
  maxEarlyMs: g("gossipcheck_scheduler_max_early_seconds", "Earliest a scheduled run has started before its slot (coalescing), since the start."),
};

const TRIGGER_RUNS = "Trigger script runs that ended, by outcome.";

/** Every TriggerCounters field. */
const TRIGGERS: Record<keyof TriggerCounters, Family> = {
  fired: counter("gossipcheck_trigger_events_total", "Events handed to the triggers."),
  ran: counter("gossipcheck_trigger_runs_total", "Trigger script runs that ended, whatever the outcome."),
  failed: counter("gossipcheck_trigger_runs_bad_total", TRIGGER_RUNS, ["outcome", "failed"]),
  timedOut: counter("gossipcheck_trigger_runs_bad_total", TRIGGER_RUNS, ["outcome", "timed_out"]),
  dropped: counter("gossipcheck_trigger_runs_dropped_total", "Trigger runs dropped from a full queue or at shutdown."),
  queued: g("gossipcheck_trigger_runs_queued", "Trigger runs waiting for a slot."),
  running: g("gossipcheck_trigger_runs_running", "Trigger scripts running now."),
};

const HISTORY_ROWS = "Rows in the history database, by kind.";

/** Every HistoryCounters field. */
const HISTORY: Record<keyof HistoryCounters, Family> = {
  batches: g("gossipcheck_history_rows", HISTORY_ROWS, ["kind", "batch"]),
  transitions: g("gossipcheck_history_rows", HISTORY_ROWS, ["kind", "transition"]),
  auditEntries: g("gossipcheck_history_rows", HISTORY_ROWS, ["kind", "audit"]),
  bytes: g("gossipcheck_history_bytes", "Live data in the history database (pages in use)."),
  writeErrors: counter("gossipcheck_history_write_errors_total", "History writes that failed (a full disk, an unwritable file)."),
  pruned: counter("gossipcheck_history_pruned_rows_total", "History rows deleted by retention (age or size)."),
  degraded: g("gossipcheck_history_degraded", "1 while history writes fail (the daemon log and every history answer say why)."),
};

export class WatchMetrics {
  private readonly transitions = new Map<string, Sample>();
  private readonly verdicts = new Map<string, Sample>();

  constructor(private readonly s: WatchSources) {}

  transition(schedule: string, check: string, to: CheckStatus): void {
    const key = `${schedule}\0${check}\0${to}`;
    const sample = this.transitions.get(key) ?? { labels: { schedule, check, to }, value: 0 };
    sample.value++;
    this.transitions.set(key, sample);
  }

  quorum(v: QuorumVerdict): void {
    this.verdicts.set(`${v.schedule}\0${v.check}`, { labels: { schedule: v.schedule, check: v.check }, value: v.failing ? 1 : 0 });
  }

  /** Drops the series of checks no longer scheduled, so a removed schedule's series end. */
  forget(live: { schedule: string; check: string }[]): void {
    const keep = new Set(live.map((c) => `${c.schedule}\0${c.check}`));
    for (const [k, s] of this.transitions) if (!keep.has(`${s.labels.schedule}\0${s.labels.check}`)) this.transitions.delete(k);
    for (const k of this.verdicts.keys()) if (!keep.has(k)) this.verdicts.delete(k);
  }

  register(f: Families): void {
    f.gauges("gossipcheck_check_status", "Status of each scheduled check on this node: 0 pass or fixed, 1 warn, 2 fail, 3 error.", ["schedule", "check"], () =>
      this.s.states().map((c) => ({ labels: { schedule: c.schedule, check: c.check }, value: STATUS_VALUE[c.status] })),
    );
    f.totals("gossipcheck_check_transitions_total", "Status changes of scheduled checks on this node, by the status changed to.", ["schedule", "check", "to"], () => [...this.transitions.values()]);
    f.gauges("gossipcheck_quorum_failing", "1 while a quorum check's cluster-wide verdict is failing, as this node tallies it.", ["schedule", "check"], () => [...this.verdicts.values()]);
    families(f, SCHEDULER, () => {
      const c = this.s.scheduler();
      return { ...c, maxLateMs: c.maxLateMs / 1000, maxEarlyMs: c.maxEarlyMs / 1000 };
    });
    families(f, TRIGGERS, () => ({ ...this.s.triggers() }));
    // Without a history (no data dir, or the database could not be opened) every family reads 0.
    families(f, HISTORY, () => ({ ...this.s.history() }));
  }
}
