import type { Clock } from "../base/clock.js";
import { nullLogger, RateLimitedLog, type Logger } from "../base/logger.js";
import type { Random } from "../base/random.js";
import { Channel, type Address, type Transport } from "../net/transport.js";
import { Awareness } from "./awareness.js";
import { decodePacket } from "./codec.js";
import { checkConfig, type SwimConfig } from "./config.js";
import { newCounters, type SwimCounters } from "./counters.js";
import { MemberEvents } from "./events.js";
import type { SharedMembers } from "./identities.js";
import { Joiner } from "./join.js";
import { MemberTable, toMember, type MemberRecord } from "./members.js";
import { Piggyback } from "./piggyback.js";
import { Prober } from "./probe.js";
import { PushPull } from "./pushpull.js";
import { BroadcastQueue } from "./queue.js";
import { Scheduler } from "./scheduler.js";
import { MemberStates } from "./state.js";
import { tagsProblem } from "./tags.js";
import type { Member, MemberEvent, MemberStatus, Membership, Peer, PushPullDelegate } from "./types.js";

export interface SwimOptions {
  /** Unique node name (the daemon's -name). */
  name: string;
  transport: Transport;
  clock: Clock;
  random: Random;
  config: SwimConfig;
  tags?: Record<string, string>;
  delegate?: PushPullDelegate;
  logger?: Logger;
  /** Member identities shared by many nodes in one process (a simulation: identities.ts); none in a daemon. */
  shared?: SharedMembers;
}

/**
 * One node's membership: SWIM with the Lifeguard extensions, as
 * hashicorp/memberlist does it. This class only wires the parts together and
 * routes packets; each concern lives in its own file:
 *   probe.ts     failure detection (ping, ping-req, ack, nack)
 *   state.ts     the member state machine and its precedence rules
 *   suspicion.ts, awareness.ts   Lifeguard
 *   queue.ts, piggyback.ts       spreading updates on packets and gossip
 *   pushpull.ts  full state exchange over TCP
 *   join.ts      joining, retrying, re-contacting seeds, reconnecting
 * Everything is injected (transport, clock, randomness), so the same code
 * runs on UDP/TCP sockets and in simulations of hundreds of nodes.
 */
export class Swim implements Membership {
  readonly localName: string;
  readonly localAddress: Address;
  private readonly config: SwimConfig;
  private readonly transport: Transport;
  private readonly log: Logger;
  private readonly counts: SwimCounters = newCounters();
  private readonly table: MemberTable;
  /** reachablePeers()'s answer and the table's change count it was made at. */
  private peers: { changes: number; peers: readonly Peer[] } | undefined;
  private readonly queue: BroadcastQueue;
  private readonly awareness: Awareness;
  private readonly events: MemberEvents;
  private readonly scheduler: Scheduler;
  private readonly clock: Clock;
  private readonly state: MemberStates;
  private readonly piggyback: Piggyback;
  private readonly prober: Prober;
  private readonly pushPull: PushPull;
  private readonly joiner: Joiner;
  private readonly rlog: RateLimitedLog;
  private started = false;

  /** Throws an Error naming the problem for a bad config, name or tags. */
  constructor(o: SwimOptions) {
    const problems = checkConfig(o.config);
    if (problems.length) throw new Error(`membership config: ${problems.join("; ")}`);
    if (!o.name) throw new Error("node name is empty: give the node a -name");
    const nameBytes = Buffer.byteLength(o.name);
    if (nameBytes > o.config.maxNameBytes) {
      throw new Error(`node name "${o.name}" is ${nameBytes} bytes, more than the limit of ${o.config.maxNameBytes}: pick a shorter -name`);
    }
    const tagsError = tagsProblem(o.tags ?? {}, o.config);
    if (tagsError) throw new Error(tagsError);

    this.localName = o.name;
    this.localAddress = o.transport.address;
    this.config = o.config;
    this.transport = o.transport;
    this.log = o.logger ?? nullLogger;
    const { clock, random } = o;
    this.clock = clock;
    const name = o.name;
    const address = o.transport.address;
    this.rlog = new RateLimitedLog(this.log, () => clock.now());
    this.scheduler = new Scheduler(clock);
    this.table = new MemberTable(random, o.shared?.slots);
    this.queue = new BroadcastQueue(o.config.retransmitMult);
    this.awareness = new Awareness(o.config.awarenessMaxMultiplier);
    this.events = new MemberEvents(this.log);
    const common = { config: o.config, table: this.table, counters: this.counts, log: this.log, rlog: this.rlog };
    this.state = new MemberStates({ ...common, name, address, clock, queue: this.queue, awareness: this.awareness, events: this.events, shared: o.shared }, o.tags ?? {});
    this.piggyback = new Piggyback({
      transport: o.transport,
      clock,
      config: o.config,
      table: this.table,
      queue: this.queue,
      counters: this.counts,
      localName: name,
      clusterSize: () => this.state.clusterSize(),
    });
    this.prober = new Prober({
      ...common,
      name,
      address,
      random,
      state: this.state,
      awareness: this.awareness,
      scheduler: this.scheduler,
      piggyback: this.piggyback,
    });
    this.pushPull = new PushPull({
      ...common,
      name,
      address,
      transport: o.transport,
      clock,
      random,
      state: this.state,
      scheduler: this.scheduler,
      delegate: o.delegate,
    });
    this.joiner = new Joiner({ ...common, address, clock, random, scheduler: this.scheduler, pushPull: this.pushPull });
    this.events.on((e) => this.joiner.onEvent(e));
  }

  /** Starts answering probes and push-pulls, probing, gossiping and reconnecting. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.transport.onPacket((data, from) => this.receive(data, from));
    this.transport.onRequest(Channel.Swim, (body, from) => {
      if (this.scheduler.isStopped) throw new Error(`${this.localName} is shutting down`);
      return this.pushPull.handleRequest(body, from);
    });
    this.state.announceSelf();
    this.prober.start();
    this.pushPull.start();
    this.joiner.start();
    this.startGossipRounds();
    this.log.info({ name: this.localName, address: this.localAddress, profile: this.config.profile }, "membership started");
  }

  /**
   * Gossip rounds run on a fixed grid of gossipIntervalMs from start, and
   * only while updates are queued: with an empty queue a round sends
   * nothing, so the loop sleeps, and the next enqueue wakes it for the next
   * grid instant. The rounds that send anything are the ones the plain
   * ticker would have run; an idle daemon is spared 5 wake-ups a second
   * (lan profile), most of its idle CPU besides the probes.
   */
  private startGossipRounds(): void {
    const interval = this.config.gossipIntervalMs;
    const origin = this.clock.now();
    let pending = false;
    const round = () => {
      pending = false;
      this.piggyback.gossipRound();
      wake();
    };
    const wake = () => {
      if (pending || this.queue.length === 0 || this.scheduler.isStopped) return;
      pending = true;
      const now = this.clock.now();
      const next = origin + (Math.floor((now - origin) / interval) + 1) * interval;
      this.scheduler.after(next - now, round);
    };
    this.queue.onEnqueue = wake;
    wake();
  }

  /**
   * Joins through the seeds (push-pull with each). Resolves with the number
   * of seeds that answered, retrying with back-off while none does; 0 when
   * there are no seeds other than ourselves. Rejects when a seed refuses our
   * name (the message says so and what to do) or on shutdown.
   */
  join(seeds: Address[]): Promise<number> {
    this.start();
    return this.joiner.join(seeds);
  }

  /**
   * One join push-pull with the node at `address`, no retries and the seeds
   * unchanged: for a node that discovery heard (src/net/discovery.ts), which
   * it will hear again if this attempt fails. Rejects as exchange() does.
   */
  joinOnce(address: Address): Promise<void> {
    this.start();
    return this.pushPull.exchange(address, true);
  }

  /**
   * Graceful leave: tells the cluster this node left (not failed) and waits
   * until the news was gossiped its full number of times, or timeoutMs. Call
   * shutdown() afterwards.
   */
  leave(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.state.isLeaving || this.scheduler.isStopped) return resolve();
      const othersRunning = this.table.running > 1;
      const timer = this.scheduler.after(timeoutMs, resolve);
      this.state.leave(() => {
        timer.cancel();
        resolve();
      });
      if (!othersRunning) {
        timer.cancel();
        resolve();
      }
    });
  }

  /** Stops every timer and ignores all further traffic. Does not close the transport (gossip shares it). */
  shutdown(): void {
    this.scheduler.stop();
    this.state.stop();
    this.queue.clear();
  }

  /** New tags for this node, spread with a new incarnation. Throws when they are too large. */
  setTags(tags: Record<string, string>): void {
    const problem = tagsProblem(tags, this.config);
    if (problem) throw new Error(problem);
    this.state.setLocalTags(tags);
  }

  members(): Member[] {
    return this.table.all().map(toMember);
  }

  reachableMembers(): Member[] {
    return this.table.all().filter(this.reachable).map(toMember);
  }

  reachablePeers(): readonly Peer[] {
    const changes = this.table.changes;
    if (this.peers?.changes !== changes)
      this.peers = {
        changes,
        peers: this.table
          .all()
          .filter(this.reachable)
          .map((r) => ({ name: r.name, address: r.address })),
      };
    return this.peers.peers;
  }

  private readonly reachable = (r: MemberRecord) => r.name !== this.localName && (r.status === "alive" || r.status === "suspect");

  member(name: string): Member | undefined {
    const rec = this.table.get(name);
    return rec ? toMember(rec) : undefined;
  }

  /** Members per status, this node included (cheap: no snapshots). */
  statusCounts(): Record<MemberStatus, number> {
    return { ...this.table.counts() };
  }

  onEvent(listener: (e: MemberEvent) => void): () => void {
    return this.events.on(listener);
  }

  /** This node's Lifeguard health score: 0 is healthy. */
  healthScore(): number {
    return this.awareness.score;
  }

  counters(): Record<string, number> {
    return {
      ...this.counts,
      ...prefixed("members", this.table.counts()),
      healthScore: this.awareness.score,
      queuedUpdates: this.queue.length,
      incarnation: this.state.self.incarnation,
    };
  }

  private receive(data: Uint8Array, from: Address): void {
    if (this.scheduler.isStopped) return;
    const c = this.counts;
    c.packetsIn++;
    c.bytesIn += data.length;
    const r = decodePacket(data);
    if (!r.ok) {
      if (r.error === "bad_version") c.droppedBadVersion++;
      else c.droppedUndecodable++;
      this.rlog.warn(`packet-${r.error}`, { from, detail: r.detail }, "dropped a membership packet");
      return;
    }
    const p = r.value;
    // Updates first: a suspect's ping carries the suspicion it must refute
    // in the ack it is about to send.
    let corrections: Uint8Array[] | undefined;
    for (const u of p.updates) {
      const correction = this.state.applyUpdate(u, from);
      if (correction) (corrections ??= []).push(correction);
    }
    if (corrections) this.piggyback.send(from, {}, corrections);
    if (p.ping) this.prober.handlePing(p.ping, from);
    else if (p.pingReq) this.prober.handlePingReq(p.pingReq, from);
    else if (p.ack) this.prober.handleAck(p.ack);
    else if (p.nack) this.prober.handleNack(p.nack);
    this.pushPull.noteMemberCount(from, p.memberCount);
  }
}

function prefixed(prefix: string, o: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) out[prefix + k[0]!.toUpperCase() + k.slice(1)] = v;
  return out;
}
