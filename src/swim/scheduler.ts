import type { Clock, Timer } from "../base/clock.js";

/**
 * The membership layer's timers, all on the injected clock, all cancelled by
 * stop(): after shutdown nothing of ours runs again. Delays are rounded up
 * to whole ms: real timers have ms resolution anyway, and on a VirtualClock
 * it keeps the number of distinct instants (one event-loop turn each) low.
 */
export class Scheduler {
  private readonly timers = new Set<Timer>();
  private readonly sleepers = new Set<() => void>();
  private stopped = false;

  constructor(private readonly clock: Clock) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Runs fn once after ms (unless stopped first). */
  after(ms: number, fn: () => void): Timer {
    if (this.stopped) return { cancel() {} };
    const entry: Timer = {
      cancel: () => {
        inner.cancel();
        this.timers.delete(entry);
      },
    };
    const inner = this.clock.setTimeout(
      () => {
        this.timers.delete(entry);
        if (!this.stopped) fn();
      },
      Math.ceil(Math.max(0, ms)),
    );
    this.timers.add(entry);
    return entry;
  }

  /** Resolves after ms, or at once when stopped (callers check isStopped). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const done = () => {
        this.sleepers.delete(done);
        timer.cancel();
        resolve();
      };
      const timer = this.after(ms, done);
      this.sleepers.add(done);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const t of [...this.timers]) t.cancel();
    for (const wake of [...this.sleepers]) wake();
  }
}
