import type { MemberStatus } from "./types.js";

/*
 * The coordinator(s) of a cluster without a master (issue 17): a pure
 * function of the member list, so every node that has the same view
 * computes the same set, and no protocol of its own is needed.
 *
 * - Weight: the member's WEIGHT_TAG tag (gossipcheckd -weight N puts it on
 *   the member; it travels in every alive update like any tag). Missing or
 *   malformed (a hostile or older node): weight 0, the same on every node.
 * - Order: highest weight first, then the name, smallest first by UTF-16
 *   code units (not the locale: stable and the same on every host).
 * - Who counts: alive and suspect members. A suspect one counts so that a
 *   brief suspicion (one lost ack, refuted a moment later) does not move the
 *   coordinator back and forth; only a member declared dead (or that left)
 *   stops being one, so failover takes the failure detection time and the
 *   change rides the same "dead" update on every node.
 * - count K keeps the K heaviest (node-discovery's mastersRequired).
 * - quorum: a node names coordinators only while it sees a strict majority
 *   of the last stable cluster size (coordinator_quorum.ts tracks it) alive;
 *   otherwise it names none and says why (withheld). In a partition only
 *   the majority side has a coordinator. Here a suspect member does not
 *   count as seen: the minority side must give its coordinator up quickly,
 *   when it suspects the other side, not a suspicion timeout later when it
 *   declares it dead (measured in test/coordinator_sim.test.ts: 3 | 2 split
 *   at N=5, lan profile, the minority held on 8.4 s past the majority's new
 *   coordinator when suspects counted). Erring towards no coordinator is the
 *   side -coordinator-quorum asks for; it flaps only if most of the cluster
 *   is suspect at once.
 */

/** The member tag that carries a node's weight (a whole number, 0 to MAX_WEIGHT). */
export const WEIGHT_TAG = "gossipcheck.weight";
export const MAX_WEIGHT = 1_000_000;

/** What the choice reads of a member. */
export interface CoordinatorCandidate {
  name: string;
  status: MemberStatus;
  tags: Record<string, string>;
}

export interface CoordinatorOptions {
  /** How many coordinators (>= 1). */
  count: number;
  /** With -coordinator-quorum: the last stable cluster size (running members). */
  quorum?: { stableSize: number };
}

export interface CoordinatorSet {
  /** Heaviest first. Empty only when no member runs, or when withheld. */
  coordinators: string[];
  /** Members alive or suspect, this node included. */
  running: number;
  /** Members alive (what the quorum counts). */
  alive: number;
  /** Why there is no coordinator under -coordinator-quorum. */
  withheld?: string;
}

/** A member's weight from its tags: a whole number 0..MAX_WEIGHT, anything else 0. */
export function weightOf(tags: Record<string, string>): number {
  const v = tags[WEIGHT_TAG];
  if (v === undefined || !/^\d{1,7}$/.test(v)) return 0;
  const n = Number(v);
  return n <= MAX_WEIGHT ? n : 0;
}

/** True when a ranks before b: heavier, or as heavy with the smaller name. */
function before(a: { name: string; weight: number }, b: { name: string; weight: number }): boolean {
  return a.weight !== b.weight ? a.weight > b.weight : a.name < b.name;
}

/** The coordinators among members (O(N * K): one pass keeping the K best). */
export function coordinators(members: readonly CoordinatorCandidate[], o: CoordinatorOptions): CoordinatorSet {
  const k = Math.max(1, Math.floor(o.count));
  const best: { name: string; weight: number }[] = [];
  let running = 0;
  let alive = 0;
  for (const m of members) {
    if (m.status !== "alive" && m.status !== "suspect") continue;
    running++;
    if (m.status === "alive") alive++;
    const c = { name: m.name, weight: weightOf(m.tags) };
    if (best.length === k && !before(c, best[k - 1]!)) continue;
    let i = best.length;
    while (i > 0 && before(c, best[i - 1]!)) i--;
    best.splice(i, 0, c);
    if (best.length > k) best.pop();
  }
  const names = best.map((c) => c.name);
  if (o.quorum) {
    const size = o.quorum.stableSize;
    const needed = Math.floor(size / 2) + 1;
    if (alive < needed) {
      return { coordinators: [], running, alive, withheld: `this node sees ${alive} alive members, fewer than a majority (${needed}) of the last stable cluster size ${size} (-coordinator-quorum)` };
    }
  }
  return { coordinators: names, running, alive };
}
