/*
 * The flap guard of one scheduled check: the times of its recent action
 * runs, at most maxActionRuns of them kept (older ones can no longer decide
 * anything). Times are recorded in increasing order, so the oldest is first
 * and pruning stops at the first one still inside the window.
 */

export class FlapGuard {
  private readonly runs: number[] = [];

  constructor(
    private readonly maxActionRuns: number,
    private readonly windowMs: number,
  ) {}

  /** Action runs within the window ending at nowMs. */
  runsInWindow(nowMs: number): number {
    while (this.runs.length > 0 && this.runs[0]! <= nowMs - this.windowMs) this.runs.shift();
    return this.runs.length;
  }

  /** Whether the action may run at nowMs. */
  allows(nowMs: number): boolean {
    return this.runsInWindow(nowMs) < this.maxActionRuns;
  }

  /** An action ran at atMs. */
  record(atMs: number): void {
    this.runs.push(atMs);
    if (this.runs.length > Math.max(1, this.maxActionRuns)) this.runs.shift();
  }
}

/** "10m", "90s", "1h30m", "500ms": a window for a person. */
export function formatWindow(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`;
}
