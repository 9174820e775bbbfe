import type { CheckStatus } from "../../checks/types.js";
import type { CheckState, NodeHistoryAnswer, Quorum, QuorumVerdict } from "../../control/watch_types.js";
import { Exit, type FailOn } from "../errors.js";
import type { HistoryReport } from "../history_report.js";
import { failsRun } from "../report.js";
import { firstTen, formatDuration, renderTable, statusCounts } from "./table.js";

/*
 * `gcheck status`: every node's scheduled checks, aggregated by check
 * ("web/nginx_running: 38 pass, 2 fail: web-07, web-12"), then the quorum
 * checks' cluster-wide verdicts, then a summary line; or one JSON document
 * with the per-node answers and the aggregate.
 *
 * Exit code: 1 when a scheduled check fails the run (failsRun: fail or
 * error, or warn with -fail-on warn) on any node, or a quorum verdict is
 * failing; else 3 when an expected node did not answer; else 0. A quorum
 * check counts by its verdict only, not by the nodes that see it failing:
 * its quorum says how many must agree before the cluster calls it failing,
 * and `status` says what the cluster says.
 */

type StatusAnswer = Extract<NodeHistoryAnswer, { what: "status" }>;

/** One scheduled check across the nodes that run it. */
export interface CheckAggregate {
  schedule: string;
  check: string;
  quorum?: Quorum;
  /** Nodes by status. */
  counts: Partial<Record<CheckStatus, number>>;
  /** The nodes where it does not pass (warn, fail, error, or a status this gcheck does not know): worst first, then by name. */
  notPassing: { node: string; status: CheckStatus; message: string }[];
}

/** A quorum check's verdict as the cluster states it: the firer's view when the firer answered, else the latest one seen. */
export interface VerdictView extends QuorumVerdict {
  /** The node whose view this is. */
  seenBy: string;
  /** Whether the answering nodes disagree about failing (views in flux while votes spread). */
  disputed: boolean;
}

export interface StatusAggregate {
  checks: CheckAggregate[];
  verdicts: VerdictView[];
}

const RANK: Record<string, number> = { error: 0, fail: 1, warn: 2 };
/** pass and fixed (an action repaired it and it passes now) are fine; anything else is named. */
const fine = (status: string) => status === "pass" || status === "fixed";
const label = (x: { schedule: string; check: string }) => (x.schedule ? `${x.schedule}/${x.check}` : x.check);

/** One check's state on one node, as aggregateChecks counts it. */
export interface CheckRow {
  node: string;
  schedule: string;
  check: string;
  status: CheckStatus;
  message: string;
  quorum?: Quorum;
}

/**
 * Rows folded by (schedule, check): the counts by status and the nodes where
 * it does not pass; checks that do not pass everywhere first, then by name.
 * Shared by gcheck status and check's -group-by check.
 */
export function aggregateChecks(rows: Iterable<CheckRow>): CheckAggregate[] {
  const checks = new Map<string, CheckAggregate>();
  for (const s of rows) {
    const key = `${s.schedule}\u0000${s.check}`;
    let agg = checks.get(key);
    if (!agg) checks.set(key, (agg = { schedule: s.schedule, check: s.check, ...(s.quorum !== undefined && { quorum: s.quorum }), counts: {}, notPassing: [] }));
    agg.counts[s.status] = (agg.counts[s.status] ?? 0) + 1;
    if (!fine(s.status)) agg.notPassing.push({ node: s.node, status: s.status, message: s.message });
  }
  for (const agg of checks.values()) agg.notPassing.sort((a, b) => (RANK[a.status] ?? -1) - (RANK[b.status] ?? -1) || a.node.localeCompare(b.node));
  const failing = (a: CheckAggregate) => (a.notPassing.length > 0 ? 0 : 1);
  return [...checks.values()].sort((a, b) => failing(a) - failing(b) || label(a).localeCompare(label(b)));
}

export function aggregateStatus(answers: { node: string; answer: StatusAnswer }[]): StatusAggregate {
  const views = new Map<string, { node: string; verdict: QuorumVerdict }[]>();
  const checks = aggregateChecks(answers.flatMap(({ node, answer }) => answer.checks.map((s) => ({ ...s, node }))));
  for (const { node, answer } of answers) {
    for (const v of answer.verdicts) {
      const key = `${v.schedule}\u0000${v.check}`;
      views.set(key, [...(views.get(key) ?? []), { node, verdict: v }]);
    }
  }
  const verdicts = [...views.values()].map((seen) => {
    const chosen = seen.find((s) => s.node === s.verdict.firer) ?? [...seen].sort((a, b) => b.verdict.sinceMs - a.verdict.sinceMs)[0]!;
    return { ...chosen.verdict, seenBy: chosen.node, disputed: seen.some((s) => s.verdict.failing !== chosen.verdict.failing) };
  });
  return {
    checks,
    verdicts: verdicts.sort((a, b) => Number(b.failing) - Number(a.failing) || label(a).localeCompare(label(b))),
  };
}

/** "web/nginx_running: 38 pass, 2 fail: web-07, web-12"; each name gets its status when several statuses are named. */
export function statusLine(a: CheckAggregate): string {
  const kinds = new Set(a.notPassing.map((n) => n.status));
  const names = a.notPassing.map((n) => (kinds.size > 1 ? `${n.node} (${n.status})` : n.node));
  return `${label(a)}: ${statusCounts(a.counts)}${names.length ? `: ${firstTen(names)}` : ""}${a.quorum !== undefined ? ` [quorum ${a.quorum}]` : ""}`;
}

function verdictRow(v: VerdictView): string[] {
  const against = v.votes.filter((x) => failsRun(x.status, "fail")).map((x) => x.node);
  const votes = `${against.length} of ${v.votes.length} failing${against.length ? `: ${firstTen(against)}` : ""}`;
  return [label(v), `${v.needed} of ${v.votes.length} (${v.quorum})`, v.failing ? "FAILING" : "ok", `${votes}${v.disputed ? " (nodes disagree: votes still spreading)" : ""}`];
}

export function statusExitCode(report: HistoryReport, agg: StatusAggregate, failOn: FailOn): number {
  const states: CheckState[] = report.answers("status").flatMap((a) => a.answer.checks);
  if (states.some((s) => s.quorum === undefined && failsRun(s.status, failOn)) || agg.verdicts.some((v) => v.failing)) return Exit.ChecksFailed;
  const c = report.counts();
  return c.unreachable + c.rejected + c.silent > 0 ? Exit.NodesMissing : Exit.Ok;
}

/** The lines, the verdicts table, notes, and "40/40 nodes answered; 3 scheduled checks, 1 not passing everywhere; 1 quorum verdict failing; 35ms". */
export function statusText(report: HistoryReport, agg: StatusAggregate, elapsedMs: number): string {
  const out: string[] = [];
  if (agg.checks.length === 0) out.push("no scheduled checks on the nodes that answered (gcheck schedule set, or gossipcheckd -checks-dir)\n");
  else out.push(agg.checks.map(statusLine).join("\n") + "\n");
  if (agg.verdicts.length) out.push("\n" + renderTable(["QUORUM CHECK", "NEEDED", "VERDICT", "VOTES"], agg.verdicts.map(verdictRow)));
  const notes = report.answers("status").flatMap(({ node, answer }) => (answer.historyError ? [`note: ${node}: history: ${answer.historyError}\n`] : []));
  if (notes.length) out.push("\n" + notes.join(""));
  const c = report.counts();
  const notPassing = agg.checks.filter((a) => a.notPassing.length > 0).length;
  const parts = [`${c.answered}/${c.expected} nodes answered`, `${agg.checks.length} scheduled check${agg.checks.length === 1 ? "" : "s"}, ${notPassing} not passing everywhere`];
  if (agg.verdicts.length) parts.push(`${agg.verdicts.filter((v) => v.failing).length} of ${agg.verdicts.length} quorum verdicts failing`);
  parts.push(formatDuration(elapsedMs));
  const missing = report.missing();
  if (missing.length) parts.push(`not answered: ${firstTen(missing)}`);
  if (report.timedOutWaiting) parts.push("timed out");
  out.push((out.length ? "\n" : "") + parts.join("; ") + "\n");
  return out.join("");
}

export function statusJson(report: HistoryReport, agg: StatusAggregate, elapsedMs: number, failOn: FailOn): string {
  const doc = {
    id: report.id,
    origin: report.origin,
    elapsedMs,
    timedOut: report.timedOutWaiting,
    exitCode: statusExitCode(report, agg, failOn),
    failOn,
    summary: report.counts(),
    checks: agg.checks,
    verdicts: agg.verdicts,
    nodes: report.outcomes(),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
