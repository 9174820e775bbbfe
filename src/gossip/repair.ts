import type { Clock, Timer } from "../base/clock.js";
import type { Membership } from "../swim/types.js";
import type { GossipConfig } from "./config.js";
import type { GossipCounters } from "./counters.js";
import type { GossipRequester } from "./requester.js";
import type { Publication } from "./publication.js";

/**
 * Directed repair at the origin. The random burst misses each node with a
 * probability of about e^-gossipGroup (0.7% at 5), so at 40 nodes about one
 * batch in eight leaves someone waiting for the periodic advertise (up to
 * 1.25 s). The origin knows whom it expects an answer from: repairAfterMs
 * after publishing (and once replies have stopped arriving for repairQuietMs:
 * on a loaded host the silent nodes are busy, not missed) it advertises the
 * envelope straight to each expected node that has not answered. A node that lacks it pulls it from the origin at
 * once; a node that has it (still running it) says so with an empty Want and
 * is not asked again. Rounds repeat with a doubling delay (capped at the
 * advertise interval) while some node has not confirmed, until the
 * publication is done.
 */
export class OriginRepair {
  private readonly timers = new Set<Timer>();
  private stopped = false;

  constructor(
    private readonly d: {
      requester: GossipRequester;
      membership: Membership;
      clock: Clock;
      config: GossipConfig;
      counters: GossipCounters;
    },
  ) {}

  watch(pub: Publication): void {
    const { clock, config, membership, requester, counters } = this.d;
    const confirmed = new Set<string>([membership.localName]);
    const ids = [pub.envelope.id];
    const publishedMs = clock.now();
    let lastReplyMs = publishedMs;
    const unsubscribe = pub.subscribe((e) => {
      if (e.type === "reply") lastReplyMs = clock.now();
    });
    let first = true;
    let timer: Timer | null = null;
    /** Runs a round in `ms`; `delay` is the round's place in the doubling sequence. */
    const schedule = (ms: number, delay: number) => {
      timer = clock.setTimeout(() => round(delay), ms);
      this.timers.add(timer);
    };
    const round = (delay: number) => {
      if (timer) this.timers.delete(timer);
      if (pub.done || this.stopped) return;
      if (first) {
        // Replies still arriving: wait for the stream to stall (bounded by an advertise interval).
        const now = clock.now();
        const wait = Math.min(lastReplyMs + config.repairQuietMs, publishedMs + config.advertiseIntervalMs) - now;
        if (wait > 0) {
          schedule(wait, delay);
          return;
        }
        first = false;
      }
      const unconfirmed = pub.pending().filter((n) => !confirmed.has(n));
      if (unconfirmed.length === 0) return;
      for (const node of unconfirmed) {
        const member = membership.member(node);
        if (!member) continue;
        counters.repairs++;
        counters.advertisedIds += ids.length;
        requester.request(member.address, { kind: "advertise", from: membership.localName, ids }).then(
          (reply) => {
            if (reply.kind === "want" && reply.ids.length === 0) confirmed.add(node);
          },
          () => undefined, // unreachable for now: the next round asks again
        );
      }
      const next = Math.min(delay * 2, config.advertiseIntervalMs);
      schedule(next, next);
    };
    schedule(config.repairAfterMs, config.repairAfterMs);
    void pub.finished.then(() => {
      unsubscribe();
      if (timer) {
        timer.cancel();
        this.timers.delete(timer);
      }
    });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }
}
