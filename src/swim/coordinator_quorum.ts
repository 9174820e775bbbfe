/*
 * The "last stable cluster size" of -coordinator-quorum (coordinator.ts):
 * the largest number of running members (alive or suspect) that this node
 * has seen hold, unchanged, for stableMs.
 *
 * - It grows: a cluster that grew and stayed grown for stableMs counts its
 *   new size (a joining burst that has not settled does not).
 * - It does not shrink when members fail: a node cannot tell "3 of 5
 *   crashed" from "I am cut off with 2 of 5", so a minority side keeps the
 *   old size and names no coordinator, which is the point.
 * - A graceful leave lowers it by one at once: a member that said it is
 *   going is not a partition (scaling a cluster down by leaves works).
 * - A restarted daemon starts from what it sees. A cluster that lost a
 *   majority for good (crashed, never left) has no coordinator until its
 *   daemons are restarted: the price of never having two.
 * Before anything has held for stableMs, the size is the first count seen.
 */

export class StableSize {
  private size = 0;
  private candidate = 0;
  private sinceMs = 0;

  constructor(private readonly stableMs: number) {}

  /** The running count now (call on every member change and periodically); returns the stable size. */
  observe(running: number, nowMs: number): number {
    if (this.size === 0) this.size = running;
    if (running !== this.candidate) {
      this.candidate = running;
      this.sinceMs = nowMs;
    }
    if (nowMs - this.sinceMs >= this.stableMs && this.candidate > this.size) this.size = this.candidate;
    return this.size;
  }

  /** A member left gracefully. */
  left(): void {
    this.size = Math.max(1, this.size - 1);
  }

  get value(): number {
    return this.size;
  }
}
