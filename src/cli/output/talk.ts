import type { TalkNodeOutcome, TalkReport } from "../talk_report.js";
import { formatDuration, renderTable } from "./table.js";

/*
 * `gcheck event` and `gcheck query` output: a table (one row per node, or
 * per handler of a query's answer with its exit and the first lines of its
 * output) and a summary line; one JSON document (-output json, everything,
 * outputs whole); or the daemon's NDJSON events as they came, then a
 * summary line (-output ndjson).
 */

/** Lines of a query handler's output the table shows, and characters of each. */
const OUTPUT_LINES = 3;
const LINE_CHARS = 100;

const STATE_LABEL: Record<TalkNodeOutcome["state"], string> = {
  delivered: "DELIVERED",
  handled: "HANDLED",
  answered: "ANSWERED",
  unreachable: "UNREACHABLE",
  rejected: "REFUSED",
  silent: "NO ANSWER",
};

function exitText(r: { code: number | null; signal?: string }): string {
  return r.code !== null ? String(r.code) : (r.signal ?? "killed");
}

export function eventTable(report: TalkReport): string {
  const rows = report
    .outcomes()
    .map((n) => [
      n.node,
      STATE_LABEL[n.state],
      n.handlers === undefined ? "" : String(n.handlers),
      n.results ? n.results.map(exitText).join(",") || "-" : (n.reason ?? ""),
      n.deliveredMs === undefined ? "" : formatDuration(n.deliveredMs),
    ]);
  return renderTable(["NODE", "STATE", "HANDLERS", report.waitHandlers ? "EXIT" : "NOTE", "DELIVERED"], rows);
}

export function queryTable(report: TalkReport): string {
  const rows: string[][] = [];
  for (const n of report.outcomes()) {
    if (n.state !== "answered") {
      rows.push([n.node, STATE_LABEL[n.state], n.reason ?? ""]);
      continue;
    }
    if (!n.results?.length) rows.push([n.node, "-", "(no handler for this query)"]);
    for (const r of n.results ?? []) {
      const text = "outputText" in r && r.outputText !== undefined ? r.outputText : "output" in r ? `(${Buffer.from(r.output, "base64").length} bytes, not UTF-8)` : "";
      const lines = text.replace(/\n$/, "").split("\n");
      const shown = lines.slice(0, OUTPUT_LINES).map((l) => (l.length > LINE_CHARS ? l.slice(0, LINE_CHARS - 1) + "…" : l));
      if (lines.length > OUTPUT_LINES) shown.push(`(${lines.length - OUTPUT_LINES} more lines)`);
      if ("truncated" in r && r.truncated) shown.push("(output truncated)");
      rows.push([n.node, exitText(r), shown.join(" | ")]);
    }
  }
  return renderTable(["NODE", "EXIT", "OUTPUT"], rows);
}

export function talkSummary(report: TalkReport, elapsedMs: number): string {
  const c = report.counts();
  const what = report.kind === "event" ? `event ${report.name}` : `query ${report.name}`;
  const reached = report.kind === "query" ? `${c.answered} answered` : report.waitHandlers ? `${c.handled} handled` : `${c.delivered} delivered`;
  const parts = [`${reached} of ${c.expected} nodes`];
  if (c.failedHandlers) parts.push(`${c.failedHandlers} handlers failed`);
  if (c.rejected) parts.push(`${c.rejected} refused`);
  if (c.unreachable) parts.push(`${c.unreachable} unreachable`);
  const silent = c.silent + (report.kind === "event" && report.waitHandlers ? c.delivered : 0);
  if (silent) parts.push(`${silent} no answer${report.timedOut || !report.done ? " (timed out)" : ""}`);
  return `${what} (${report.id}): ${parts.join(", ")} in ${formatDuration(elapsedMs)}\n`;
}

export function talkJson(report: TalkReport, elapsedMs: number): string {
  const doc = {
    kind: report.kind,
    id: report.id,
    name: report.name,
    origin: report.origin,
    createdMs: report.createdMs,
    ...(report.kind === "event" && { bytes: report.bytes, waitHandlers: report.waitHandlers }),
    elapsedMs: Math.round(elapsedMs),
    exitCode: report.exitCode(),
    timedOut: report.timedOutWaiting,
    summary: report.counts(),
    nodes: report.outcomes(),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

/** The summary line that ends -output ndjson (after the daemon's own lines). */
export function talkNdjsonSummary(report: TalkReport, elapsedMs: number): string {
  return JSON.stringify({ type: "summary", id: report.id, elapsedMs: Math.round(elapsedMs), exitCode: report.exitCode(), timedOut: report.timedOutWaiting, summary: report.counts() }) + "\n";
}
