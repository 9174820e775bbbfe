import type { AuditRecord, BatchRecord, TransitionRecord } from "../../control/watch_types.js";
import type { HistoryReport } from "../history_report.js";
import { firstTen, formatDuration, formatTime, renderTable, statusCounts } from "./table.js";

/*
 * `gcheck history`: the batches the nodes ran and the transitions of their
 * scheduled checks, each merged across nodes and newest first, as two
 * tables and a summary line; or one JSON document. Each node answers with
 * at most -limit entries of each kind, and the merge keeps the newest
 * -limit, so the output never grows with the cluster.
 */

export interface MergedHistory {
  batches: (BatchRecord & { node: string })[];
  transitions: TransitionRecord[];
  /** With -audit. */
  audit: (AuditRecord & { node: string })[];
  /** Some node had more than it sent, or the merge dropped older entries. */
  truncated: boolean;
}

export function mergeHistory(report: HistoryReport, limit: number): MergedHistory {
  const answers = report.answers("history");
  const batches = answers.flatMap(({ node, answer }) => answer.batches.map((b) => ({ ...b, node }))).sort((a, b) => b.finishedMs - a.finishedMs || a.node.localeCompare(b.node));
  const transitions = answers.flatMap(({ answer }) => answer.transitions).sort((a, b) => b.atMs - a.atMs || a.node.localeCompare(b.node));
  const audit = answers.flatMap(({ node, answer }) => (answer.audit ?? []).map((a) => ({ ...a, node }))).sort((a, b) => b.atMs - a.atMs || a.node.localeCompare(b.node));
  const truncated = answers.some(({ answer }) => answer.truncated) || batches.length > limit || transitions.length > limit || audit.length > limit;
  return { batches: batches.slice(0, limit), transitions: transitions.slice(0, limit), audit: audit.slice(0, limit), truncated };
}

/** A batch's source: the schedule that ran it, or who submitted it where. */
function source(b: BatchRecord): string {
  if (b.schedule) return `schedule ${b.schedule}`;
  return [b.submitter, `via ${b.origin}`, b.signer && `signed ${b.signer}`, b.dryRun && "dry run"].filter(Boolean).join(", ");
}

export function historyText(report: HistoryReport, merged: MergedHistory, elapsedMs: number): string {
  const out: string[] = [];
  if (merged.batches.length) {
    out.push(
      "Batches, newest first:\n" +
        renderTable(
          ["TIME", "NODE", "BATCH", "CHECKS", "SOURCE"],
          merged.batches.map((b) => [formatTime(b.finishedMs), b.node, b.batchId, statusCounts(b.counts), source(b)]),
        ),
    );
  }
  if (merged.transitions.length) {
    out.push(
      "Transitions, newest first:\n" +
        renderTable(
          ["TIME", "NODE", "CHECK", "CHANGE", "MESSAGE"],
          merged.transitions.map((t) => [formatTime(t.atMs), t.node, t.schedule ? `${t.schedule}/${t.check}` : t.check, `${t.from} -> ${t.to}`, t.message]),
        ),
    );
  }
  if (merged.audit.length) {
    out.push(
      "Audit log, newest first:\n" +
        renderTable(
          ["TIME", "NODE", "KIND", "WHAT"],
          merged.audit.map((a) => [formatTime(a.atMs), a.node, a.kind, a.summary]),
        ),
    );
  }
  if (out.length === 0) out.push("nothing recorded that matches\n");
  const c = report.counts();
  const entries = merged.audit.length ? `${merged.audit.length} audit entries` : `${merged.batches.length} batches, ${merged.transitions.length} transitions`;
  const parts = [`${c.answered}/${c.expected} nodes answered`, entries];
  if (merged.truncated) parts.push("more are recorded: narrow with -since, -check or -node, or raise -limit");
  parts.push(formatDuration(elapsedMs));
  const missing = report.missing();
  if (missing.length) parts.push(`not answered: ${firstTen(missing)}`);
  if (report.timedOutWaiting) parts.push("timed out");
  return out.join("\n") + "\n" + parts.join("; ") + "\n";
}

export function historyJson(report: HistoryReport, merged: MergedHistory, elapsedMs: number, exitCode: number): string {
  const doc = {
    id: report.id,
    origin: report.origin,
    elapsedMs,
    timedOut: report.timedOutWaiting,
    exitCode,
    summary: report.counts(),
    truncated: merged.truncated,
    batches: merged.batches,
    transitions: merged.transitions,
    audit: merged.audit,
    // The answers are merged above; each node's own entry says whether it answered.
    nodes: report.outcomes().map(({ answer: _answer, ...n }) => n),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
