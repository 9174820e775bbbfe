import type { NodeStats } from "../../control/api_types.js";
import type { StatsNodeOutcome, StatsReport } from "../stats_report.js";
import { formatDuration, renderTable } from "./table.js";

/*
 * `gcheck stats` output: one row per node sorted by name (1-minute load,
 * CPU busy share, memory and root filesystem used/total, host uptime, the
 * daemon's RSS, and a note: probes that failed, or why a node has no row of
 * figures), then a summary line; or one JSON document (--output json).
 */

const STATE_LABEL: Record<StatsNodeOutcome["state"], string> = { answered: "ANSWERED", unreachable: "UNREACHABLE", rejected: "REFUSED", silent: "NO ANSWER" };
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** The binary unit that fits n bytes, as [divisor, name]. */
function unitFor(bytes: number): [number, string] {
  let i = 0;
  while (i < UNITS.length - 1 && bytes >= 1024 ** (i + 1)) i++;
  return [1024 ** i, UNITS[i]!];
}

function scaled(bytes: number, divisor: number): string {
  const v = bytes / divisor;
  return divisor === 1 ? String(Math.round(v)) : v.toFixed(v < 100 ? 1 : 0);
}

/** 66015232 -> "63.0 MiB". */
export function formatBytes(bytes: number): string {
  const [d, unit] = unitFor(bytes);
  return `${scaled(bytes, d)} ${unit}`;
}

/** used/total in the total's unit, with the share: "0.7/23.5 GiB (3%)". */
export function formatUsage(used: number, total: number): string {
  const [d, unit] = unitFor(total);
  const share = total > 0 ? ` (${Math.round((used / total) * 100)}%)` : "";
  return `${scaled(used, d)}/${scaled(total, d)} ${unit}${share}`;
}

/** Uptime: formatDuration up to a day, then "3d04h". */
export function formatUptime(ms: number): string {
  if (ms < 86_400_000) return formatDuration(ms);
  const h = Math.floor(ms / 3_600_000);
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, "0")}h`;
}

function figures(s: NodeStats): string[] {
  return [
    s.cpu.loadAverage[0].toFixed(2),
    s.cpu.loadPercent === undefined ? "-" : `${Math.round(s.cpu.loadPercent)}%`,
    s.memory ? formatUsage(s.memory.usedBytes, s.memory.totalBytes) : "-",
    s.disk ? formatUsage(s.disk.usedBytes, s.disk.totalBytes) : "-",
    formatUptime(s.uptime.hostMs),
    formatBytes(s.process.rssBytes),
  ];
}

function row(n: StatsNodeOutcome): string[] {
  if (n.stats) return [n.node, ...figures(n.stats), n.stats.errors.join("; ")];
  const note = n.state === "silent" ? `no answer from ${n.address || n.node} before the end` : (n.reason ?? "");
  return [n.node, "-", "-", "-", "-", "-", "-", `${STATE_LABEL[n.state]}: ${note}`];
}

/** report: gcheck stats' report, or any list of outcomes (stats -watch's latest row of each node). */
export function statsTable(report: Pick<StatsReport, "outcomes">): string {
  return renderTable(["NODE", "LOAD 1M", "CPU", "MEMORY", "DISK /", "UPTIME", "RSS", "NOTE"], report.outcomes().map(row));
}

/** "3/3 nodes answered; 6 CPUs; memory 2.1/70.6 GiB (3%); 25ms" plus who is missing. */
export function statsSummary(report: StatsReport, elapsedMs: number): string {
  const c = report.counts();
  const answered = report.outcomes().flatMap((n) => (n.stats ? [n.stats] : []));
  const parts = [`${c.answered}/${c.expected} nodes answered`];
  if (answered.length) {
    parts.push(`${answered.reduce((sum, s) => sum + s.cpu.count, 0)} CPUs`);
    const mem = answered.flatMap((s) => (s.memory ? [s.memory] : []));
    if (mem.length)
      parts.push(
        `memory ${formatUsage(
          mem.reduce((sum, m) => sum + m.usedBytes, 0),
          mem.reduce((sum, m) => sum + m.totalBytes, 0),
        )}`,
      );
  }
  parts.push(formatDuration(elapsedMs));
  const missing = report
    .outcomes()
    .filter((n) => n.state !== "answered")
    .map((n) => `${n.node} (${n.state === "silent" ? "no answer" : n.state})`);
  if (missing.length) parts.push(`not answered: ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ` and ${missing.length - 10} more` : ""}`);
  if (report.timedOutWaiting) parts.push("timed out");
  return parts.join("; ") + "\n";
}

export function statsJson(report: StatsReport, elapsedMs: number): string {
  const doc = {
    id: report.id,
    origin: report.origin,
    elapsedMs,
    timedOut: report.timedOutWaiting,
    exitCode: report.exitCode(),
    summary: report.counts(),
    expected: report.expected,
    nodes: report.outcomes(),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
