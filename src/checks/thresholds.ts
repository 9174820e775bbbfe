/*
 * What the threshold checks (disk_usage, memory, load) share: the "at least
 * one threshold" rule, and numbers written for people.
 */

/** The rule that a threshold check names at least one of `fields`. */
export function atLeastOne(type: string, fields: readonly string[], p: Record<string, unknown>, field: (f: string) => string): string[] {
  if (fields.some((f) => p[f] !== undefined)) return [];
  return [`${field(fields[0]!).replace(/: field .*$/, "")}: ${type} needs at least one threshold: ${fields.map((f) => JSON.stringify(f)).join(", ")}`];
}

/** "12.3 GiB (13207024435 bytes)": readable, and exact for comparing with the threshold. */
export function bytes(n: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let unit = "";
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return unit === "" ? `${n} bytes` : `${v.toFixed(1)} ${unit} (${n} bytes)`;
}

/** A percentage to one decimal place, without a trailing ".0". */
export function percent(x: number): string {
  return `${Number(x.toFixed(1))}%`;
}
