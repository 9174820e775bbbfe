import type { Clock } from "../base/clock.js";
import type { CheckStatus } from "../checks/types.js";
import type { Quorum, QuorumVerdict } from "../control/watch_types.js";
import { firer, isFailingVote, neededVotes } from "./votes.js";

/*
 * One node's book of a quorum check's votes and verdicts (clusterduck's
 * voting, without a master). Each node that runs a quorum check votes with
 * its own transitions; the daemon spreads them (VOTE envelopes, only
 * transitions travel) and feeds every vote it learns, its own included, to
 * apply(). Each node then computes the same verdict from the same votes and
 * the same member list; only one of them, the firer, fires the triggers.
 *
 * The firer is the first live voter in name order. Every node knows it
 * without a message, and when it dies (SWIM declares it dead and the daemon
 * drops it from the voters) the next in order takes over.
 *
 * Each node fires the changes it sees after the moment it became firer; at
 * that moment it adopts the verdict as it stood before that evaluation as
 * already fired (so a change seen in the very evaluation where it took over
 * is fired by it). What this guarantees and what it does not:
 * - Views that agree (the same votes and voters): exactly one node fires each
 *   change, once.
 * - Handoff: a change the old firer fired before it died is not fired again;
 *   a change after the new firer took over is fired by it. A change that
 *   came while the old firer was already down but not yet declared dead
 *   (the SWIM suspicion time, seconds) is lost: nobody can know what a dead
 *   node fired, and firing at takeover would repeat every change a live
 *   firer did fire. Its opposite change is fired (a quorum-recover without
 *   its quorum-fail), and `gcheck status` shows the verdict all along.
 * - Views that differ (a vote still spreading, a member declared dead on one
 *   node before another): two nodes may each believe they are the firer, or
 *   see the change at different times, for about one dissemination delay;
 *   a change may then fire twice, or (rarely) not at all.
 * - A restarted node starts from "not failing" and no votes: if it is the
 *   firer and the verdict is failing, it fires quorum-fail again once it has
 *   relearned the votes (membership events are not replayed, votes are).
 */

/** A vote learned (own or from the cluster). */
export interface VoteIn {
  node: string;
  schedule: string;
  check: string;
  status: CheckStatus;
  /** When the voter saw its transition (ms since the epoch, the voter's clock). */
  atMs: number;
  message: string;
}

/** A quorum check this node knows of, with the live voters of its schedule (alive members it targets), from the daemon. */
export interface QuorumCheck {
  schedule: string;
  check: string;
  quorum: Quorum;
  voters: string[];
}

/** A verdict change, the way a trigger tells it (TriggerEvent.quorum). */
export interface QuorumChangeFacts {
  schedule: string;
  check: string;
  /** Failing votes among the live voters. */
  failing: number;
  needed: number;
  voters: number;
  /** The voters failing. */
  nodes: string[];
}

export interface QuorumChange {
  verdict: QuorumVerdict;
  /** Whether this node fires quorum-fail (verdict.failing) or quorum-recover for the cluster. */
  fire: boolean;
  facts: QuorumChangeFacts;
}

interface Entry {
  check: QuorumCheck;
  /** Sorted, without duplicates. */
  voters: string[];
  /** The verdict at the last evaluation; undefined before the first. */
  verdict?: QuorumVerdict;
}

function key(schedule: string, check: string): string {
  return `${schedule}\0${check}`;
}

export class QuorumBook {
  private readonly self: string;
  private readonly clock: Clock;
  /** (schedule, check) -> voter -> its latest vote. */
  private readonly votes = new Map<string, Map<string, VoteIn>>();
  private entries = new Map<string, Entry>();
  /** Checks whose votes, voters or quorum changed since the last evaluation: only they are recomputed (a vote costs O(its check's voters), not O(every check)). */
  private readonly dirty = new Set<string>();

  constructor(o: { self: string; clock: Clock }) {
    this.self = o.self;
    this.clock = o.clock;
  }

  /**
   * A vote learned (own or from the cluster): the latest atMs per (node,
   * schedule, check) wins, an older one is ignored. Two votes of one node
   * with the same atMs: the greater (status, message) wins, so every node
   * keeps the same one whatever order they arrive in. Votes are kept for
   * checks not known yet (a vote may arrive before its schedule). Returns
   * whether the book changed.
   */
  apply(v: VoteIn): boolean {
    const k = key(v.schedule, v.check);
    let byNode = this.votes.get(k);
    if (byNode === undefined) this.votes.set(k, (byNode = new Map()));
    const cur = byNode.get(v.node);
    if (cur !== undefined) {
      if (cur.atMs > v.atMs) return false;
      if (cur.atMs === v.atMs && (v.status < cur.status || (v.status === cur.status && v.message <= cur.message))) return false;
    }
    byNode.set(v.node, { ...v });
    this.dirty.add(k);
    return true;
  }

  /**
   * The quorum checks this node knows of and each one's live voters. A check
   * left out is forgotten with its verdict (no quorum-recover fires for a
   * schedule removed while failing); its votes stay until forgetNode.
   */
  setChecks(checks: QuorumCheck[]): void {
    const next = new Map<string, Entry>();
    for (const c of checks) {
      const k = key(c.schedule, c.check);
      const old = this.entries.get(k);
      const voters = [...new Set(c.voters)].sort(byCodeUnit);
      if (old === undefined || old.check.quorum !== c.quorum || old.voters.join("\0") !== voters.join("\0")) this.dirty.add(k);
      next.set(k, { check: { ...c }, voters, verdict: old?.verdict });
    }
    this.entries = next;
  }

  /** Forgets the votes of a node that left (or is long dead): they stop costing memory. A vote republished when it rejoins counts again. */
  forgetNode(node: string): void {
    for (const [k, byNode] of this.votes) {
      if (byNode.delete(node)) this.dirty.add(k);
      if (byNode.size === 0) this.votes.delete(k);
    }
  }

  /**
   * Recomputes the verdicts whose votes, voters or quorum changed, from the live voters' latest votes. Returns
   * every verdict that changed since the last evaluation (for the log and
   * the transitions), each marked `fire` when this node must fire its
   * trigger for the cluster. The first evaluation of a check compares with
   * "not failing": a check failing from the start is a change.
   */
  evaluate(): { changes: QuorumChange[] } {
    const now = this.clock.now();
    const changes: QuorumChange[] = [];
    for (const k of this.dirty) {
      const e = this.entries.get(k);
      if (e === undefined) continue; // votes of a check not known (yet)
      const byNode = this.votes.get(k);
      const votes = e.voters.flatMap((n) => {
        const v = byNode?.get(n);
        return v === undefined ? [] : [{ node: n, status: v.status, atMs: v.atMs }];
      });
      const failingNodes = votes.filter((v) => isFailingVote(v.status)).map((v) => v.node);
      const needed = neededVotes(e.check.quorum, e.voters.length);
      const failing = failingNodes.length >= needed;
      const wasFailing = e.verdict?.failing ?? false;
      const changed = failing !== wasFailing;
      const firerName = firer(e.voters);
      const verdict: QuorumVerdict = {
        schedule: e.check.schedule,
        check: e.check.check,
        quorum: e.check.quorum,
        needed,
        failing,
        votes,
        firer: firerName ?? "",
        sinceMs: changed || e.verdict === undefined ? now : e.verdict.sinceMs,
      };
      if (needed > e.voters.length)
        verdict.unreachable = `needs ${needed} failing vote${needed === 1 ? "" : "s"}, ${e.voters.length} voter${e.voters.length === 1 ? "" : "s"} alive: the verdict cannot fail`;
      e.verdict = verdict;
      // The firer fires what changed since its last evaluation; a node that
      // has just taken over compares with the verdict before this one, which
      // it adopts as fired (see the head comment).
      if (changed) {
        const facts = { schedule: verdict.schedule, check: verdict.check, failing: failingNodes.length, needed, voters: e.voters.length, nodes: failingNodes };
        changes.push({ verdict, fire: firerName === this.self, facts });
      }
    }
    this.dirty.clear();
    return { changes };
  }

  /** Every known quorum check's verdict as of the last evaluation (not yet evaluated: left out). */
  verdicts(): QuorumVerdict[] {
    return [...this.entries.values()].flatMap((e) => (e.verdict ? [e.verdict] : []));
  }

  /** This node's own latest votes (to republish when a member joins). */
  ownVotes(): VoteIn[] {
    const out: VoteIn[] = [];
    for (const byNode of this.votes.values()) {
      const v = byNode.get(this.self);
      if (v !== undefined) out.push({ ...v });
    }
    return out;
  }
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
