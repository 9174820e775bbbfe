import type { Clock, Timer } from "../base/clock.js";
import type { Logger, RateLimitedLog } from "../base/logger.js";
import type { Random } from "../base/random.js";
import { Channel, type Address, type Transport } from "../net/transport.js";
import type { pb } from "../proto/index.js";
import { decodePushPull, encodePushPull } from "./codec.js";
import { sameTableDigest } from "./digest.js";
import type { SwimConfig } from "./config.js";
import type { SwimCounters } from "./counters.js";
import type { MemberTable } from "./members.js";
import { pushPullScale } from "./scale.js";
import type { Scheduler } from "./scheduler.js";
import type { MemberStates } from "./state.js";
import type { PushPullDelegate } from "./types.js";

/*
 * Full state exchange over TCP (memberlist's pushPull): both sides send
 * every member record they hold and merge the other's. It runs
 * - on join, with the seeds (the reply carries the whole cluster as the seed
 *   knows it);
 * - periodically with one random running member (anti-entropy), every
 *   pushPullIntervalMs scaled up with N. This one sends a digest of the
 *   member table first (digest.ts) and exchanges full state only when the
 *   peer's table differs: in a settled cluster every table is the same, and
 *   full state would cost each node N members both ways every period, TCP
 *   bytes per node per second growing like N / log N;
 * - as a catch-up pull when a packet arrives from a member that counts more
 *   running members than we hold records: we missed someone (a join storm,
 *   lost packets), and waiting for the periodic exchange is what leaves
 *   memberlist's stragglers a minute behind;
 * - from the reconnect loop (join.ts), to heal partitions.
 * The layer above rides along with the delegate's user state, both ways.
 */

/** The remote refused our join: our name is taken there. */
export class JoinRefusedError extends Error {
  constructor(
    readonly seed: Address,
    reason: string,
  ) {
    super(`join refused by ${seed}: ${reason}`);
    this.name = "JoinRefusedError";
  }
}

export interface PushPullDeps {
  name: string;
  address: Address;
  transport: Transport;
  clock: Clock;
  random: Random;
  config: SwimConfig;
  table: MemberTable;
  state: MemberStates;
  counters: SwimCounters;
  scheduler: Scheduler;
  log: Logger;
  rlog: RateLimitedLog;
  delegate?: PushPullDelegate;
}

export class PushPull {
  private lastCatchUpMs = -Infinity;
  private catchUpInFlight = false;
  /** The best peer to catch up from, seen since the last catch-up pull. */
  private catchUpFrom: { address: Address; count: number } | null = null;
  private catchUpTimer: Timer | null = null;

  constructor(private readonly d: PushPullDeps) {}

  start(): void {
    const first = this.d.random.int(this.d.config.pushPullIntervalMs);
    this.d.scheduler.after(first, () => this.periodic());
  }

  /**
   * One exchange with the node at `to`. Resolves once its state is merged;
   * rejects with a TransportError, a JoinRefusedError, or an Error naming a
   * reply that could not be read.
   */
  async exchange(to: Address, join: boolean): Promise<void> {
    const { d } = this;
    d.counters.pushPulls++;
    const reply = await this.send(to, d.state.encodePushPull({ join, from: d.name, userState: d.delegate?.localState(join) ?? new Uint8Array(0) }));
    if (!reply) return;
    if (reply.error) {
      d.counters.pushPullsFailed++;
      throw new JoinRefusedError(to, reply.error);
    }
    d.state.mergeRemote(reply.members, false);
    if (d.delegate && reply.userState.length) d.delegate.mergeRemoteState(reply.userState, join, to);
  }

  /**
   * Sends one push-pull request and reads the reply; null once membership
   * was shut down meanwhile. Failures are counted and rethrown.
   */
  private async send(to: Address, body: Uint8Array): Promise<pb.PushPull | null> {
    const { d } = this;
    try {
      const raw = await d.transport.request(to, Channel.Swim, body, d.config.tcpTimeoutMs);
      if (d.scheduler.isStopped) return null;
      const r = decodePushPull(raw);
      if (r.ok) return r.value;
      if (r.error === "bad_version") d.counters.droppedBadVersion++;
      else d.counters.droppedUndecodable++;
      throw new Error(`push-pull reply from ${to} is unreadable (${r.detail})`);
    } catch (err) {
      d.counters.pushPullsFailed++;
      throw err;
    }
  }

  /** The Channel.Swim request handler: merge theirs, reply with ours. */
  handleRequest(body: Uint8Array, from: Address): Uint8Array {
    const { d } = this;
    const r = decodePushPull(body);
    if (!r.ok) {
      if (r.error === "bad_version") d.counters.droppedBadVersion++;
      else d.counters.droppedUndecodable++;
      d.rlog.warn("pushpull-undecodable", { from, detail: r.detail }, "dropped an unreadable push-pull request");
      throw new Error(`push-pull request unreadable: ${r.detail}`);
    }
    const req = r.value;
    if (req.digest.length > 0 && !req.join && req.members.length === 0) return this.answerDigest(req, from);
    d.counters.pushPullsServed++;
    if (req.join) {
      const refusal = this.nameTaken(req, from);
      if (refusal) {
        d.counters.joinsRefused++;
        d.log.warn({ from, name: req.from }, refusal);
        return encodePushPull({ from: d.name, error: refusal });
      }
    }
    // Merge before replying, so a member that refutes (it learned it was
    // suspected or dead) sends its new incarnation back in this reply.
    d.state.mergeRemote(req.members, true);
    if (d.delegate && req.userState.length) d.delegate.mergeRemoteState(req.userState, req.join, from);
    return d.state.encodePushPull({ join: req.join, from: d.name, userState: d.delegate?.localState(req.join) ?? new Uint8Array(0) });
  }

  /**
   * Called for every packet: the sender counts memberCount running members.
   * Holding fewer records than that, we are missing someone: pull, at once
   * the first time, then at most once per catchUpIntervalMs, each time from
   * the sender that counted the most members meanwhile (in a join storm the
   * first peer asked often lacks some members itself).
   */
  noteMemberCount(from: Address, memberCount: number): void {
    const { d } = this;
    if (memberCount <= d.table.size || d.state.isLeaving) return;
    if (!this.catchUpFrom || memberCount > this.catchUpFrom.count) this.catchUpFrom = { address: from, count: memberCount };
    if (this.catchUpInFlight || this.catchUpTimer) return;
    const waitMs = this.lastCatchUpMs + d.config.catchUpIntervalMs - d.clock.now();
    if (waitMs <= 0) this.catchUp();
    else this.catchUpTimer = d.scheduler.after(waitMs, () => this.catchUp());
  }

  private catchUp(): void {
    const { d } = this;
    this.catchUpTimer = null;
    const peer = this.catchUpFrom;
    this.catchUpFrom = null;
    if (!peer || peer.count <= d.table.size || this.catchUpInFlight) return;
    this.lastCatchUpMs = d.clock.now();
    this.catchUpInFlight = true;
    d.counters.catchUpPulls++;
    this.exchange(peer.address, false)
      .catch((err: unknown) => d.rlog.warn("catchup", { peer: peer.address, err: String(err) }, "catch-up push-pull failed"))
      .finally(() => {
        this.catchUpInFlight = false;
      });
  }

  private periodic(): void {
    const { d } = this;
    d.scheduler.after(pushPullScale(d.config.pushPullIntervalMs, d.state.clusterSize()), () => this.periodic());
    const [peer] = d.table.randomMembers(1, (m) => m.name !== d.name && m.status === "alive");
    if (!peer) return;
    this.compare(peer.address).catch((err: unknown) => d.rlog.warn("pushpull", { peer: peer.address, err: String(err) }, "periodic push-pull failed"));
  }

  /**
   * The periodic exchange: our table's digest and the user state; a full
   * exchange() follows only when the peer's table differs. A peer from
   * before digests answers with its full state: merged as exchange() would.
   */
  private async compare(to: Address): Promise<void> {
    const { d } = this;
    d.counters.digestChecks++;
    const reply = await this.send(to, encodePushPull({ from: d.name, digest: d.state.digest(), userState: d.delegate?.localState(false) ?? new Uint8Array(0) }));
    if (!reply) return;
    if (reply.members.length > 0) d.state.mergeRemote(reply.members, false);
    if (d.delegate && reply.userState.length) d.delegate.mergeRemoteState(reply.userState, false, to);
    if (!reply.stateDiffers) return;
    d.counters.digestMismatches++;
    await this.exchange(to, false);
  }

  /**
   * A digest check from `from`. Tables alike: its user state merged and ours
   * back. Tables differ: only that; the full push-pull it then starts
   * carries both user states.
   */
  private answerDigest(req: pb.PushPull, from: Address): Uint8Array {
    const { d } = this;
    d.counters.digestChecksServed++;
    if (!sameTableDigest(req.digest, d.state.digest())) return encodePushPull({ from: d.name, stateDiffers: true });
    if (d.delegate && req.userState.length) d.delegate.mergeRemoteState(req.userState, false, from);
    return encodePushPull({ from: d.name, userState: d.delegate?.localState(false) ?? new Uint8Array(0) });
  }

  /** Why a joiner may not have its name here, or null. */
  private nameTaken(req: pb.PushPull, from: Address): string | null {
    const claimed = req.members.find((m) => m.name === req.from)?.address || from;
    const holder = req.from ? this.d.table.get(req.from) : undefined;
    if (!req.from) return "the join request names no node: every node needs a -name";
    if (!holder || holder.address === claimed) return null;
    if (holder.status !== "alive" && holder.status !== "suspect") return null;
    return `node name "${req.from}" is already taken by a running member at ${holder.address}; start this node (${claimed}) with a unique -name`;
  }
}
