import type { CheckSpec } from "../checks/types.js";

/*
 * What a schedule must be: the one set of rules for gcheck (schedule set,
 * show, remove, checked before anything is sent) and the daemon (the
 * control API, and a SCHEDULE envelope from the network). A name travels
 * in URL paths (/v1/schedules/NAME), metric labels and log lines, so it is
 * kept to characters that need no quoting anywhere.
 */

/** What gcheck schedule does: set (a new version), list, show NAME, remove NAME. */
export const SCHEDULE_OPS = ["set", "list", "show", "remove"] as const;

/** 1 to 128 of A-Z a-z 0-9 . _ : - */
export const SCHEDULE_NAME = /^[A-Za-z0-9._:-]{1,128}$/;

/** The rule in words, for error messages. */
export const SCHEDULE_NAME_RULE = "1 to 128 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'";

/** Why `name` cannot name a schedule, starting with `where` (a flag, a field), or null when it can. */
export function scheduleNameProblem(name: unknown, where: string): string | null {
  if (typeof name === "string" && SCHEDULE_NAME.test(name)) return null;
  const shown = typeof name === "string" ? JSON.stringify(name.slice(0, 60)) + (name.length > 60 ? "..." : "") : `a ${name === null ? "null" : typeof name}`;
  return `${where}: ${shown} is not a schedule name: use ${SCHEDULE_NAME_RULE}`;
}

/**
 * Why these checks cannot make a schedule, starting with `where`, or null:
 * every check of a schedule runs on its own interval, so one without
 * "interval" would never run.
 */
export function missingIntervalProblem(checks: readonly CheckSpec[], where: string): string | null {
  const without = checks.filter((c) => (c.intervalMs ?? 0) <= 0).map((c) => JSON.stringify(c.name));
  if (without.length === 0) return null;
  const named = without.slice(0, 5).join(", ") + (without.length > 5 ? ` and ${without.length - 5} more` : "");
  return `${where}: check${without.length > 1 ? "s" : ""} ${named} ha${without.length > 1 ? "ve" : "s"} no "interval": every check of a schedule needs one, e.g. "interval": "30s"`;
}
