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
 *
 * Every testsuite (and testsuites) has a `timestamp`: the batch's creation
 * on the origin, in UTC without a zone suffix (2025-06-01T14:03:09), the
 * form of Ant's and Jenkins's schema (test/fixtures/jenkins-junit.xsd). A
 * testsuite's <properties> name the batch (gossipcheck.batchId,
 * gossipcheck.origin, gossipcheck.signer: the signing key's fingerprint,
 * when gcheck signed it) and the node's rollout.wave when the origin's
 * events give one (report.ts: waveOf). A check's `description` goes into
 * its testcase's <system-out>: the schema has no per-testcase properties.
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

/** "2025-06-01T14:03:09" (UTC): JUnit's timestamp as Ant and Jenkins define it (no zone, no fraction). */
export function junitTimestamp(ms: number): string {
  const d = new Date(ms);
  return (Number.isFinite(d.getTime()) ? d : new Date(0)).toISOString().slice(0, 19);
}

function testcase(suite: string, r: CheckResult, failOn: FailOn): string {
  const open = `    <testcase classname="${xmlEscape(suite)}" name="${xmlEscape(r.name)}" time="${seconds(r.durationMs)}"`;
  const detail = xmlEscape([r.message, actionText(r)].filter(Boolean).join("\n"));
  const out = r.description ? `\n      <system-out>${xmlEscape(`description: ${r.description}`)}${r.status === "fixed" ? `\n${detail}` : ""}</system-out>` : "";
  // <system-out> follows <skipped>/<failure>/<error> (the schema's order).
  const withOut = (xml: string) => (out ? xml.replace(/\n    <\/testcase>$/, `${out}\n    </testcase>`) : xml);
  return withOut(testcaseBody(open, r, detail, failOn, out !== ""));
}

function testcaseBody(open: string, r: CheckResult, detail: string, failOn: FailOn, described: boolean): string {
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
      return described ? `${open}>\n    </testcase>` : `${open}>\n      <system-out>${detail}</system-out>\n    </testcase>`;
    case "pass":
      return described ? `${open}>\n    </testcase>` : `${open}/>`;
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

/** What every testsuite of a batch carries: its start and its <properties> (name, value). */
interface SuiteContext {
  timestamp: string;
  properties: [string, string][];
}

function suiteHead(attrs: string, ctx: SuiteContext | undefined, wave?: number): string {
  const props = [...(ctx?.properties ?? []), ...(wave !== undefined ? ([["rollout.wave", String(wave)]] as [string, string][]) : [])];
  const head = `  <testsuite ${attrs}${ctx ? ` timestamp="${ctx.timestamp}"` : ""}>`;
  if (props.length === 0) return head;
  return [head, "    <properties>", ...props.map(([k, v]) => `      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`), "    </properties>"].join("\n");
}

function suite(name: string, hostname: string, results: CheckResult[], ms: number, failOn: FailOn, ctx?: SuiteContext, wave?: number): Suite {
  const warnings = results.filter((r) => r.status === "warn").length;
  const failures = results.filter((r) => r.status === "fail").length + (failOn === "warn" ? warnings : 0);
  const errors = results.filter((r) => r.status === "error" || !known(r)).length;
  const skipped = failOn === "warn" ? 0 : warnings;
  const head = suiteHead(
    `name="${xmlEscape(name)}" hostname="${xmlEscape(hostname)}" tests="${results.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(ms)}"`,
    ctx,
    wave,
  );
  return { xml: [head, ...results.map((r) => testcase(name, r, failOn)), "  </testsuite>"].join("\n"), tests: results.length, failures, errors, skipped, ms };
}

function missingSuite(n: NodeOutcome, ctx: SuiteContext): Suite {
  const why = n.state === "silent" ? "no answer before the end" : `${n.state}: ${n.reason ?? ""}`;
  const xml = [
    suiteHead(`name="${xmlEscape(n.node)}" hostname="${xmlEscape(n.address)}" tests="1" failures="0" errors="1" skipped="0" time="0.000"`, ctx, n.wave),
    `    <testcase classname="${xmlEscape(n.node)}" name="node answered" time="0.000">`,
    `      <error type="${n.state}" message="${xmlEscape(why)}">${xmlEscape(why)}</error>`,
    `    </testcase>`,
    `  </testsuite>`,
  ].join("\n");
  return { xml, tests: 1, failures: 0, errors: 1, skipped: 0, ms: 0 };
}

function skippedSuite(n: NodeOutcome, ctx: SuiteContext): Suite {
  const why = n.reason ?? "skipped: not reached by the rollout";
  const xml = [
    suiteHead(`name="${xmlEscape(n.node)}" hostname="${xmlEscape(n.address)}" tests="1" failures="0" errors="0" skipped="1" time="0.000"`, ctx, n.wave),
    `    <testcase classname="${xmlEscape(n.node)}" name="rollout reached the node" time="0.000">`,
    `      <skipped message="${xmlEscape(why)}"/>`,
    `    </testcase>`,
    `  </testsuite>`,
  ].join("\n");
  return { xml, tests: 1, failures: 0, errors: 0, skipped: 1, ms: 0 };
}

function document(suites: Suite[], elapsedMs: number, timestamp?: string): string {
  const sum = (k: "tests" | "failures" | "errors" | "skipped") => suites.reduce((a, s) => a + s[k], 0);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="gossipcheck" tests="${sum("tests")}" failures="${sum("failures")}" errors="${sum("errors")}" skipped="${sum("skipped")}" time="${seconds(elapsedMs)}"${timestamp ? ` timestamp="${timestamp}"` : ""}>`,
    ...suites.map((s) => s.xml),
    `</testsuites>`,
    "",
  ].join("\n");
}

export function batchJunit(report: BatchReport, elapsedMs: number): string {
  const properties: [string, string][] = [
    ["gossipcheck.batchId", report.batchId],
    ["gossipcheck.origin", report.origin],
  ];
  if (report.signer !== undefined) properties.push(["gossipcheck.signer", report.signer]);
  if (report.interrupted) properties.push(["gossipcheck.interrupted", "true"]);
  const ctx: SuiteContext = { timestamp: junitTimestamp(report.createdMs), properties };
  // A node that did not run a past batch (gcheck results) has no testsuite: it had nothing to test.
  // One a rollout never reached is a skipped testcase (GitLab and Jenkins list those apart, with the reason).
  const suites = report
    .outcomes()
    .filter((n) => n.state !== "notRun" || n.skipped)
    .map((n) => (n.state === "answered" ? suite(n.node, n.address, n.results, n.elapsedMs ?? 0, report.failOn, ctx, n.wave) : n.state === "notRun" ? skippedSuite(n, ctx) : missingSuite(n, ctx)));
  return document(suites, elapsedMs, ctx.timestamp);
}

export function resultsJunit(node: string, results: CheckResult[], elapsedMs: number, failOn: FailOn = "fail"): string {
  return document([suite(node, node, results, elapsedMs, failOn)], elapsedMs);
}
