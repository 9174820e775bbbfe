import type { CheckResult } from "../../checks/types.js";
import type { MemberView } from "../../control/api_types.js";
import type { BatchReport, CheckCounts, NodeOutcome } from "../report.js";

/*
 * Plain-text tables for people: aligned columns, one row per line (line
 * breaks inside a cell are flattened), the longest column (the message) last
 * so a narrow terminal wraps it rather than the alignment.
 */

export function renderTable(header: string[], rows: string[][]): string {
  const cells = [header, ...rows.map((r) => r.map(flatten))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const last = header.length - 1;
  return (
    cells
      .map((r) =>
        r
          .map((c, i) => (i === last ? c : c.padEnd(widths[i]!)))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

function flatten(s: string): string {
  return s.replace(/\s*\r?\n\s*/g, " | ");
}

/** 0.4ms -> "<1ms", 12.3 -> "12ms", 1530 -> "1.53s", 95000 -> "1m35s". */
export function formatDuration(ms: number): string {
  if (ms < 1) return "<1ms";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const s = Math.round(ms / 1000);
  return s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** How long ago, coarse: "12s ago", "5m ago", "3h ago", "2d ago". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

// Rows a person must act on first, then warnings (look soon), then what an action fixed.
const SEVERITY: Record<string, number> = { error: 0, fail: 0, warn: 1, fixed: 2, pass: 3 };

/** local-check: one row per check, in the file's order. */
export function resultsTable(results: CheckResult[]): string {
  return renderTable(
    ["CHECK", "STATUS", "DURATION", "MESSAGE"],
    results.map((r) => [r.name, r.status.toUpperCase(), formatDuration(r.durationMs), r.message]),
  );
}

function nodeRows(n: NodeOutcome): { severity: number; row: string[] }[] {
  switch (n.state) {
    case "answered":
      return n.results.map((r) => ({ severity: SEVERITY[r.status] ?? 0, row: [n.node, r.name, r.status.toUpperCase(), formatDuration(r.durationMs), r.message] }));
    case "silent":
      return [{ severity: 0, row: [n.node, "-", "NO ANSWER", "-", `no answer from ${n.address || n.node} before the end`] }];
    default:
      return [{ severity: 0, row: [n.node, "-", n.state.toUpperCase(), "-", n.reason ?? ""] }];
  }
}

/** The rows batchTable would print (failuresOnly: without the checks that passed or were fixed). */
export function batchRowCount(report: BatchReport, failuresOnly = false): number {
  return batchRows(report, failuresOnly).length;
}

function batchRows(report: BatchReport, failuresOnly: boolean): { severity: number; row: string[] }[] {
  // Nodes that did not run a past batch are listed apart (batchSummaryLine), not as rows to act on.
  return report
    .outcomes()
    .filter((n) => n.state !== "notRun")
    .flatMap(nodeRows)
    .filter((r) => !failuresOnly || r.severity < SEVERITY.fixed!);
}

/**
 * check: per node, per check; failing rows (and nodes that did not answer)
 * first. failuresOnly (-failures-only): only the rows that did not pass
 * (warnings included; a check its action fixed passed).
 */
export function batchTable(report: BatchReport, failuresOnly = false): string {
  const rows = batchRows(report, failuresOnly);
  // Array.prototype.sort is stable: within one severity, node then file order stay.
  rows.sort((a, b) => a.severity - b.severity);
  return renderTable(
    ["NODE", "CHECK", "STATUS", "DURATION", "MESSAGE"],
    rows.map((r) => r.row),
  );
}

/**
 * "passed, fixed, warned, failed, errored" counts; "N warned" only when a
 * check warned, so the line stays as it was for the batches whose check
 * types never warn (and for the scripts that match it).
 */
export function checkCounts(c: CheckCounts, fixed = true): string {
  const parts = [`${c.pass} passed`, fixed && `${c.fixed} fixed`, c.warn > 0 && `${c.warn} warned`, `${c.fail} failed`, `${c.error} errored`];
  return parts.filter(Boolean).join(", ");
}

/** "3/3 nodes answered; checks: 5 passed, 1 fixed, 1 failed, 0 errored; 0.41s" plus who is missing. */
export function batchSummaryLine(report: BatchReport, elapsedMs: number): string {
  const s = report.summary();
  const parts = [`${s.answered}/${s.expected - s.notRun} nodes answered`, `checks: ${checkCounts(s.checks)}`, formatDuration(elapsedMs)];
  const outcomes = report.outcomes();
  const missing = outcomes.filter((n) => n.state !== "answered" && n.state !== "notRun").map((n) => `${n.node} (${n.state === "silent" ? "no answer" : n.state})`);
  if (missing.length) parts.push(`not answered: ${firstTen(missing)}`);
  const notRun = outcomes.filter((n) => n.state === "notRun" && !n.skipped).map((n) => n.node);
  if (notRun.length) parts.push(`did not run this batch: ${firstTen(notRun)}`);
  // A rollout's nodes never reached, by reason ("skipped: rollout stopped after wave 2 (3 failures > max 0): web-05, web-06").
  const skipped = new Map<string, string[]>();
  for (const n of outcomes) if (n.state === "notRun" && n.skipped) skipped.set(n.reason ?? "", [...(skipped.get(n.reason ?? "") ?? []), n.node]);
  for (const [reason, nodes] of skipped) parts.push(`${reason}: ${firstTen(nodes)}`);
  if (report.interrupted) parts.push("interrupted");
  else if (report.timedOutWaiting) parts.push("timed out");
  return parts.join("; ") + "\n";
}

/** "a, b, c" up to ten names, then "and N more". */
export function firstTen(names: string[]): string {
  return `${names.slice(0, 10).join(", ")}${names.length > 10 ? ` and ${names.length - 10} more` : ""}`;
}

export function membersTable(members: MemberView[]): string {
  // A ROLE column when the daemon marks coordinators (issue 17); an older daemon marks none.
  const roles = members.some((m) => m.coordinator);
  return renderTable(
    ["NAME", "ADDRESS", "STATUS", "INCARNATION", "TAGS", "SINCE", ...(roles ? ["ROLE"] : [])],
    members.map((m) => [
      m.name,
      m.address,
      m.status,
      String(m.incarnation),
      Object.entries(m.tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(",") || "-",
      formatAge(m.statusAgeMs),
      ...(roles ? [m.coordinator ? "coordinator" : "-"] : []),
    ]),
  );
}

/** A moment as gcheck info shows one, in UTC to the second: "2025-06-01T14:03:09Z" (the same on every operator's screen). */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString().replace(/\.\d+Z$/, "Z") : "-";
}

const STATUS_ORDER = ["pass", "fixed", "warn", "fail", "error"] as const;

/** Counts by status, the non-zero ones, as "38 pass, 2 fail" (a status this gcheck does not know last, by its name). */
export function statusCounts(counts: Partial<Record<string, number>>): string {
  const known = STATUS_ORDER.filter((s) => (counts[s] ?? 0) > 0).map((s) => `${counts[s]} ${s}`);
  const other = Object.entries(counts)
    .filter(([s, n]) => !(STATUS_ORDER as readonly string[]).includes(s) && (n ?? 0) > 0)
    .map(([s, n]) => `${n} ${s}`);
  return [...known, ...other].join(", ") || "none";
}
