import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { parseCheckObject } from "../src/checks/parse.js";
import type { CheckResult, CheckSpec } from "../src/checks/types.js";
import { toCheckFileObject } from "../src/cli/check_file.js";
import type { FailOn } from "../src/cli/errors.js";
import { batchJson, resultsJson } from "../src/cli/output/json.js";
import { batchJunit, resultsJunit, xmlEscape } from "../src/cli/output/junit.js";
import { batchSummaryLine, batchTable, checkCounts, formatAge, formatDuration, renderTable, resultsTable } from "../src/cli/output/table.js";
import { ProgressLine, progressText } from "../src/cli/progress.js";
import { BatchReport, countChecks, resultsExitCode } from "../src/cli/report.js";

/* The pure parts of gcheck: folding the event stream, exit codes, and the three output formats. */

const r = (name: string, status: CheckResult["status"], extra: Partial<CheckResult> = {}): CheckResult => ({
  name,
  type: "file_exists",
  status,
  message: `${name} is ${status}`,
  durationMs: 3,
  ...extra,
});

function report(nodes: string[], failOn?: FailOn): BatchReport {
  const rep = new BatchReport(failOn);
  rep.apply({ type: "accepted", batchId: "ab".repeat(16), origin: nodes[0]!, createdMs: 1, ttlMs: 1000, expected: nodes.map((n) => ({ name: n, address: `${n}:3505` })) });
  return rep;
}

describe("batch report and exit codes", () => {
  it("0 when every expected node answered and nothing failed (fixed counts as passed)", () => {
    const rep = report(["a", "b"]);
    rep.apply({ type: "result", node: "a", address: "a:3505", results: [r("x", "pass")], elapsedMs: 5 });
    assert.equal(rep.complete, false);
    rep.apply({ type: "result", node: "b", address: "b:3505", results: [r("x", "fixed")], elapsedMs: 6 });
    assert.equal(rep.complete, true);
    assert.equal(rep.exitCode(), 0);
  });

  it("3 when an expected node never answered or was unreachable, 1 when a check also failed", () => {
    const silent = report(["a", "b"]);
    silent.apply({ type: "result", node: "a", address: "a:3505", results: [r("x", "pass")], elapsedMs: 5 });
    silent.apply({ type: "done", elapsedMs: 30_000, timedOut: true });
    assert.equal(silent.exitCode(), 3);
    assert.equal(silent.timedOutWaiting, true);

    const unreachable = report(["a", "b"]);
    unreachable.apply({ type: "result", node: "a", address: "a:3505", results: [r("x", "pass")], elapsedMs: 5 });
    unreachable.apply({ type: "unreachable", node: "b", reason: "declared dead" });
    assert.equal(unreachable.complete, true);
    assert.equal(unreachable.exitCode(), 3);
    unreachable.apply({ type: "result", node: "a", address: "a:3505", results: [r("x", "error")], elapsedMs: 5 });
    assert.equal(unreachable.exitCode(), 1);
  });

  it("1 when a node rejected the batch (it ran nothing)", () => {
    const rep = report(["a"]);
    rep.apply({ type: "rejected", node: "a", reason: "unsigned" });
    assert.equal(rep.exitCode(), 1);
    assert.equal(rep.summary().rejected, 1);
  });

  it("a warning exits 0 by default and 1 with -fail-on warn; a missing node is 3 only when nothing fails", () => {
    for (const failOn of [undefined, "fail", "warn"] as const) {
      const rep = report(["a", "b", "c"], failOn);
      rep.apply({ type: "result", node: "a", address: "a:3505", results: [r("disk", "warn"), r("x", "pass")], elapsedMs: 5 });
      rep.apply({ type: "result", node: "b", address: "b:3505", results: [r("disk", "pass"), r("x", "fixed")], elapsedMs: 5 });
      assert.equal(rep.exitCode(), failOn === "warn" ? 1 : 3, `c silent, -fail-on ${failOn}`);
      rep.apply({ type: "result", node: "c", address: "c:3505", results: [r("disk", "pass")], elapsedMs: 5 });
      assert.equal(rep.exitCode(), failOn === "warn" ? 1 : 0, `-fail-on ${failOn}`);
      assert.deepEqual(rep.summary().checks, { pass: 3, warn: 1, fixed: 1, fail: 0, error: 0 });
      assert.equal(rep.summary().warningNodes, 1);
      assert.equal(rep.summary().failingNodes, 0);
    }
  });

  it("local-check: a warning exits 0 by default and 1 with -fail-on warn; a status this gcheck does not know fails", () => {
    assert.equal(resultsExitCode([r("a", "pass"), r("b", "warn")]), 0);
    assert.equal(resultsExitCode([r("a", "pass"), r("b", "warn")], "fail"), 0);
    assert.equal(resultsExitCode([r("a", "pass"), r("b", "warn")], "warn"), 1);
    assert.equal(resultsExitCode([r("a", "pass"), r("b", "fail")], "fail"), 1);
    // A newer daemon's status: never a silent pass, counted as an error.
    const later = r("c", "later" as CheckResult["status"]);
    assert.equal(resultsExitCode([later], "fail"), 1);
    assert.deepEqual(countChecks([later, r("d", "warn")]), { pass: 0, warn: 1, fixed: 0, fail: 0, error: 1 });
    const rep = report(["a"]);
    rep.apply({ type: "result", node: "a", address: "a:3505", results: [later], elapsedMs: 5 });
    assert.equal(rep.exitCode(), 1);
    assert.equal(rep.summary().failingNodes, 1);
    assert.match(batchJunit(rep, 1), /errors="1"[\s\S]*<error type="unknown" message="unknown status &quot;later&quot;: c is later">/);
  });

  it("ignores event types it does not know", () => {
    const rep = report(["a"]);
    assert.equal(rep.apply({ type: "telemetry" } as never), false);
  });
});

describe("table output", () => {
  it("aligns columns, flattens line breaks, and leaves the last column ragged", () => {
    assert.equal(
      renderTable(
        ["A", "LONG"],
        [
          ["xyz", "1\n2"],
          ["q", "r"],
        ],
      ),
      "A    LONG\nxyz  1 | 2\nq    r\n",
    );
  });

  it("puts failing rows and missing nodes first, then fixed, then passed", () => {
    const rep = report(["n1", "n2", "n3"]);
    rep.apply({ type: "result", node: "n1", address: "n1:3505", results: [r("ok", "pass"), r("bad", "fail"), r("fx", "fixed")], elapsedMs: 5 });
    rep.apply({ type: "result", node: "n2", address: "n2:3505", results: [r("ok", "pass"), r("boom", "error")], elapsedMs: 5 });
    const statuses = batchTable(rep)
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((l) => l.split(/\s+/).slice(0, 3).join(" "));
    assert.deepEqual(statuses, ["n1 bad FAIL", "n2 boom ERROR", "n3 - NO", "n1 fx FIXED", "n1 ok PASS", "n2 ok PASS"]);
    assert.equal(batchSummaryLine(rep, 1530), "2/3 nodes answered; checks: 2 passed, 1 fixed, 1 failed, 1 errored; 1.53s; not answered: n3 (no answer); timed out\n");
  });

  it("shows WARN after the failing rows and before fixed, and counts warnings in the summary only when there are some", () => {
    const rep = report(["n1", "n2"]);
    rep.apply({ type: "result", node: "n1", address: "n1:3505", results: [r("ok", "pass"), r("fx", "fixed"), r("disk", "warn", { message: "DISK WARNING - / 88% used" })], elapsedMs: 5 });
    rep.apply({ type: "result", node: "n2", address: "n2:3505", results: [r("bad", "fail")], elapsedMs: 5 });
    const rows = batchTable(rep).trimEnd().split("\n").slice(1);
    assert.deepEqual(
      rows.map((l) => l.split(/\s+/).slice(0, 3).join(" ")),
      ["n2 bad FAIL", "n1 disk WARN", "n1 fx FIXED", "n1 ok PASS"],
    );
    assert.match(rows[1]!, /DISK WARNING - \/ 88% used$/);
    assert.equal(batchSummaryLine(rep, 410), "2/2 nodes answered; checks: 1 passed, 1 fixed, 1 warned, 1 failed, 0 errored; 410ms\n");

    // local-check: its table, and its summary (no fixed count: it runs no action).
    const results = [r("ok", "pass"), r("disk", "warn")];
    assert.match(resultsTable(results), /^disk\s+WARN\s+3ms\s+disk is warn$/m);
    assert.equal(checkCounts(countChecks(results), false), "1 passed, 1 warned, 0 failed, 0 errored");
    assert.equal(checkCounts(countChecks([r("ok", "pass")]), false), "1 passed, 0 failed, 0 errored");
  });

  it("formats durations and ages for people", () => {
    assert.deepEqual([0.2, 12.4, 1530, 95_000, 7_200_000].map(formatDuration), ["<1ms", "12ms", "1.53s", "1m35s", "2h00m"]);
    assert.deepEqual([500, 12_000, 300_000, 7_200_000, 3 * 86_400_000].map(formatAge), ["0s ago", "12s ago", "5m ago", "2h ago", "3d ago"]);
  });
});

/** A small XML well-formedness check: balanced tags, quoted attributes, no stray < or &. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w-]*)((?:\s+[\w-]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos);[^"<&]*)*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let seen = 0;
  while ((m = token.exec(body)) !== null) {
    seen = token.lastIndex;
    if (m[5] !== undefined) {
      assert.doesNotMatch(m[5], /&(?!(amp|lt|gt|quot|apos);)/, "text has a raw &");
      continue;
    }
    if (m[1]) assert.equal(stack.pop(), m[2], `closing </${m[2]}>`);
    else if (!m[4]) stack.push(m[2]!);
  }
  assert.equal(seen, body.length, `unparseable XML at ${JSON.stringify(body.slice(seen, seen + 40))}`);
  assert.deepEqual(stack, [], "every element closed");
}

describe("JUnit output", () => {
  it("is well-formed, escapes markup and drops characters XML forbids", () => {
    assert.equal(xmlEscape(`<a href="x">&'\u0001\u0007ok`), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;ok");
    const rep = report(["web-1", "web-2", "web-3"]);
    rep.apply({
      type: "result",
      node: "web-1",
      address: "10.0.0.1:3505",
      results: [
        r("fine", "pass"),
        r("fixed_it", "fixed", { action: { command: "touch /x", exitCode: 0, signal: null, timedOut: false, output: "", outputTruncated: false, durationMs: 4, leftoversKilled: 1 } }),
        r(`bad <"quoted"> & check`, "fail", {
          action: { command: "echo <nope>", exitCode: 3, signal: null, timedOut: false, output: "out: <&>\u0000\n", outputTruncated: true, durationMs: 9, leftoversKilled: 0 },
        }),
        r("exploded", "error"),
      ],
      elapsedMs: 20,
    });
    rep.apply({ type: "unreachable", node: "web-2", address: "10.0.0.2:3505", reason: "declared dead" });
    const xml = batchJunit(rep, 1234);
    assertWellFormedXml(xml);
    assert.match(xml, /<testsuites name="gossipcheck" tests="6" failures="1" errors="3" skipped="0" time="1\.234" timestamp="1970-01-01T00:00:00">/);
    assert.match(xml, /<testsuite name="web-1" hostname="10\.0\.0\.1:3505" tests="4" failures="1" errors="1" skipped="0" time="0\.020" timestamp="1970-01-01T00:00:00">/);
    assert.match(
      xml,
      /<failure type="fail" message="bad &lt;&quot;quoted&quot;&gt; &amp; check is fail">[^<]*action: echo &lt;nope&gt;\nexit code 3 after 9ms \(output truncated\)\nout: &lt;&amp;&gt;\n<\/failure>/,
    );
    assert.match(
      xml,
      /<testsuite name="web-2" hostname="10\.0\.0\.2:3505" tests="1" failures="0" errors="1"[^>]*>[\s\S]*?<\/properties>\n\s*<testcase classname="web-2" name="node answered" time="0\.000">\n\s*<error type="unreachable" message="unreachable: declared dead">/,
    );
    assert.match(xml, /<testsuite name="web-3"[^>]*errors="1"[\s\S]*?<error type="silent" message="no answer before the end">/);
    assert.match(xml, /<system-out>fixed_it is fixed\naction: touch \/x\nexit code 0 after 4ms, killed 1 leftover process\n<\/system-out>/);
  });
});

describe("JUnit output of a warning", () => {
  const warned = () => [r("ok", "pass"), r("disk", "warn", { message: "DISK WARNING - / 88% <used>" })];

  it("is a skipped testcase whose message and text start with WARN:, failing nothing, by default", () => {
    const rep = report(["a"]);
    rep.apply({ type: "result", node: "a", address: "a:3505", results: warned(), elapsedMs: 5 });
    for (const xml of [batchJunit(rep, 10), resultsJunit("a", warned(), 10)]) {
      assertWellFormedXml(xml);
      assert.match(xml, /<testsuites name="gossipcheck" tests="2" failures="0" errors="0" skipped="1"/);
      assert.match(xml, /<testsuite name="a" [^>]*tests="2" failures="0" errors="0" skipped="1"/);
      assert.match(
        xml,
        /<testcase classname="a" name="disk" time="0\.003">\n\s*<skipped message="WARN: DISK WARNING - \/ 88% &lt;used&gt;">WARN: DISK WARNING - \/ 88% &lt;used&gt;<\/skipped>\n\s*<\/testcase>/,
      );
      assert.doesNotMatch(xml, /<failure/);
    }
  });

  it("is a failure of type warn with -fail-on warn, as the exit code says", () => {
    const rep = report(["a"], "warn");
    rep.apply({ type: "result", node: "a", address: "a:3505", results: warned(), elapsedMs: 5 });
    for (const xml of [batchJunit(rep, 10), resultsJunit("a", warned(), 10, "warn")]) {
      assertWellFormedXml(xml);
      assert.match(xml, /<testsuites name="gossipcheck" tests="2" failures="1" errors="0" skipped="0"/);
      assert.match(xml, /<failure type="warn" message="WARN: DISK WARNING - \/ 88% &lt;used&gt;">WARN: DISK WARNING[^<]*<\/failure>/);
      assert.doesNotMatch(xml, /<skipped/);
    }
  });
});

describe("JSON output", () => {
  it("counts warnings, says -fail-on, and gives the exit code that follows from it", () => {
    for (const failOn of ["fail", "warn"] as const) {
      const rep = report(["a"], failOn);
      rep.apply({ type: "result", node: "a", address: "a:3505", results: [r("disk", "warn"), r("x", "pass")], elapsedMs: 5 });
      const doc = JSON.parse(batchJson(rep, 42)) as { exitCode: number; failOn: string; summary: { checks: Record<string, number>; warningNodes: number }; nodes: { results: CheckResult[] }[] };
      assert.equal(doc.exitCode, failOn === "warn" ? 1 : 0);
      assert.equal(doc.failOn, failOn);
      assert.equal(doc.summary.checks.warn, 1);
      assert.equal(doc.summary.warningNodes, 1);
      assert.equal(doc.nodes[0]!.results[0]!.status, "warn");
      const local = JSON.parse(resultsJson("a", [r("disk", "warn")], 3, resultsExitCode([r("disk", "warn")], failOn), failOn)) as { exitCode: number; failOn: string; results: CheckResult[] };
      assert.deepEqual([local.exitCode, local.failOn, local.results[0]!.status], [failOn === "warn" ? 1 : 0, failOn, "warn"]);
    }
  });

  it("is one document with the summary, the exit code and every node", () => {
    const rep = report(["a", "b"]);
    rep.apply({ type: "result", node: "a", address: "a:3505", results: [r("x", "fail")], elapsedMs: 5 });
    const doc = JSON.parse(batchJson(rep, 42)) as Record<string, unknown>;
    assert.equal(doc.exitCode, 1);
    assert.equal(doc.timedOut, true);
    assert.deepEqual(
      (doc.nodes as { node: string; state: string }[]).map((n) => [n.node, n.state]),
      [
        ["a", "answered"],
        ["b", "silent"],
      ],
    );
  });
});

describe("progress line", () => {
  class Sink extends Writable {
    text = "";
    constructor(readonly isTTY: boolean) {
      super();
    }
    override _write(chunk: Buffer, _enc: string, cb: () => void): void {
      this.text += chunk.toString();
      cb();
    }
  }

  it("counts answers and failing nodes", () => {
    const rep = report(["a", "b", "c"]);
    rep.apply({ type: "result", node: "a", address: "a:3505", results: [r("x", "fail")], elapsedMs: 5 });
    rep.apply({ type: "result", node: "b", address: "b:3505", results: [r("x", "pass")], elapsedMs: 5 });
    assert.equal(progressText(rep), "2/3 nodes answered, 1 failing; waiting for c");
    rep.apply({ type: "unreachable", node: "c", reason: "dead" });
    assert.equal(progressText(rep), "2/3 nodes answered, 1 failing, 1 unreachable");
  });

  it("counts nodes with a warning (and nothing failing) apart from failing ones", () => {
    const rep = report(["a", "b", "c"]);
    rep.apply({ type: "result", node: "a", address: "a:3505", results: [r("x", "warn")], elapsedMs: 5 });
    assert.equal(progressText(rep), "1/3 nodes answered, 0 failing, 1 warning; waiting for b, c");
    rep.apply({ type: "result", node: "b", address: "b:3505", results: [r("x", "warn"), r("y", "fail")], elapsedMs: 5 });
    assert.equal(progressText(rep), "2/3 nodes answered, 1 failing, 1 warning; waiting for c");
  });

  it("is rewritten in place on a terminal and erased at the end", () => {
    const tty = new Sink(true);
    const p = new ProgressLine(tty, 30_000, () => 0);
    const rep = report(["a"]);
    p.update(rep);
    p.clear();
    assert.equal(tty.text, "\r\x1b[2K0/1 nodes answered, 0 failing; <1ms elapsed, 30.0s left; waiting for a\r\x1b[2K");
  });

  it("writes nothing when stderr is not a terminal", () => {
    const pipe = new Sink(false);
    const p = new ProgressLine(pipe);
    p.update(report(["a"]));
    p.clear();
    assert.equal(pipe.text, "");
  });
});

describe("check file round trip", () => {
  it("validated checks go back to check-file form that parses to the same checks", async () => {
    const checks: CheckSpec[] = [
      { name: "a", type: "file_contains", path: "/etc/hosts", check: "localhost", action: "true", timeoutMs: 1500, description: "d" },
      { name: "b", type: "process_running", check: "sshd" },
      // A registered type's own fields (params), a duration among them.
      { name: "c", type: "tcp", params: { address: "127.0.0.1:22", reachable: true, connect_timeout: 500 } },
      { name: "d", type: "package", params: { package: "bash", versions: ["1"] }, action: "true" },
    ];
    const back = parseCheckObject(await toCheckFileObject(checks), "round trip");
    assert.deepEqual(back, { ok: true, checks });
  });
});
