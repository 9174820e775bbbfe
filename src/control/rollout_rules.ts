import type { Result } from "../base/result.js";

/*
 * The rules of a rollout's sizes and order, shared by gcheck (flags) and the
 * daemon (request bodies), so both refuse the same things with the same
 * words. A size is a count ("10", 10) or a percentage of the targeted
 * running nodes ("10%").
 */

export interface RolloutSize {
  n: number;
  percent: boolean;
}

export type RolloutOrder = { by: "name" } | { by: "random" } | { by: "tag"; key: string };

/** A size from a flag or body field; `what` names it in the error. */
export function parseRolloutSize(v: unknown, what: string, min: number): Result<RolloutSize> {
  const bad = (): Result<RolloutSize> => ({ ok: false, error: `${what} must be a whole number of nodes (at least ${min}) or a percentage like 10%, got ${JSON.stringify(v)}` });
  if (typeof v === "number") return Number.isInteger(v) && v >= min && v <= 1_000_000 ? { ok: true, value: { n: v, percent: false } } : bad();
  if (typeof v !== "string") return bad();
  const m = /^(\d{1,7})(%?)$/.exec(v.trim());
  if (!m) return bad();
  const n = Number(m[1]);
  const percent = m[2] === "%";
  if (percent ? n < 1 || n > 100 : n < min) return bad();
  return { ok: true, value: { n, percent } };
}

export function parseRolloutOrder(v: unknown, what: string): Result<RolloutOrder> {
  if (v === "name") return { ok: true, value: { by: "name" } };
  if (v === "random") return { ok: true, value: { by: "random" } };
  if (typeof v === "string" && v.startsWith("tag:") && v.length > 4 && v.length <= 68) return { ok: true, value: { by: "tag", key: v.slice(4) } };
  return { ok: false, error: `${what} must be name, random or tag:KEY (e.g. tag:zone), got ${JSON.stringify(v)}` };
}

/** A size resolved against the number of targeted nodes: a percentage rounds up for a batch (at least 1), down for failures tolerated. */
export function resolveSize(size: RolloutSize, total: number, round: "up" | "down"): number {
  if (!size.percent) return size.n;
  const exact = (total * size.n) / 100;
  return round === "up" ? Math.max(1, Math.ceil(exact)) : Math.floor(exact);
}
