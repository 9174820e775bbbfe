import type { Clock, Timer } from "../base/clock.js";

/** Most acknowledgements one round holds back; a round with this many ends at once. */
export const MAX_ACKS_PER_ROUND = 4096;

/**
 * The origin acknowledges replies in rounds, like TCP's delayed ACK: a reply
 * is recorded (and streamed to gcheck) the moment it arrives, but its
 * acknowledgement waits until the round ends, at most delayMs after the
 * round's first reply. All acknowledgements of a round are released in the
 * same event-loop turn, so the transport sends those of one connection as
 * one frame (src/net/inbound.ts): a node that answered several batches in a
 * round gets one frame to open, not one per batch.
 *
 * Nothing waits on an acknowledgement but the replying node's retry, which
 * only fires when the request fails or times out (requestTimeoutMs, far
 * longer than a round), so the delay costs no latency anywhere.
 */
export class AckRounds {
  private waiting: (() => void)[] = [];
  private timer: Timer | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly delayMs: number,
  ) {}

  /** Resolves when the current round ends (at once when delayMs is 0). */
  next(): Promise<void> {
    if (this.delayMs <= 0) return Promise.resolve();
    return new Promise((release) => {
      this.waiting.push(release);
      if (this.waiting.length >= MAX_ACKS_PER_ROUND) this.release();
      else this.timer ??= this.clock.setTimeout(() => this.release(), this.delayMs);
    });
  }

  /** Acknowledgements waiting for the end of the round. */
  get size(): number {
    return this.waiting.length;
  }

  /** Ends the round now (also on shutdown, so no acknowledgement is lost). */
  release(): void {
    this.timer?.cancel();
    this.timer = null;
    const waiting = this.waiting;
    this.waiting = [];
    for (const release of waiting) release();
  }
}
