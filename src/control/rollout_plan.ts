import { createHash } from "node:crypto";
import { type RolloutOrder, type RolloutSize, resolveSize } from "./rollout_rules.js";

/*
 * A rollout's plan, computed once at its start from the targeted running
 * members (pure: no clock, no network). Canary nodes first, then waves of
 * batchSize, in the stated order; or, for -count, the K nodes first in the
 * hash order and the rest as replacements. Nodes that join later are not in
 * the plan: a rollout covers the nodes it was planned for.
 */

export interface PlanMember {
  name: string;
  tags: Record<string, string>;
}

export interface WaveSpec {
  canary: number;
  /** null: every node after the canaries in one wave. */
  batchSize: RolloutSize | null;
  order: RolloutOrder;
}

/** Names by sha256(seed + name): a deterministic shuffle anyone can recompute from the rollout ID. */
export function hashOrder(names: readonly string[], seed: string): string[] {
  const key = (n: string) => createHash("sha256").update(seed).update(n).digest("hex");
  return names
    .map((n) => ({ n, k: key(n) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.n);
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The members in rollout order; seed is the rollout ID (order random). Nodes without the tag KEY come last, by name. */
export function orderMembers(members: readonly PlanMember[], order: RolloutOrder, seed: string): string[] {
  const names = members.map((m) => m.name).sort(byName);
  if (order.by === "name") return names;
  if (order.by === "random") return hashOrder(names, seed);
  const key = order.key;
  const value = new Map(members.map((m) => [m.name, m.tags[key]]));
  return names.sort((a, b) => {
    const va = value.get(a);
    const vb = value.get(b);
    if (va === undefined || vb === undefined) return va === vb ? byName(a, b) : va === undefined ? 1 : -1;
    return byName(va, vb) || byName(a, b);
  });
}

/** The waves: the first `canary` nodes, then batches of batchSize (resolved against every planned node). Never an empty wave. */
export function planWaves(members: readonly PlanMember[], spec: WaveSpec, seed: string): string[][] {
  const ordered = orderMembers(members, spec.order, seed);
  const waves: string[][] = [];
  const canary = Math.min(spec.canary, ordered.length);
  if (canary > 0) waves.push(ordered.slice(0, canary));
  const rest = ordered.slice(canary);
  const size = spec.batchSize ? resolveSize(spec.batchSize, ordered.length, "up") : rest.length;
  for (let i = 0; i < rest.length; i += size) waves.push(rest.slice(i, i + size));
  return waves;
}

/** -count: every targeted running member in choice order; the first `count` run it, the others replace them in turn. */
export function countOrder(members: readonly PlanMember[], seed: string): string[] {
  return hashOrder(
    members.map((m) => m.name),
    seed,
  );
}
