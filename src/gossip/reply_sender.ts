import type { pb } from "../proto/index.js";
import type { Clock, Timer } from "../base/clock.js";
import type { Logger } from "../base/logger.js";
import type { Random } from "../base/random.js";
import { TransportError } from "../net/transport.js";
import type { MemberEvent, Membership } from "../swim/types.js";
import { jittered, type GossipConfig } from "./config.js";
import type { GossipCounters } from "./counters.js";
import { expiresAtMs, idToHex, type Envelope } from "./envelope.js";
import type { GossipRequester } from "./requester.js";

interface PendingReply {
  envelope: Envelope;
  reply: pb.NodeReply.$Properties;
  attempts: number;
  timer: Timer | null;
  /** Waiting for the origin to come back (it was declared dead or left). */
  parked: boolean;
}

/**
 * Sends this node's NodeReply for an envelope straight to its origin and
 * retries on the config's backoff schedule until the origin acknowledges it
 * or the envelope expires. While the membership says the origin is dead or
 * left, attempts stop (no hot loop against a dead peer); they resume if it
 * comes back alive before the envelope expires.
 */
export class ReplySender {
  private pending = new Map<string, PendingReply>();

  constructor(
    private readonly deps: {
      requester: GossipRequester;
      membership: Membership;
      clock: Clock;
      random: Random;
      config: GossipConfig;
      logger: Logger;
      counters: GossipCounters;
    },
  ) {}

  send(envelope: Envelope, reply: pb.NodeReply.$Properties): void {
    const key = idToHex(envelope.id);
    const waiting = this.pending.get(key);
    // One reply per envelope ID, except that a refusal still waiting to be
    // acknowledged gives way to a real answer: the refusal may be of a
    // forged copy under the genuine envelope's ID (src/gossip/refused.ts),
    // and it must not keep the genuine answer from the origin.
    if (waiting && !(waiting.reply.rejected && !reply.rejected)) return;
    waiting?.timer?.cancel();
    const p: PendingReply = { envelope, reply, attempts: 0, timer: null, parked: false };
    this.pending.set(key, p);
    this.attempt(key, p);
  }

  /** Resumes parked replies whose origin is alive again. */
  onMemberEvent(e: MemberEvent): void {
    if (e.member.status !== "alive") return;
    for (const [key, p] of this.pending) {
      if (p.parked && p.envelope.origin === e.member.name) {
        p.parked = false;
        p.timer?.cancel();
        this.attempt(key, p);
      }
    }
  }

  /** Replies still waiting for an acknowledgement. */
  get size(): number {
    return this.pending.size;
  }

  stop(): void {
    for (const p of this.pending.values()) p.timer?.cancel();
    this.pending.clear();
  }

  private attempt(key: string, p: PendingReply): void {
    const { clock, membership, counters } = this.deps;
    p.timer = null;
    if (this.pending.get(key) !== p) return;
    const expiresAt = expiresAtMs(p.envelope);
    if (clock.now() > expiresAt) return this.abandon(key, "the envelope expired before its origin acknowledged the reply");
    const status = membership.member(p.envelope.origin)?.status;
    if (status === "dead" || status === "left") {
      // Park until the origin is alive again; forget it at expiry.
      p.parked = true;
      p.timer = clock.setTimeout(() => this.abandon(key, `origin ${p.envelope.origin} is ${status}`), expiresAt - clock.now() + 1);
      return;
    }
    if (p.attempts++ === 0) counters.repliesSent++;
    else counters.repliesRetried++;
    this.deps.requester.request(p.envelope.originAddress, { kind: "reply", reply: p.reply as pb.NodeReply }).then(
      () => {
        if (this.pending.get(key) !== p) return;
        this.pending.delete(key);
        counters.repliesAcked++;
      },
      (err: Error) => {
        if (this.pending.get(key) !== p) return;
        const code = err instanceof TransportError ? err.code : "remote";
        if (code === "too_large" || code === "closed") return this.abandon(key, err.message);
        const schedule = this.deps.config.resultRetryMs;
        const delay = jittered(schedule[Math.min(p.attempts - 1, schedule.length - 1)] ?? 1000, 0.25, this.deps.random);
        p.timer = clock.setTimeout(() => this.attempt(key, p), delay);
      },
    );
  }

  private abandon(key: string, why: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    p.timer?.cancel();
    this.pending.delete(key);
    this.deps.counters.repliesAbandoned++;
    this.deps.logger.warn({ envelope: key, origin: p.envelope.origin, address: p.envelope.originAddress, attempts: p.attempts, reason: why }, "gave up sending a reply to the origin");
  }
}
