import type { Clock } from "../base/clock.js";
import type { Logger, RateLimitedLog } from "../base/logger.js";
import type { Random } from "../base/random.js";
import type { Address } from "../net/transport.js";
import type { SwimConfig } from "./config.js";
import type { SwimCounters } from "./counters.js";
import type { MemberTable } from "./members.js";
import { JoinRefusedError, type PushPull } from "./pushpull.js";
import type { Scheduler } from "./scheduler.js";
import type { MemberEvent } from "./types.js";

/**
 * Finding the cluster, and finding it again:
 * - join(seeds) push-pulls with every seed; if none answers it retries with
 *   back-off (joinRetryMinMs doubling up to joinRetryMaxMs), logging each
 *   miss, until one does. A seed that starts after us is thus joined once it
 *   appears. A name conflict is final and rejects at once.
 * - The reconnect loop: while this node knows no other running member it
 *   re-contacts the seeds with the same back-off (a node cut off by a
 *   partition finds its way back); otherwise, every reconnectIntervalMs, it
 *   push-pulls with one member declared dead, or one seed that is not a
 *   running member. That is what merges the two halves of a healed
 *   partition, whose members declared each other dead (Serf's reconnect).
 * Members declared dead stay reconnect candidates for reconnectTimeoutMs,
 * even after they are reaped from the member list.
 */
export interface JoinerDeps {
  address: Address;
  clock: Clock;
  random: Random;
  config: SwimConfig;
  table: MemberTable;
  counters: SwimCounters;
  scheduler: Scheduler;
  pushPull: PushPull;
  log: Logger;
  rlog: RateLimitedLog;
}

/** Bound on remembered failed members (oldest forgotten first). */
const MAX_FAILED = 1024;

export class Joiner {
  private seeds: Address[] = [];
  /** name -> where a failed member lived and since when (clock ms). */
  private readonly failed = new Map<string, { address: Address; sinceMs: number }>();
  private aloneDelayMs: number;
  /** A join() is retrying: the reconnect loop leaves the seeds to it. */
  private joining = false;

  constructor(private readonly d: JoinerDeps) {
    this.aloneDelayMs = d.config.joinRetryMinMs;
  }

  start(): void {
    this.d.scheduler.after(this.d.random.int(this.d.config.reconnectIntervalMs), () => this.reconnect());
  }

  /** Resolves with the number of seeds that answered (at least 1), after retries. */
  async join(seeds: Address[]): Promise<number> {
    const { d } = this;
    this.seeds = [...new Set(seeds)].filter((s) => s !== d.address);
    if (this.seeds.length === 0) return 0;
    this.joining = true;
    try {
      let delayMs = d.config.joinRetryMinMs;
      for (;;) {
        const answered = await this.contactSeeds();
        if (answered > 0) {
          d.log.info({ seeds: this.seeds, answered, members: d.table.running }, "joined the cluster");
          return answered;
        }
        if (d.scheduler.isStopped) throw new Error("membership was shut down before any seed answered the join");
        d.log.warn({ seeds: this.seeds, retryInMs: delayMs }, "no seed answered the join; the node keeps running and retries");
        await d.scheduler.sleep(delayMs);
        if (d.scheduler.isStopped) throw new Error("membership was shut down before any seed answered the join");
        delayMs = Math.min(delayMs * 2, d.config.joinRetryMaxMs);
      }
    } finally {
      this.joining = false;
    }
  }

  /** Keeps the reconnect candidates in step with membership changes. */
  onEvent(e: MemberEvent): void {
    const m = e.member;
    if (e.type === "fail") {
      this.failed.delete(m.name);
      this.failed.set(m.name, { address: m.address, sinceMs: this.d.clock.now() });
      if (this.failed.size > MAX_FAILED) this.failed.delete(this.failed.keys().next().value!);
    } else if (e.type !== "reap") {
      // Running again, or gone for good (left): no reconnects.
      if (m.status !== "dead") this.failed.delete(m.name);
    }
  }

  /**
   * Push-pulls (join) with every seed at once: a dead seed then costs one
   * timeout, not one per seed. Returns how many answered; throws when one
   * refused our name.
   */
  private async contactSeeds(): Promise<number> {
    const results = await Promise.allSettled(this.seeds.map((s) => this.d.pushPull.exchange(s, true)));
    const refused = results.find((r) => r.status === "rejected" && r.reason instanceof JoinRefusedError);
    if (refused) throw new Error((refused as PromiseRejectedResult).reason.message);
    return results.filter((r) => r.status === "fulfilled").length;
  }

  private reconnect(): void {
    const { d } = this;
    if (this.joining) {
      d.scheduler.after(d.config.reconnectIntervalMs, () => this.reconnect());
      return;
    }
    const alone = d.table.running <= 1;
    if (alone && this.seeds.length > 0) {
      d.scheduler.after(this.aloneDelayMs, () => this.reconnect());
      d.rlog.warn("alone", { seeds: this.seeds, retryInMs: this.aloneDelayMs }, "no other running member known: re-contacting the seeds");
      this.aloneDelayMs = Math.min(this.aloneDelayMs * 2, d.config.joinRetryMaxMs);
      d.counters.reconnectAttempts++;
      this.contactSeeds().catch((err: unknown) => d.log.error({ err: String(err) }, "a seed refused this node"));
      return;
    }
    this.aloneDelayMs = d.config.joinRetryMinMs;
    d.scheduler.after(d.config.reconnectIntervalMs, () => this.reconnect());
    const target = this.pickReconnectTarget();
    if (!target) return;
    d.counters.reconnectAttempts++;
    d.pushPull.exchange(target, false).catch(() => {
      // Expected while the member is really gone.
    });
  }

  private pickReconnectTarget(): Address | undefined {
    const { d } = this;
    const now = d.clock.now();
    for (const [name, f] of this.failed) {
      if (now - f.sinceMs > d.config.reconnectTimeoutMs) this.failed.delete(name);
    }
    const all = [...[...this.failed.values()].map((f) => f.address), ...this.seeds];
    if (all.length === 0) return undefined;
    // Drop the addresses a running member holds: one pass over the table,
    // stopping once every candidate was found live (usually: the seeds are
    // members), instead of a Set of every live address (that Set, built every
    // reconnect interval on every node, was 11% of a 2,000-node simulation).
    const unseen = new Set(all);
    for (const m of d.table.all()) {
      if ((m.status === "alive" || m.status === "suspect") && unseen.delete(m.address) && unseen.size === 0) return undefined;
    }
    const candidates = all.filter((a) => unseen.has(a));
    if (candidates.length === 0) return undefined;
    return candidates[d.random.int(candidates.length)];
  }
}
