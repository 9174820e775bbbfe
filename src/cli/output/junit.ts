import { CHECK_STATUSES, type CheckResult } from "../../checks/types.js";
import type { FailOn } from "../errors.js";
import type { BatchReport, NodeOutcome } from "../report.js";

/*
 * `--output junit`: JUnit XML as CI systems (Jenkins, GitLab, GitHub
 * reporters) read it: a <testsuite> per node, a <testcase> per check. A
 * failed check is a <failure>, an errored one an <error>, each with the
 * message and the action's output; a fixed check passes and says so in
 * <system-out>. A node that never answered is a testsuite whose single
 * testcase has an <error>, so the report still counts it.
 *
 * A warning is a <skipped> whose message and text start with "WARN:". JUnit
 * has no warning; of what it has, skipped is the one that CI systems count
 * and show apart without failing anything: GitLab lists skipped tests with
 * their text (it shows <system-out> only for failed ones, so a passed
 * testcase would hide the warning), Jenkins counts them in yellow and
 * leaves the build stable. "Skipped" wrongly hints that the check did not
 * run, hence the "WARN:" prefix. With -fail-on warn the warning is a
 * <failure type="warn">, so the report agrees with the exit code.
 */

// XML 1.0 forbids most control characters even when escaped: drop them.
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function xmlEscape(s: string): string {
  return s.replace(INVALID_XML, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function actionText(r: CheckResult): string {
  const a = r.action;
  if (!a) return "";
  if (a.skipped) return `action not run: ${a.skipped}`;
  const how = a.timedOut ? "timed out" : a.signal ? `killed by ${a.signal}` : `exit code ${a.exitCode}`;
  const leftovers = a.leftoversKilled > 0 ? `, killed ${a.leftoversKilled} leftover process${a.leftoversKilled === 1 ? "" : "es"}` : "";
  return `action: ${a.command}\n${how} after ${Math.round(a.durationMs)}ms${leftovers}${a.outputTruncated ? " (output truncated)" : ""}\n${a.output}`;
}

function testcase(suite: string, r: CheckResult, failOn: FailOn): string {
  const open = `    <testcase classname="${xmlEscape(suite)}" name="${xmlEscape(r.name)}" time="${seconds(r.durationMs)}"`;
  const detail = xmlEscape([r.message, actionText(r)].filter(Boolean).join("\n"));
  switch (r.status) {
    case "warn": {
      const element = failOn === "warn" ? `failure type="warn"` : "skipped";
      const end = failOn === "warn" ? "failure" : "skipped";
      return `${open}>\n      <${element} message="${xmlEscape(`WARN: ${r.message}`)}">WARN: ${detail}</${end}>\n    </testcase>`;
    }
    case "fail":
      return `${open}>\n      <failure type="fail" message="${xmlEscape(r.message)}">${detail}</failure>\n    </testcase>`;
    case "error":
      return `${open}>\n      <error type="error" message="${xmlEscape(r.message)}">${detail}</error>\n    </testcase>`;
    case "fixed":
      return `${open}>\n      <system-out>${detail}</system-out>\n    </testcase>`;
    case "pass":
      return `${open}/>`;
    default: {
      // A newer daemon's status: an error, as in the counts and the exit code (report.ts), never a silent pass.
      const why = xmlEscape(`unknown status ${JSON.stringify(r.status)}: ${r.message}`);
      return `${open}>\n      <error type="unknown" message="${why}">${why}</error>\n    </testcase>`;
    }
  }
}

const known = (r: CheckResult) => (CHECK_STATUSES as readonly string[]).includes(r.status);

interface Suite {
  xml: string;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  ms: number;
}

function suite(name: string, hostname: string, results: CheckResult[], ms: number, failOn: FailOn): Suite {
  const warnings = results.filter((r) => r.status === "warn").length;
  const failures = results.filter((r) => r.status === "fail").length + (failOn === "warn" ? warnings : 0);
  const errors = results.filter((r) => r.status === "error" || !known(r)).length;
  const skipped = failOn === "warn" ? 0 : warnings;
  const head = `  <testsuite name="${xmlEscape(name)}" hostname="${xmlEscape(hostname)}" tests="${results.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(ms)}">`;
  return { xml: [head, ...results.map((r) => testcase(name, r, failOn)), "  </testsuite>"].join("\n"), tests: results.length, failures, errors, skipped, ms };
}

function missingSuite(n: NodeOutcome): Suite {
  const why = n.state === "silent" ? "no answer before the end" : `${n.state}: ${n.reason ?? ""}`;
  const xml = [
    `  <testsuite name="${xmlEscape(n.node)}" hostname="${xmlEscape(n.address)}" tests="1" failures="0" errors="1" skipped="0" time="0.000">`,
    `    <testcase classname="${xmlEscape(n.node)}" name="node answered" time="0.000">`,
    `      <error type="${n.state}" message="${xmlEscape(why)}">${xmlEscape(why)}</error>`,
    `    </testcase>`,
    `  </testsuite>`,
  ].join("\n");
  return { xml, tests: 1, failures: 0, errors: 1, skipped: 0, ms: 0 };
}

function document(suites: Suite[], elapsedMs: number): string {
  const sum = (k: "tests" | "failures" | "errors" | "skipped") => suites.reduce((a, s) => a + s[k], 0);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="gossipcheck" tests="${sum("tests")}" failures="${sum("failures")}" errors="${sum("errors")}" skipped="${sum("skipped")}" time="${seconds(elapsedMs)}">`,
    ...suites.map((s) => s.xml),
    `</testsuites>`,
    "",
  ].join("\n");
}

export function batchJunit(report: BatchReport, elapsedMs: number): string {
  // A node that did not run a past batch (gcheck results) has no testsuite: it had nothing to test.
  const suites = report
    .outcomes()
    .filter((n) => n.state !== "notRun")
    .map((n) => (n.state === "answered" ? suite(n.node, n.address, n.results, n.elapsedMs ?? 0, report.failOn) : missingSuite(n)));
  return document(suites, elapsedMs);
}

export function resultsJunit(node: string, results: CheckResult[], elapsedMs: number, failOn: FailOn = "fail"): string {
  return document([suite(node, node, results, elapsedMs, failOn)], elapsedMs);
}
