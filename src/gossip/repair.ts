import type { Clock, Timer } from "../net/clock.js";
import type { Membership } from "../swim/types.js";
import type { GossipConfig } from "./config.js";
import type { GossipCounters } from "./counters.js";
import type { GossipRequester } from "./requester.js";
import type { Publication } from "./results.js";

/**
 * Directed repair at the origin. The random burst misses each node with a
 * probability of about e^-gossipGroup (0.7% at 5), so at 40 nodes about one
 * batch in eight leaves someone waiting for the periodic advertise (up to
 * 1.25 s). The origin knows whom it expects an answer from: repairAfterMs
 * after publishing it advertises the envelope straight to each expected node
 * that has not answered. A node that lacks it pulls it from the origin at
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
    let timer: Timer | null = null;
    const schedule = (delay: number) => {
      timer = clock.setTimeout(() => round(delay), delay);
      this.timers.add(timer);
    };
    const round = (delay: number) => {
      if (timer) this.timers.delete(timer);
      if (pub.done || this.stopped) return;
      const unconfirmed = pub.pending().filter((n) => !confirmed.has(n));
      if (unconfirmed.length === 0) return;
      for (const node of unconfirmed) {
        const member = membership.member(node);
        if (!member) continue;
        counters.repairs++;
        requester.request(member.address, { kind: "advertise", from: membership.localName, ids }).then(
          (reply) => {
            if (reply.kind === "want" && reply.ids.length === 0) confirmed.add(node);
          },
          () => undefined, // unreachable for now: the next round asks again
        );
      }
      schedule(Math.min(delay * 2, config.advertiseIntervalMs));
    };
    schedule(config.repairAfterMs);
    void pub.finished.then(() => {
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
