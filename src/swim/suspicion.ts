import type { Clock, Timer } from "../base/clock.js";

/*
 * Lifeguard's dynamic suspicion timeout (memberlist's suspicion.go). A
 * suspect gets maxMs to refute; each independent confirmation (a suspect
 * message about the same node from another member) shortens that, along a
 * log curve, down to minMs once k confirmations arrived. One confused prober
 * thus needs max time to kill a node, while a node that many members cannot
 * reach is declared dead in min time.
 */

/**
 * Remaining time in ms given n confirmations out of k expected, elapsedMs
 * after the suspicion started: timeout = max - (log(n+1) / log(k+1)) x (max
 * - min), floored to whole ms and never below min, minus what has elapsed
 * (may be negative: the timer is overdue).
 */
export function remainingSuspicionMs(n: number, k: number, elapsedMs: number, minMs: number, maxMs: number): number {
  const frac = Math.log(n + 1) / Math.log(k + 1);
  const raw = maxMs - frac * (maxMs - minMs);
  const timeout = Math.max(minMs, Math.floor(raw));
  return timeout - elapsedMs;
}

export interface SuspicionOptions {
  clock: Clock;
  /** Who raised the suspicion: never counted as a confirmation. */
  from: string;
  /** Confirmations expected; 0 = none will come, so time out at minMs. */
  k: number;
  minMs: number;
  maxMs: number;
  /** Called once when the timer fires, with the confirmations received. */
  onTimeout: (confirmations: number) => void;
}

export class Suspicion {
  private readonly clock: Clock;
  private readonly k: number;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly onTimeout: (confirmations: number) => void;
  private readonly seen = new Set<string>();
  private n = 0;
  private timer: Timer;
  private fired = false;
  readonly startMs: number;

  constructor(o: SuspicionOptions) {
    this.clock = o.clock;
    this.k = o.k;
    this.minMs = o.minMs;
    this.maxMs = o.maxMs;
    this.onTimeout = o.onTimeout;
    this.seen.add(o.from);
    this.startMs = o.clock.now();
    this.timer = o.clock.setTimeout(() => this.fire(), o.k < 1 ? o.minMs : o.maxMs);
  }

  /** Confirmations counted so far. */
  get confirmations(): number {
    return this.n;
  }

  /** When (clock ms) the timer fires as things stand. */
  get deadlineMs(): number {
    if (this.k < 1) return this.startMs + this.minMs;
    return this.startMs + Math.max(0, remainingSuspicionMs(this.n, this.k, 0, this.minMs, this.maxMs));
  }

  /**
   * Counts a confirmation from `from` and shortens the timer. Returns true
   * only for a new one (so the caller re-gossips it); false once k arrived,
   * for a repeat sender, or after the timer fired.
   */
  confirm(from: string): boolean {
    if (this.fired || this.n >= this.k || this.seen.has(from)) return false;
    this.seen.add(from);
    this.n++;
    const remaining = remainingSuspicionMs(this.n, this.k, this.clock.now() - this.startMs, this.minMs, this.maxMs);
    this.timer.cancel();
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, remaining));
    return true;
  }

  cancel(): void {
    this.fired = true;
    this.timer.cancel();
  }

  private fire(): void {
    if (this.fired) return;
    this.fired = true;
    this.onTimeout(this.n);
  }
}
