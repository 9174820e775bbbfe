import type { Clock, Timer } from "../../base/clock.js";

/*
 * Each sender's order on a channel, at a receiving node. Gossip delivers an
 * envelope once but in any order (the burst takes several paths, a repair
 * comes later), so messages carry (epochMs, seq) per (channel, sender) and
 * this unit hands them on in that order:
 *
 * - the next expected seq goes out at once, followed by any held successors;
 * - a later one is held until its predecessors arrive, at most gapMs (then
 *   what is held goes out in order and the skipped count is reported with the
 *   first message after the gap: those messages are lost to this node, which
 *   happens only when a message missed it for longer than anti-entropy takes
 *   to repair, or expired);
 * - an earlier one (arriving after its gap was given up) is dropped as late:
 *   delivering it would break the order the subscriber already saw;
 * - a newer epoch (the sender restarted and counts from 1 again) starts a new
 *   sequence after flushing the old one; an older epoch's straggler is stale
 *   and dropped.
 *
 * Holding is bounded: per sender stream maxHeldPerStream messages and per
 * node maxHeldBytes; past either the stream is flushed as if its gap had
 * timed out. Streams of channels without a local subscriber hold nothing
 * (they only track the next seq, so a subscriber that arrives later starts in
 * step); the streams tracked are bounded by maxStreams (the least recently
 * used is forgotten). A stream first seen at a seq above 1 (this node started
 * tracking mid-sequence) waits gapMs for predecessors, then starts at the
 * lowest it holds without reporting a gap.
 */

export interface ChannelOrderLimits {
  /** Longest a message waits for a missing predecessor (ms). */
  gapMs: number;
  /** Messages held per (channel, sender) before the stream is flushed. */
  maxHeldPerStream: number;
  /** Bytes held by this node over every stream before the fullest one is flushed. */
  maxHeldBytes: number;
  /** (channel, sender) streams whose next seq this node tracks. */
  maxStreams: number;
}

export const DEFAULT_CHANNEL_ORDER_LIMITS: ChannelOrderLimits = {
  gapMs: 3_000,
  maxHeldPerStream: 1024,
  maxHeldBytes: 64 * 1024 * 1024,
  maxStreams: 10_000,
};

/** What a stream hands on: its item (null: a message this node only counts, e.g. sent to another node) and how many were skipped just before it. */
export type Deliver<T> = (channel: string, item: T, missed: number) => void;

interface Held<T> {
  item: T | null;
  bytes: number;
}

interface Stream<T> {
  channel: string;
  epochMs: number;
  /** The next seq to hand on; null while unknown (first seen mid-sequence). */
  next: number | null;
  held: Map<number, Held<T>>;
  heldBytes: number;
  timer: Timer | null;
  /** Skipped messages not reported yet (the first after the gap was not for this node). */
  carried: number;
}

export interface ChannelOrderCounters {
  /** Messages held now, and their bytes. */
  held: number;
  heldBytes: number;
  streams: number;
  /** Gaps given up (gapMs passed or a bound was hit), and the messages they skipped. */
  gaps: number;
  missed: number;
  /** Messages that arrived before a predecessor and were held for it. */
  reordered: number;
  /** Dropped: arrived after their gap was given up, or from an older epoch. */
  late: number;
  stale: number;
}

export class ChannelOrder<T> {
  private readonly streams = new Map<string, Stream<T>>();
  private heldBytes = 0;
  private readonly stats = { gaps: 0, missed: 0, reordered: 0, late: 0, stale: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly limits: ChannelOrderLimits,
    private readonly deliver: Deliver<T>,
  ) {}

  /**
   * One message of sender on channel. `subscribed`: this node delivers the
   * channel (else it only tracks the seq); `item` null: count it in the order
   * but hand nothing on (a message for another node).
   */
  accept(channel: string, sender: string, epochMs: number, seq: number, item: T | null, bytes: number, subscribed: boolean): void {
    const key = `${channel}\u0000${sender}`;
    let s = this.streams.get(key);
    if (s) {
      // Most recently used last: the oldest is forgotten first.
      this.streams.delete(key);
      this.streams.set(key, s);
    } else {
      s = { channel, epochMs, next: seq === 1 ? 1 : null, held: new Map(), heldBytes: 0, timer: null, carried: 0 };
      this.streams.set(key, s);
      this.forgetOldest();
    }
    if (epochMs < s.epochMs) {
      this.stats.stale++;
      return;
    }
    if (epochMs > s.epochMs) {
      this.flush(s);
      s.epochMs = epochMs;
      s.next = 1;
    }
    if (!subscribed && s.held.size === 0) {
      // Nobody here reads it: only keep in step.
      if (s.next === null || seq >= s.next) s.next = seq + 1;
      return;
    }
    // A stream first seen mid-sequence whose first message turns up after all: it starts there.
    if (s.next === null && seq === 1) s.next = 1;
    if (s.next !== null && seq < s.next) {
      this.stats.late++;
      return;
    }
    if (seq === s.next) {
      this.hand(s, item, 0);
      s.next = seq + 1;
      this.drain(s);
      return;
    }
    if (s.held.has(seq)) return;
    this.stats.reordered++;
    s.held.set(seq, { item, bytes });
    s.heldBytes += bytes;
    this.heldBytes += bytes;
    if (s.held.size > this.limits.maxHeldPerStream) this.flush(s);
    else if (this.heldBytes > this.limits.maxHeldBytes) this.flush(this.fullest());
    else s.timer ??= this.clock.setTimeout(() => this.gapTimedOut(s), this.limits.gapMs);
  }

  counters(): ChannelOrderCounters {
    let held = 0;
    for (const s of this.streams.values()) held += s.held.size;
    return { held, heldBytes: this.heldBytes, streams: this.streams.size, ...this.stats };
  }

  /** Hands on everything held (the node is stopping) and cancels the timers. */
  close(): void {
    for (const s of this.streams.values()) this.flush(s);
    this.streams.clear();
  }

  private gapTimedOut(s: Stream<T>): void {
    s.timer = null;
    this.skipToLowest(s);
    this.drain(s);
  }

  /** Hands on the lowest held message, counting the ones skipped before it (none when the start was unknown). */
  private skipToLowest(s: Stream<T>): void {
    let lowest = Infinity;
    for (const seq of s.held.keys()) lowest = Math.min(lowest, seq);
    if (lowest === Infinity) return;
    const missed = s.next !== null ? lowest - s.next : 0;
    if (missed > 0) {
      this.stats.gaps++;
      this.stats.missed += missed;
    }
    s.next = lowest;
    this.drainOne(s, missed);
  }

  /** Hands on held messages from s.next while they are contiguous; re-arms the gap timer for what is left. */
  private drain(s: Stream<T>): void {
    while (s.next !== null && s.held.has(s.next)) this.drainOne(s, 0);
    if (s.held.size === 0) {
      s.timer?.cancel();
      s.timer = null;
    } else {
      s.timer ??= this.clock.setTimeout(() => this.gapTimedOut(s), this.limits.gapMs);
    }
  }

  private drainOne(s: Stream<T>, missed: number): void {
    const seq = s.next!;
    const h = s.held.get(seq)!;
    s.held.delete(seq);
    s.heldBytes -= h.bytes;
    this.heldBytes -= h.bytes;
    s.next = seq + 1;
    this.hand(s, h.item, missed);
  }

  /** Everything held goes out in order, gaps reported. */
  private flush(s: Stream<T>): void {
    s.timer?.cancel();
    s.timer = null;
    while (s.held.size > 0) {
      this.skipToLowest(s);
      this.drain(s);
    }
  }

  /** A gap reported before a message this node only counts is carried to the next one it hands on. */
  private hand(s: Stream<T>, item: T | null, missed: number): void {
    const total = s.carried + missed;
    if (item === null) {
      s.carried = total;
      return;
    }
    s.carried = 0;
    this.deliver(s.channel, item, total);
  }

  private fullest(): Stream<T> {
    let best: Stream<T> | undefined;
    for (const s of this.streams.values()) if (!best || s.heldBytes > best.heldBytes) best = s;
    return best!;
  }

  private forgetOldest(): void {
    while (this.streams.size > this.limits.maxStreams) {
      const [key, oldest] = this.streams.entries().next().value as [string, Stream<T>];
      this.flush(oldest);
      this.streams.delete(key);
    }
  }
}
