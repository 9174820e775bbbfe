import type { Writable } from "node:stream";
import { formatDuration } from "./output/table.js";
import type { BatchReport } from "./report.js";

/**
 * The live progress line of `gcheck check` ("31/40 nodes answered, 2
 * failing, 1 warning; wave 3; 4.2s elapsed, 25s left; waiting for web-07,
 * web-12": nodes; warning, unreachable and rejected only when any; the
 * rollout wave when the events name one; the pending nodes' names when 5 or
 * fewer), rewritten in place on stderr after each event and once a second
 * (so the clock moves while nothing arrives). Only on a terminal: a CI log
 * or a pipe gets nothing extra.
 */
export class ProgressLine {
  private shown = false;
  private readonly enabled: boolean;
  private readonly startedMs: number;
  private ticker: NodeJS.Timeout | undefined;
  private last: BatchReport | undefined;

  /** timeoutMs: -timeout, for the time left; now: the clock (ms), injectable for tests. */
  constructor(
    private readonly out: Writable & { isTTY?: boolean },
    private readonly timeoutMs?: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.enabled = out.isTTY === true;
    this.startedMs = now();
  }

  update(report: BatchReport): void {
    if (!this.enabled || !report.accepted) return;
    this.last = report;
    // unref: the ticker never keeps gcheck alive; clear() stops it.
    this.ticker ??= setInterval(() => this.last && this.update(this.last), 1000).unref();
    this.out.write(`\r\x1b[2K${progressText(report, { elapsedMs: this.now() - this.startedMs, ...(this.timeoutMs !== undefined && { timeoutMs: this.timeoutMs }) })}`);
    this.shown = true;
  }

  /** Erases the line so the table starts on a clean one, and stops the clock. */
  clear(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
    if (this.shown) this.out.write("\r\x1b[2K");
    this.shown = false;
  }
}

/** Pending nodes named on the line up to this many; beyond, only counted. */
export const PENDING_NAMED = 5;

export function progressText(report: BatchReport, clock?: { elapsedMs: number; timeoutMs?: number }): string {
  const s = report.summary();
  const extra = [s.warningNodes && `${s.warningNodes} warning`, s.unreachable && `${s.unreachable} unreachable`, s.rejected && `${s.rejected} rejected`].filter(Boolean);
  const parts = [`${s.answered}/${s.expected} nodes answered, ${s.failingNodes} failing${extra.length ? ", " + extra.join(", ") : ""}`];
  if (report.currentWave !== undefined) parts.push(`wave ${report.currentWave}`);
  if (clock) {
    const left = clock.timeoutMs === undefined ? "" : `, ${formatDuration(Math.max(0, clock.timeoutMs - clock.elapsedMs))} left`;
    parts.push(`${formatDuration(clock.elapsedMs)} elapsed${left}`);
  }
  const pending = report.pending();
  if (pending.length > 0 && pending.length <= PENDING_NAMED) parts.push(`waiting for ${pending.join(", ")}`);
  return parts.join("; ");
}
