import type { CheckStatus } from "../../checks/types.js";
import type { QuorumVerdict } from "../../control/watch_types.js";
import type { Families, Sample } from "../api/lazy_metrics.js";

/*
 * The always-on metrics (issue 14): the status of every scheduled check as
 * a gauge, transitions and suppressed actions as counters, quorum verdicts,
 * and the running totals of the scheduler, the triggers and the history,
 * read at each scrape.
 *
 * gossipcheck_check_status{schedule,check} uses the Nagios numbering, so one
 * alert rule reads it: 0 pass (or fixed), 1 warn, 2 fail, 3 error.
 */

const STATUS_VALUE: Record<CheckStatus, number> = { pass: 0, fixed: 0, warn: 1, fail: 2, error: 3 };

export interface WatchSources {
  states: () => { schedule: string; check: string; status: CheckStatus }[];
  units: () => Record<"scheduler" | "triggers" | "history", Record<string, number>>;
}

export class WatchMetrics {
  private readonly transitions = new Map<string, Sample>();
  private readonly suppressedBy = new Map<string, number>();
  private readonly verdicts = new Map<string, Sample>();
  readonly suppressed = { inc: (l: { schedule: string }) => void this.suppressedBy.set(l.schedule, (this.suppressedBy.get(l.schedule) ?? 0) + 1) };

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
    f.totals("gossipcheck_actions_suppressed_total", "Actions of scheduled checks held back by the flap guard.", ["schedule"], () =>
      [...this.suppressedBy].map(([schedule, value]) => ({ labels: { schedule }, value })),
    );
    f.gauges("gossipcheck_quorum_failing", "1 while a quorum check's cluster-wide verdict is failing, as this node tallies it.", ["schedule", "check"], () => [...this.verdicts.values()]);
    for (const unit of ["scheduler", "triggers", "history"] as const) {
      f.gauges(`gossipcheck_${unit}`, `The ${unit}'s running totals and gauges, by name (see README "Metrics").`, ["name"], () =>
        Object.entries(this.s.units()[unit]).map(([name, value]) => ({ labels: { name: snake(name) }, value })),
      );
    }
  }
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
