/**
 * Lifeguard's local health multiplier (memberlist's awareness.go). A node
 * that misses acks, misses the nacks its relays should send, or has to
 * refute suspicions about itself is probably the slow one (overloaded, GC,
 * a bad NIC). It then stretches its probe interval and the time it waits for
 * indirect acks, so it stops accusing healthy members.
 *
 * The score is in [0, max - 1]; 0 is healthy. Timeouts are multiplied by
 * score + 1.
 */
export class Awareness {
  private value = 0;

  /** max is awarenessMaxMultiplier: the largest factor a timeout can grow by. */
  constructor(private readonly max: number) {}

  /** Adds delta (negative after a successful probe), clamped to [0, max - 1]. */
  applyDelta(delta: number): void {
    this.value = Math.min(Math.max(0, this.value + delta), Math.max(0, this.max - 1));
  }

  /** 0 is healthy; higher means this node is likely the problem. */
  get score(): number {
    return this.value;
  }

  /** ms scaled by the health multiplier (score + 1). */
  scaleTimeout(ms: number): number {
    return ms * (this.value + 1);
  }
}
