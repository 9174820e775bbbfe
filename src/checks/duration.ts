/*
 * Durations as written in check files and on command lines: "500ms", "30s",
 * "2m", "1h", "30d", Go-style sequences such as "1m30s", or a plain number of
 * seconds (30, 1.5, or the string "30").
 */

/**
 * The accepted string forms. schema/checks.schema.json carries the same
 * pattern for "timeout"; test/checks_schema.test.ts fails if they drift.
 */
export const DURATION_PATTERN = "^(?:[0-9]+(?:\\.[0-9]+)?|(?:[0-9]+(?:\\.[0-9]+)?(?:ms|s|m|h|d))+)$";

const durationRe = new RegExp(DURATION_PATTERN);
const partRe = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/g;
const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Milliseconds for a duration, or null when the input is not one (the caller
 * names the field and says what was expected). Zero is returned as 0: whether
 * zero is acceptable is the caller's decision.
 */
export function parseDuration(input: string | number): number | null {
  if (typeof input === "number") {
    return Number.isFinite(input) && input >= 0 ? input * 1000 : null;
  }
  if (!durationRe.test(input)) return null;
  if (/^[0-9.]+$/.test(input)) return Number(input) * 1000;
  let ms = 0;
  for (const m of input.matchAll(partRe)) ms += Number(m[1]) * unitMs[m[2]!]!;
  return ms;
}
