/*
 * How numbers read on the page: ages, byte sizes, percentages, IDs.
 */

/** "12s ago", "3m ago", "2h ago", "4d ago" for a duration in ms. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Bytes in binary units, 3 significant digits: "512 B", "1.20 GiB", "37.5 MiB". */
export function bytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${UNITS[u]}`;
}

/** A percentage with one decimal, without the sign ("" when unknown). */
export function pct(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? "" : v.toFixed(1);
}

/** used/total as a percentage, or undefined. */
export function share(used: number | undefined, total: number | undefined): number | undefined {
  return used === undefined || !total ? undefined : (100 * used) / total;
}

/** A batch ID as listed: its first 8 hex digits. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** A wall-clock time: "14:03:27" today, "2025-03-01 14:03" before. */
export function when(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, "0");
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return new Date().toDateString() === d.toDateString() ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time.slice(0, 5)}`;
}
