import type { Clock, Timer } from "../../../base/clock.js";
import { errorMessage } from "../../../base/result.js";

/*
 * Periodic cluster-wide questions shared by their watchers (the stats and
 * checks streams). Watchers asking the same question (same key: interval and
 * targeting) share one loop: every intervalMs one round runs, and each of its
 * events goes to every watcher of the key. The first watcher starts the
 * loop, the last one leaving stops it: no watchers, no rounds, no traffic.
 *
 * Rounds never overlap: a round is given (and its run must end within)
 * ROUND_SHARE of the interval, and the next starts on the interval's grid.
 * The grid is the wall clock's (multiples of the interval since the epoch),
 * not this loop's: every daemon watching at the same interval asks at the
 * same moments, so a node asked by several of them in one slot answers all
 * from one sample (the request allows a sample half an interval old). A
 * slot missed while the process stalled is skipped; the first round runs at
 * once, off the grid, so a new watcher does not wait an interval.
 */

/** Share of the interval a round may take (the rest keeps rounds apart). */
export const ROUND_SHARE = 0.9;

export interface RoundContext<E> {
  round: number;
  /** The round's time limit (ms): ROUND_SHARE of the interval. */
  timeoutMs: number;
  signal: AbortSignal;
  emit: (event: E) => void;
}

interface Group<E> {
  intervalMs: number;
  watchers: Set<(event: E) => void>;
  round: number;
  timer: Timer | null;
  ac: AbortController | null;
}

export class RoundHub<Q, E> {
  private readonly groups = new Map<string, Group<E>>();
  private readonly stats = { rounds: 0, roundErrors: 0 };

  constructor(
    private readonly clock: Clock,
    /** Runs one round of question q; rejects only on a bug (logged through onError, the loop goes on). */
    private readonly run: (q: Q, c: RoundContext<E>) => Promise<void>,
    private readonly onError: (err: string) => void,
  ) {}

  /** Adds a watcher of question q (identified by key) every intervalMs; returns its removal. */
  watch(key: string, q: Q, intervalMs: number, watcher: (event: E) => void): () => void {
    let g = this.groups.get(key);
    if (!g) {
      g = { intervalMs, watchers: new Set(), round: 0, timer: null, ac: null };
      this.groups.set(key, g);
      const group = g;
      // The first round at once: a new page shows figures without waiting an interval.
      queueMicrotask(() => this.tick(key, q, group));
    }
    g.watchers.add(watcher);
    const group = g;
    return () => {
      group.watchers.delete(watcher);
      if (group.watchers.size > 0) return;
      group.timer?.cancel();
      group.ac?.abort();
      if (this.groups.get(key) === group) this.groups.delete(key);
    };
  }

  /** Loops running now (one per distinct question watched) and their watchers. */
  counters(): { loops: number; watchers: number; rounds: number; roundErrors: number } {
    let watchers = 0;
    for (const g of this.groups.values()) watchers += g.watchers.size;
    return { loops: this.groups.size, watchers, ...this.stats };
  }

  private tick(key: string, q: Q, g: Group<E>): void {
    if (this.groups.get(key) !== g) return;
    const round = ++g.round;
    this.stats.rounds++;
    const ac = new AbortController();
    g.ac = ac;
    const emit = (event: E) => {
      for (const w of g.watchers) w(event);
    };
    const timeoutMs = Math.floor(g.intervalMs * ROUND_SHARE);
    this.run(q, { round, timeoutMs, signal: ac.signal, emit }).catch((err: unknown) => {
      this.stats.roundErrors++;
      this.onError(errorMessage(err));
    });
    // The next slot on the wall clock's grid after now (slots missed during a stall are skipped).
    const now = this.clock.now();
    const next = Math.ceil((now + 1) / g.intervalMs) * g.intervalMs;
    g.timer = this.clock.setTimeout(() => {
      ac.abort();
      this.tick(key, q, g);
    }, next - now);
  }
}
