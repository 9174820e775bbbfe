import type { BatchReport } from "../report.js";
import { firstTen } from "./table.js";

/*
 * `-output nagios` (gcheck check, gcheck results): a Nagios plugin's
 * output, for Nagios, Icinga, Naemon and Sensu to run gcheck as a check
 * command. One status line, then the failing and missing nodes one per
 * line (the plugin's "long text"):
 *
 *   GOSSIPCHECK CRITICAL - 2 of 40 nodes failing: web-07, web-12 | expected=40;;;0 answered=40;;;0;40 failing=2;;0;0;40 warning=0;0;;0;40 missing=0;;;0;40
 *   web-07: nginx_running fail: nginx is not running
 *
 * Perfdata follows the plugin guidelines (label=value;warn;crit;min;max):
 * failing has the critical threshold 0 and warning the warning threshold
 * 0, so a graph's thresholds match the state.
 *
 * The state, and gcheck's exit code with this output (the one exception to
 * gcheck's exit codes, because a monitoring system reads the code):
 *   2 CRITICAL  a check failed or errored on some node (or warned, with
 *               -fail-on warn), or a node rejected the batch
 *   3 UNKNOWN   else some expected node never answered (or nothing did,
 *               after SIGINT), or gcheck could not run: a usage, file or
 *               connection error (nagiosError)
 *   1 WARNING   else some check warned
 *   0 OK        else
 * The order is gcheck's own (a failure outranks a missing node, which
 * outranks a warning), so the two codes always agree on what matters most.
 */

export const NAGIOS = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
const STATE_NAME = ["OK", "WARNING", "CRITICAL", "UNKNOWN"] as const;

/** Text in the status line or long text: no "|" (it starts perfdata) and no line break. */
function clean(s: string): string {
  return s.replace(/\s*\r?\n\s*/g, " ").replace(/\|/g, "/");
}

export function nagiosState(report: BatchReport): number {
  const s = report.summary();
  const failing = report.outcomes().some((n) => n.results.some((r) => !(r.status === "pass" || r.status === "fixed" || (r.status === "warn" && report.failOn === "fail"))));
  if (failing || s.rejected > 0) return NAGIOS.CRITICAL;
  if (s.unreachable + s.silent > 0 || (report.interrupted && s.answered === 0)) return NAGIOS.UNKNOWN;
  if (s.checks.warn > 0) return NAGIOS.WARNING;
  return NAGIOS.OK;
}

export function batchNagios(report: BatchReport): { text: string; exitCode: number } {
  const state = nagiosState(report);
  const s = report.summary();
  const outcomes = report.outcomes().filter((n) => n.state !== "notRun");
  const expected = outcomes.length;
  const failingNodes = outcomes.filter((n) => n.state === "rejected" || n.results.some((r) => r.status !== "pass" && r.status !== "fixed" && r.status !== "warn")).map((n) => n.node);
  const warningNodes = outcomes.filter((n) => !failingNodes.includes(n.node) && n.results.some((r) => r.status === "warn")).map((n) => n.node);
  const missing = report.missing();
  const parts: string[] = [];
  if (failingNodes.length) parts.push(`${failingNodes.length} of ${expected} nodes failing: ${firstTen(failingNodes)}`);
  if (missing.length) parts.push(`${missing.length} of ${expected} nodes did not answer: ${firstTen(missing)}`);
  if (warningNodes.length) parts.push(`${warningNodes.length} of ${expected} nodes warning: ${firstTen(warningNodes)}`);
  if (parts.length === 0) parts.push(`${s.answered}/${expected} nodes answered, ${s.checks.pass + s.checks.fixed} checks passed`);
  if (report.interrupted) parts.push("interrupted");
  else if (report.timedOutWaiting) parts.push("timed out");
  const perf = [
    `expected=${expected};;;0`,
    `answered=${s.answered};;;0;${expected}`,
    `failing=${failingNodes.length};;0;0;${expected}`,
    `warning=${warningNodes.length};0;;0;${expected}`,
    `missing=${missing.length};;;0;${expected}`,
  ];
  const long: string[] = [];
  for (const n of outcomes) {
    for (const r of n.results) if (r.status !== "pass" && r.status !== "fixed") long.push(`${n.node}: ${r.name} ${r.status}: ${r.message}`);
    if (n.state === "silent") long.push(`${n.node}: no answer`);
    else if (n.state !== "answered") long.push(`${n.node}: ${n.state}: ${n.reason ?? ""}`);
  }
  const text = [`GOSSIPCHECK ${STATE_NAME[state]} - ${clean(parts.join("; "))} | ${perf.join(" ")}`, ...long.map(clean), ""].join("\n");
  return { text, exitCode: state };
}

/** gcheck could not run (usage, file or connection error): UNKNOWN with the reason, as the guidelines ask. */
export function nagiosError(message: string): { text: string; exitCode: number } {
  return { text: `GOSSIPCHECK UNKNOWN - ${clean(message)}\n`, exitCode: NAGIOS.UNKNOWN };
}
