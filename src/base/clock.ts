/**
 * Time as the protocol code sees it. Every network-facing unit takes a Clock,
 * so the same code runs on real timers in the daemon and on a VirtualClock in
 * simulations of hundreds of nodes.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch (virtual clocks start wherever they like). */
  now(): number;
  /** Runs fn once after ms milliseconds (>= 0). */
  setTimeout(fn: () => void, ms: number): Timer;
}

/** The real clock: Date.now and Node timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
};

/** A scheduled call, and the Timer that cancels it (one object a timer: a simulation sets millions). */
class Pending implements Timer {
  cancelled = false;

  constructor(
    readonly at: number,
    readonly seq: number,
    readonly fn: () => void,
  ) {}

  cancel(): void {
    this.cancelled = true;
  }
}

/**
 * A deterministic clock for simulations. Time only moves in advance(); timers
 * due at the same instant run in the order they were set. Between instants
 * advance() yields to the event loop once (setImmediate), so promise
 * continuations triggered by a timer (a transport reply, say) run before the
 * next instant, as they would in real time.
 */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  // Binary min-heap ordered by (at, seq).
  private heap: Pending[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const p = new Pending(this.t + Math.max(0, ms), this.seq++, fn);
    this.push(p);
    return p;
  }

  /** Number of timers still scheduled (cancelled ones included until they surface). */
  get pendingTimers(): number {
    return this.heap.length;
  }

  /** Moves time forward by ms, running every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    await flush();
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > target) break;
      this.t = top.at;
      // Run everything due at this instant, then let promise chains settle.
      while (this.heap.length && this.heap[0]!.at === this.t) {
        const p = this.pop()!;
        if (!p.cancelled) p.fn();
      }
      await flush();
    }
    this.t = target;
  }

  /**
   * Advances in steps of stepMs until cond() holds or maxMs of virtual time
   * has passed. Returns the virtual ms it took, or -1 when cond never held.
   */
  async runUntil(cond: () => boolean, maxMs: number, stepMs = 50): Promise<number> {
    const start = this.t;
    while (!cond()) {
      if (this.t - start >= maxMs) return -1;
      await this.advance(stepMs);
    }
    return this.t - start;
  }

  private push(p: Pending): void {
    const h = this.heap;
    h.push(p);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (less(h[parent]!, h[i]!)) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  private pop(): Pending | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Pending, b: Pending): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
