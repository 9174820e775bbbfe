import type { CheckResult } from "../../checks/types.js";
import type { MemberView } from "../../control/api_types.js";
import type { FailOn } from "../errors.js";
import type { BatchReport } from "../report.js";

/*
 * `--output json`: one JSON document on stdout per run, for scripts (jq).
 * Field names follow the control API's; failOn is -fail-on, which says
 * whether a `warn` result made exitCode 1. gcheck check / results: the
 * document is written in every case, so stdout always parses: after a
 * timeout or SIGINT (interrupted: true) with what arrived and the names of
 * the nodes not heard from (missing), and on an error that stops gcheck
 * (errorJson: {error, exitCode}).
 */

export function batchJson(report: BatchReport, elapsedMs: number): string {
  const doc = {
    batchId: report.batchId,
    origin: report.origin,
    createdMs: report.createdMs,
    elapsedMs,
    timedOut: report.timedOutWaiting && !report.interrupted,
    interrupted: report.interrupted,
    exitCode: report.exitCode(),
    failOn: report.failOn,
    ...(report.signer !== undefined && { signer: report.signer }),
    summary: report.summary(),
    missing: report.missing(),
    expected: report.expected,
    nodes: report.outcomes(),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

export function resultsJson(node: string, results: CheckResult[], elapsedMs: number, exitCode: number, failOn: FailOn = "fail"): string {
  return JSON.stringify({ node, elapsedMs, exitCode, failOn, results }, null, 2) + "\n";
}

export function membersJson(node: string, members: MemberView[]): string {
  return JSON.stringify({ node, members }, null, 2) + "\n";
}

/** gcheck could not run (usage, file or connection error): still one JSON document. */
export function errorJson(message: string, exitCode: number): string {
  return JSON.stringify({ error: message, exitCode }, null, 2) + "\n";
}
