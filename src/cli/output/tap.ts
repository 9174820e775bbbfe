import type { CheckResult } from "../../checks/types.js";
import type { BatchReport, NodeOutcome } from "../report.js";

/*
 * `-output tap` (gcheck check, gcheck results): TAP version 14
 * (testanything.org/tap-version-14-specification), for the many CI tools
 * and harnesses that read TAP. The plan comes first (the expected nodes
 * are known when the document is written), then one test point per node
 * and check, in node order, each with a YAML diagnostics block (message,
 * node, address, status, type, durationMs, the action's outcome):
 *
 *   pass, fixed        ok
 *   fail, error        not ok (a status this gcheck does not know too)
 *   warn               not ok ... # TODO warn: a TODO point is not a
 *                      failure to a TAP consumer, as a warning is not to
 *                      gcheck's exit code; with -fail-on warn it is a plain
 *                      not ok. (Chosen over "ok # TODO", which TAP reads as
 *                      a todo that unexpectedly passed.)
 *   no answer          not ok "NODE answered", with the reason (silent,
 *                      unreachable, rejected)
 *   did not run        ok ... # SKIP (gcheck results: no record of it)
 */

/** A description may not hold "#" (a directive would start) or a line break; "\" escapes. */
function describe(s: string): string {
  return s
    .replace(/\s*\r?\n\s*/g, " ")
    .replace(/\\/g, "\\\\")
    .replace(/#/g, "\\#");
}

/** A YAML block, two spaces in from the test point; values as JSON, which YAML 1.2 reads. */
function yamlBlock(fields: Record<string, unknown>): string[] {
  const lines = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
  return ["  ---", ...lines, "  ..."];
}

function actionFields(r: CheckResult): Record<string, unknown> | undefined {
  const a = r.action;
  if (!a) return undefined;
  if (a.skipped) return { skipped: a.skipped };
  return { command: a.command, exitCode: a.exitCode, signal: a.signal, timedOut: a.timedOut, durationMs: Math.round(a.durationMs), output: a.output };
}

function checkPoint(i: number, n: NodeOutcome, r: CheckResult, failOn: string): string[] {
  const ok = r.status === "pass" || r.status === "fixed" || (r.status === "warn" && failOn !== "warn");
  const status = r.status === "pass" || r.status === "fixed" ? "ok" : "not ok";
  const todo = r.status === "warn" && ok ? " # TODO warn" : "";
  const diag = yamlBlock({
    message: r.message,
    node: n.node,
    address: n.address,
    status: r.status,
    type: r.type,
    durationMs: Math.round(r.durationMs),
    description: r.description,
    wave: n.wave,
    action: actionFields(r),
  });
  return [`${status} ${i} - ${describe(`${n.node}: ${r.name}`)}${todo}`, ...diag];
}

function nodePoint(i: number, n: NodeOutcome): string[] {
  if (n.state === "notRun") return [`ok ${i} - ${describe(n.node)} # SKIP ${n.skipped ? (n.reason ?? "skipped by the rollout").replace(/[\\#\n]/g, " ") : "did not run this batch"}`];
  const reason = n.state === "silent" ? "no answer before the end" : `${n.state}: ${n.reason ?? ""}`;
  return [`not ok ${i} - ${describe(`${n.node} answered`)}`, ...yamlBlock({ message: reason, node: n.node, address: n.address, status: n.state })];
}

export function batchTap(report: BatchReport): string {
  const points: string[][] = [];
  for (const n of report.outcomes()) {
    if (n.state === "answered") for (const r of n.results) points.push(checkPoint(points.length + 1, n, r, report.failOn));
    else points.push(nodePoint(points.length + 1, n));
  }
  const note = report.interrupted ? ["# interrupted: nodes not heard from are not ok"] : report.timedOutWaiting ? ["# timed out waiting for answers"] : [];
  return ["TAP version 14", `1..${points.length}`, ...points.flat(), ...note, ""].join("\n");
}
