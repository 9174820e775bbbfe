import type { Clock } from "../base/clock.js";
import type { Logger, RateLimitedLog } from "../base/logger.js";
import type { Address } from "../net/transport.js";
import { pb } from "../proto/index.js";
import type { Awareness } from "./awareness.js";
import { appendMember, encodeUpdate, pushPullWriter } from "./codec.js";
import { tableDigest } from "./digest.js";
import type { SwimConfig } from "./config.js";
import type { SwimCounters } from "./counters.js";
import type { MemberEvents } from "./events.js";
import { ownIdentity, sameTags, type SharedMembers } from "./identities.js";
import { MemberRecord, type MemberIdentity, type MemberTable } from "./members.js";
import type { BroadcastQueue } from "./queue.js";
import { suspicionTimeoutMs } from "./scale.js";
import { Suspicion } from "./suspicion.js";
import type { MemberStatus } from "./types.js";

/**
 * The member state machine (memberlist's aliveNode / suspectNode / deadNode
 * / refute / mergeState). Every message about a member, from a packet or a
 * push-pull, comes through here; the precedence rules are:
 * - a higher incarnation always wins; at an equal incarnation suspect beats
 *   alive and dead/left beat suspect, so an old alive cannot resurrect a
 *   node that was declared dead;
 * - only the node itself raises its incarnation: told it is suspect or dead,
 *   it refutes with a higher one, which then beats the accusation;
 * - a name held by a running member at one address cannot be taken over by
 *   an alive message from another address; a dead or departed member's can:
 *   the new process is held one incarnation above the old one, and a suspect
 *   or dead notice naming the old address no longer applies;
 * - every accepted change is queued for gossip, so it spreads.
 */
export interface AliveMsg {
  node: string;
  address: Address;
  incarnation: number;
  /** May be a decoded protobuf map: read, copied when kept, never stored as is. */
  tags: Readonly<Record<string, string>>;
}

/** A suspect or dead message; dead with from === node is a graceful leave. */
export interface AccuseMsg {
  node: string;
  incarnation: number;
  from: string;
  /**
   * Where the accused ran, as the sender held it; a notice naming another
   * address than the one held is about an earlier process under that name,
   * and is ignored. Absent from nodes before the field: applies anyway.
   */
  address?: string;
}

export interface StateDeps {
  name: string;
  address: Address;
  clock: Clock;
  config: SwimConfig;
  table: MemberTable;
  queue: BroadcastQueue;
  awareness: Awareness;
  counters: SwimCounters;
  events: MemberEvents;
  log: Logger;
  rlog: RateLimitedLog;
  /** Identities shared with other nodes' tables (a simulation: identities.ts); none in a daemon. */
  shared?: SharedMembers;
}

const STATUS_OF: Record<number, MemberStatus | undefined> = {
  [pb.MemberStatus.ALIVE]: "alive",
  [pb.MemberStatus.SUSPECT]: "suspect",
  [pb.MemberStatus.DEAD]: "dead",
  [pb.MemberStatus.LEFT]: "left",
};
const WIRE_STATUS: Record<MemberStatus, pb.MemberStatus> = {
  alive: pb.MemberStatus.ALIVE,
  suspect: pb.MemberStatus.SUSPECT,
  dead: pb.MemberStatus.DEAD,
  left: pb.MemberStatus.LEFT,
};

export class MemberStates {
  private readonly suspicions = new Map<string, Suspicion>();
  private leaving = false;
  readonly self: MemberRecord;

  constructor(
    private readonly d: StateDeps,
    tags: Record<string, string>,
  ) {
    // Incarnation 1, as memberlist: 0 is what a fresh record of an unknown
    // node would hold, so an alive at 0 could never win.
    this.self = new MemberRecord(ownIdentity(d.name, d.address, tags), 1, "alive", d.clock.now());
    d.table.add(this.self);
  }

  /** N for every scaled timing: members believed running, at least 1. */
  clusterSize(): number {
    return Math.max(1, this.d.table.running);
  }

  get isLeaving(): boolean {
    return this.leaving;
  }

  /** Queues our own alive (at start, and after a tags change). */
  announceSelf(): void {
    this.broadcastAlive(this.self);
  }

  /** New tags for this node: a new incarnation makes them win everywhere. */
  setLocalTags(tags: Record<string, string>): void {
    this.self.identity = ownIdentity(this.self.name, this.self.address, tags);
    this.self.incarnation++;
    this.announceSelf();
    this.d.events.emit("update", this.self);
  }

  /**
   * spreadNew = false: a member we never heard of is added but not gossiped
   * on. For the members in a push-pull reply we asked for: the node that
   * answered already knows them, and so, almost always, does everyone else.
   * memberlist gossips them anyway, which makes every joiner retransmit the
   * whole member list (N x RetransmitMult x log N updates per join); a
   * member the rest of the cluster really missed is found by a catch-up
   * pull instead (see pushpull.ts).
   */
  aliveNode(a: AliveMsg, spreadNew = true): void {
    const { table, clock } = this.d;
    const local = a.node === this.d.name;
    const rec = table.get(a.node);
    if (!rec) {
      // A member we never heard of (or reaped): it joins.
      const fresh = new MemberRecord(this.identity(a.node, a.address, a.tags), a.incarnation, "alive", clock.now());
      table.add(fresh);
      if (spreadNew) this.broadcastAlive(fresh);
      this.d.events.emit("join", fresh);
      return;
    }
    let reclaimed = false;
    if (rec.address !== a.address) {
      if (rec.status === "alive" || rec.status === "suspect") {
        // The running holder keeps its name (memberlist: name conflict).
        this.d.counters.nameConflicts++;
        this.d.rlog.warn(
          `conflict:${a.node}`,
          { node: a.node, holder: rec.address, claimant: a.address },
          "name conflict: another node claims a member's name from a different address; ignoring it (give every node a unique -name)",
        );
        return;
      }
      // A dead or departed member came back at a new address.
      reclaimed = true;
    }
    if (local) {
      if (a.incarnation < rec.incarnation || this.leaving) return;
      if (a.incarnation === rec.incarnation && sameTags(a.tags, rec.tags)) return;
      // Someone holds a view of us at our incarnation or later that is not
      // what we are: out-bid it.
      this.refute(a.incarnation);
      return;
    }
    if (a.incarnation <= rec.incarnation && !reclaimed) return;
    this.cancelSuspicion(a.node);
    const wasGone = rec.status === "dead" || rec.status === "left";
    const tagsChanged = !sameTags(a.tags, rec.tags);
    const changed = rec.status !== "alive" || rec.address !== a.address || tagsChanged;
    // A member reclaimed at a new address is a new process, counting its
    // incarnations from 1 again. It is held one above the old process's last
    // incarnation: told so (in the join's answer or by gossip), it refutes,
    // and that second wave of its alive reaches members the first one missed
    // (a single wave left one of 8 nodes behind for up to 14 s in
    // simulation). Notices about the old process name the old address and
    // no longer apply (aboutEarlierProcess), so the bump cannot outlive it.
    rec.incarnation = reclaimed ? Math.max(a.incarnation, rec.incarnation + 1) : a.incarnation;
    // An unchanged identity stays the object already held (equal values).
    if (rec.address !== a.address || tagsChanged) rec.identity = this.identity(rec.name, a.address, a.tags);
    table.setStatus(rec, "alive", clock.now());
    this.broadcastAlive(rec);
    if (wasGone) this.d.events.emit("join", rec);
    else if (changed) this.d.events.emit("update", rec);
  }

  /**
   * A notice naming another address than the one we hold for the member is
   * about an earlier process under that name (it left or died, and a new one
   * came back elsewhere): applied, the old process's leave, still being
   * gossiped, would knock the new one out again.
   */
  private aboutEarlierProcess(n: AccuseMsg, rec: MemberRecord): boolean {
    if (!n.address || n.address === rec.address) return false;
    this.d.counters.staleNotices++;
    return true;
  }

  suspectNode(s: AccuseMsg): void {
    const { table, clock, config } = this.d;
    const rec = table.get(s.node);
    if (!rec || s.incarnation < rec.incarnation || this.aboutEarlierProcess(s, rec)) return;
    const running = this.suspicions.get(s.node);
    if (running) {
      // An independent confirmation shortens the timer; pass it on so the
      // others can count it too.
      if (running.confirm(s.from)) this.queue(s.node, { suspect: s });
      return;
    }
    if (rec.status !== "alive") return;
    if (s.node === this.d.name) {
      this.d.log.info({ from: s.from, incarnation: s.incarnation }, "refuting a suspicion about this node");
      this.refute(s.incarnation);
      return;
    }
    rec.incarnation = s.incarnation;
    table.setStatus(rec, "suspect", clock.now());
    this.queue(s.node, { suspect: s });
    this.d.counters.suspicions++;
    // Expect SuspicionMult - 2 confirmations, so the nominal timeout is hit
    // two probe intervals short of what the multiplier promises; none when
    // there are not enough other members to give them (memberlist).
    const n = this.clusterSize();
    const k = n - 2 < config.suspicionMult - 2 ? 0 : config.suspicionMult - 2;
    const minMs = suspicionTimeoutMs(config.suspicionMult, n, config.probeIntervalMs);
    const suspicion = new Suspicion({
      clock,
      from: s.from,
      k,
      minMs,
      maxMs: config.suspicionMaxTimeoutMult * minMs,
      onTimeout: (confirmations) => {
        if (this.suspicions.get(s.node) !== suspicion) return;
        this.suspicions.delete(s.node);
        const cur = table.get(s.node);
        if (!cur || cur.status !== "suspect") return;
        this.d.log.info({ node: s.node, confirmations }, "suspicion timed out: marking member dead");
        this.deadNode({ node: s.node, incarnation: cur.incarnation, from: this.d.name, address: cur.address });
      },
    });
    this.suspicions.set(s.node, suspicion);
    this.d.events.emit("suspect", rec);
  }

  /** onSent runs once the update has been fully gossiped (used by leave). */
  deadNode(d: AccuseMsg, onSent?: () => void): void {
    const { table, clock } = this.d;
    const rec = table.get(d.node);
    if (!rec || d.incarnation < rec.incarnation || this.aboutEarlierProcess(d, rec)) return;
    this.cancelSuspicion(d.node);
    if (rec.status === "dead" || rec.status === "left") return;
    if (d.node === this.d.name && !this.leaving) {
      this.d.log.info({ from: d.from, incarnation: d.incarnation }, "refuting a death notice about this node");
      this.refute(d.incarnation);
      return;
    }
    const left = d.from === d.node;
    rec.incarnation = d.incarnation;
    table.setStatus(rec, left ? "left" : "dead", clock.now());
    this.queue(d.node, { dead: d }, onSent);
    if (left) {
      this.d.counters.leaves++;
      this.d.events.emit("leave", rec);
    } else {
      this.d.counters.failures++;
      this.d.events.emit("fail", rec);
    }
  }

  /**
   * Graceful leave: marks this node left and queues the news. onSent runs
   * when it has been gossiped its full number of times.
   */
  leave(onSent: () => void): void {
    this.leaving = true;
    this.deadNode({ node: this.d.name, incarnation: this.self.incarnation, from: this.d.name, address: this.self.address }, onSent);
  }

  /**
   * Merges a full member list from a push-pull. A remote "dead" becomes a
   * suspicion here rather than a death (memberlist): the member gets its
   * chance to refute, as the remote may simply have been cut off from it.
   * spreadNew: see aliveNode (false for a reply to our own request).
   */
  mergeRemote(members: readonly pb.MemberState.$Properties[], spreadNew: boolean): void {
    for (const m of members) {
      const status = STATUS_OF[m.status ?? 0];
      if (!m.name || !m.address || !status) {
        this.d.counters.droppedInvalidUpdates++;
        continue;
      }
      const incarnation = m.incarnation ?? 0;
      if (status === "alive") this.aliveNode({ node: m.name, address: m.address, incarnation, tags: m.tags ?? {} }, spreadNew);
      else if (status === "left") this.deadNode({ node: m.name, incarnation, from: m.name, address: m.address });
      else this.suspectNode({ node: m.name, incarnation, from: this.d.name, address: m.address });
    }
  }

  /**
   * Applies one gossiped update from a packet. Returns a correction for the
   * sender, or null: when the update accuses a member (suspect or dead) at
   * an incarnation older than the alive one we hold, the sender missed that
   * member's refutation, and the encoded alive goes straight back to it.
   * Gossip alone reaches a given node with high probability, not
   * certainty; a bystander that missed a refutation would otherwise declare
   * a healthy node dead when its suspicion timer runs out. The correction
   * costs one packet, only when someone spreads stale news.
   *
   * The other way round too: a member we hold as left or dead that says, in
   * a packet from its own address, that it is alive at an incarnation no
   * newer is a new process that has not heard of that notice (it joined
   * through a node that had missed it). Ignored, it would stay left here
   * until a push-pull period later; told, it refutes at once.
   */
  applyUpdate(u: pb.Update.$Properties, from?: Address): Uint8Array | null {
    if (u.alive?.node && u.alive.address) {
      const a = u.alive;
      this.aliveNode({ node: a.node!, address: a.address!, incarnation: a.incarnation ?? 0, tags: a.tags ?? {} });
      const rec = this.d.table.get(a.node!);
      if (from === a.address && rec && rec.address === from && (rec.status === "left" || rec.status === "dead") && a.node !== this.d.name) {
        this.d.counters.corrections++;
        return encodeUpdate({ dead: { node: rec.name, incarnation: rec.incarnation, from: rec.status === "left" ? rec.name : this.d.name, address: rec.address } });
      }
      return null;
    }
    const accusation = u.suspect?.node && u.suspect.from ? u.suspect : u.dead?.node && u.dead.from ? u.dead : null;
    if (!accusation) {
      this.d.counters.droppedInvalidUpdates++;
      return null;
    }
    const msg: AccuseMsg = { node: accusation.node!, incarnation: accusation.incarnation ?? 0, from: accusation.from!, ...(accusation.address && { address: accusation.address }) };
    const rec = this.d.table.get(msg.node);
    if (rec && rec.status === "alive" && msg.incarnation < rec.incarnation) {
      this.d.counters.corrections++;
      return encodeUpdate({ alive: { node: rec.name, address: rec.address, incarnation: rec.incarnation, tags: rec.tags } });
    }
    if (accusation === u.suspect) this.suspectNode(msg);
    else this.deadNode(msg);
    return null;
  }

  /** A push-pull listing every record (codec.ts pushPullWriter, appendMember). */
  encodePushPull(p: Omit<pb.PushPull.$Properties, "members" | "version">): Uint8Array {
    const w = pushPullWriter(p);
    const now = this.d.clock.now();
    for (const r of this.d.table.all()) appendMember(w, r.identity, r.incarnation, WIRE_STATUS[r.status], now - r.statusSinceMs);
    return w.finish();
  }

  /** The member table's digest (digest.ts): what a periodic push-pull compares before sending full state. */
  digest(): Uint8Array {
    return tableDigest(this.d.table.all());
  }

  /** Removes members dead or left for longer than the reap times. */
  reap(): void {
    const { table, config } = this.d;
    const c = table.counts();
    if (c.dead + c.left === 0) return;
    const now = this.d.clock.now();
    const expired = table
      .all()
      .filter((r) => r !== this.self && ((r.status === "dead" && now - r.statusSinceMs >= config.deadReapMs) || (r.status === "left" && now - r.statusSinceMs >= config.leftReapMs)));
    for (const r of expired) {
      table.remove(r.name);
      this.d.counters.reaped++;
      this.d.events.emit("reap", r);
    }
  }

  stop(): void {
    for (const s of this.suspicions.values()) s.cancel();
    this.suspicions.clear();
  }

  /** Out-bids an accusation at incarnation `accused` with a fresh alive. */
  private refute(accused: number): void {
    let inc = this.self.incarnation + 1;
    if (accused >= inc) inc = accused + 1;
    this.self.incarnation = inc;
    this.d.counters.refutes++;
    // Being suspected is a sign this node may be the slow one.
    this.d.awareness.applyDelta(1);
    this.announceSelf();
  }

  private identity(name: string, address: Address, tags: Readonly<Record<string, string>>): MemberIdentity {
    return this.d.shared ? this.d.shared.identity(name, address, tags) : ownIdentity(name, address, tags);
  }

  private cancelSuspicion(node: string): void {
    const s = this.suspicions.get(node);
    if (!s) return;
    s.cancel();
    this.suspicions.delete(node);
  }

  private broadcastAlive(rec: MemberRecord): void {
    this.queue(rec.name, { alive: { node: rec.name, address: rec.address, incarnation: rec.incarnation, tags: rec.tags } });
  }

  private queue(node: string, update: pb.Update.$Properties, onSent?: () => void): void {
    this.d.queue.enqueue(node, encodeUpdate(update), onSent);
  }
}
