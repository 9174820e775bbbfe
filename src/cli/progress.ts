import type { Writable } from "node:stream";
import type { BatchReport } from "./report.js";

/**
 * The live progress line of `gcheck check` ("31/40 nodes answered, 2
 * failing, 1 warning": nodes; warning, unreachable and rejected only when
 * any), rewritten in place on stderr. Only on a terminal: a CI log or a pipe
 * gets nothing extra.
 */
export class ProgressLine {
  private shown = false;
  private readonly enabled: boolean;

  constructor(private readonly out: Writable & { isTTY?: boolean }) {
    this.enabled = out.isTTY === true;
  }

  update(report: BatchReport): void {
    if (!this.enabled || !report.accepted) return;
    this.out.write(`\r\x1b[2K${progressText(report)}`);
    this.shown = true;
  }

  /** Erases the line so the table starts on a clean one. */
  clear(): void {
    if (this.shown) this.out.write("\r\x1b[2K");
    this.shown = false;
  }
}

export function progressText(report: BatchReport): string {
  const s = report.summary();
  const extra = [s.warningNodes && `${s.warningNodes} warning`, s.unreachable && `${s.unreachable} unreachable`, s.rejected && `${s.rejected} rejected`].filter(Boolean);
  return `${s.answered}/${s.expected} nodes answered, ${s.failingNodes} failing${extra.length ? ", " + extra.join(", ") : ""}`;
}
