import type { CheckResult } from "../../checks/types.js";
import type { BatchReport, NodeOutcome } from "../report.js";

/*
 * `--output junit`: JUnit XML as CI systems (Jenkins, GitLab, GitHub
 * reporters) read it: a <testsuite> per node, a <testcase> per check. A
 * failed check is a <failure>, an errored one an <error>, each with the
 * message and the action's output; a fixed check passes and says so in
 * <system-out>. A node that never answered is a testsuite whose single
 * testcase has an <error>, so the report still counts it.
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

function testcase(suite: string, r: CheckResult): string {
  const open = `    <testcase classname="${xmlEscape(suite)}" name="${xmlEscape(r.name)}" time="${seconds(r.durationMs)}"`;
  const detail = xmlEscape([r.message, actionText(r)].filter(Boolean).join("\n"));
  switch (r.status) {
    case "fail":
      return `${open}>\n      <failure type="fail" message="${xmlEscape(r.message)}">${detail}</failure>\n    </testcase>`;
    case "error":
      return `${open}>\n      <error type="error" message="${xmlEscape(r.message)}">${detail}</error>\n    </testcase>`;
    case "fixed":
      return `${open}>\n      <system-out>${detail}</system-out>\n    </testcase>`;
    default:
      return `${open}/>`;
  }
}

interface Suite {
  xml: string;
  tests: number;
  failures: number;
  errors: number;
  ms: number;
}

function suite(name: string, hostname: string, results: CheckResult[], ms: number): Suite {
  const failures = results.filter((r) => r.status === "fail").length;
  const errors = results.filter((r) => r.status === "error").length;
  const head = `  <testsuite name="${xmlEscape(name)}" hostname="${xmlEscape(hostname)}" tests="${results.length}" failures="${failures}" errors="${errors}" skipped="0" time="${seconds(ms)}">`;
  return { xml: [head, ...results.map((r) => testcase(name, r)), "  </testsuite>"].join("\n"), tests: results.length, failures, errors, ms };
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
  return { xml, tests: 1, failures: 0, errors: 1, ms: 0 };
}

function document(suites: Suite[], elapsedMs: number): string {
  const sum = (k: "tests" | "failures" | "errors") => suites.reduce((a, s) => a + s[k], 0);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="gossipcheck" tests="${sum("tests")}" failures="${sum("failures")}" errors="${sum("errors")}" time="${seconds(elapsedMs)}">`,
    ...suites.map((s) => s.xml),
    `</testsuites>`,
    "",
  ].join("\n");
}

export function batchJunit(report: BatchReport, elapsedMs: number): string {
  const suites = report.outcomes().map((n) => (n.state === "answered" ? suite(n.node, n.address, n.results, n.elapsedMs ?? 0) : missingSuite(n)));
  return document(suites, elapsedMs);
}

export function resultsJunit(node: string, results: CheckResult[], elapsedMs: number): string {
  return document([suite(node, node, results, elapsedMs)], elapsedMs);
}
