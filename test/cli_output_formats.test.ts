import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { Parser, type FinalResults } from "tap-parser";
import type { CheckResult } from "../src/checks/types.js";
import { writeBatchReport } from "../src/cli/batch_output.js";
import type { CliContext, OutputFormat } from "../src/cli/context.js";
import type { FailOn } from "../src/cli/errors.js";
import { batchByCheck } from "../src/cli/output/by_check.js";
import { batchJson } from "../src/cli/output/json.js";
import { batchJunit } from "../src/cli/output/junit.js";
import { batchNagios } from "../src/cli/output/nagios.js";
import { NdjsonWriter } from "../src/cli/output/ndjson.js";
import { batchTap } from "../src/cli/output/tap.js";
import { batchSummaryLine, batchTable } from "../src/cli/output/table.js";
import { progressText } from "../src/cli/progress.js";
import { BatchReport } from "../src/cli/report.js";
import { ROOT, tempDir } from "./support/proc.js";

/* -output ndjson, tap, nagios, junit's properties, json after SIGINT, -group-by check, -failures-only, the progress line: each read back by a real consumer where one exists. */

const r = (name: string, status: CheckResult["status"], extra: Partial<CheckResult> = {}): CheckResult => ({ name, type: "command", status, message: `${name} is ${status}`, durationMs: 3, ...extra });

function report(nodes: string[], failOn?: FailOn): BatchReport {
  const rep = new BatchReport(failOn);
  rep.apply({ type: "accepted", batchId: "ab".repeat(16), origin: nodes[0]!, createdMs: Date.UTC(2025, 5, 1, 14, 3, 9), ttlMs: 1000, expected: nodes.map((n) => ({ name: n, address: `${n}:3505` })) });
  return rep;
}

/** web-01 passes, web-02 fails nginx (its action ran), web-03 warns, web-04 never answers, web-05 unreachable. */
function mixed(failOn?: FailOn): BatchReport {
  const rep = report(["web-01", "web-02", "web-03", "web-04", "web-05"], failOn);
  rep.apply({ type: "result", node: "web-01", address: "web-01:3505", results: [r("nginx", "pass", { description: "nginx # serves" }), r("disk", "fixed")], elapsedMs: 5 });
  rep.apply({
    type: "result",
    node: "web-02",
    address: "web-02:3505",
    results: [
      r("nginx", "fail", {
        action: { command: "systemctl restart nginx", exitCode: 1, signal: null, timedOut: false, durationMs: 12, output: "Job failed\n<see log>", outputTruncated: false, leftoversKilled: 0 },
      } as never),
      r("disk", "pass"),
    ],
    elapsedMs: 6,
  });
  rep.apply({ type: "result", node: "web-03", address: "web-03:3505", results: [r("nginx", "pass"), r("disk", "warn")], elapsedMs: 7, wave: 2 } as never);
  rep.apply({ type: "unreachable", node: "web-05", reason: "declared dead" });
  rep.apply({ type: "done", elapsedMs: 30_000, timedOut: true });
  return rep;
}

class Sink extends Writable {
  text = "";
  writes = 0;
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    this.writes++;
    cb();
  }
}

function ctxFor(output: OutputFormat): CliContext & { stdout: Sink; stderr: Sink } {
  return { server: "127.0.0.1:1", output, env: {}, stdin: process.stdin, stdout: new Sink(), stderr: new Sink() } as never;
}

function parseTap(text: string): Promise<FinalResults> {
  return new Promise((resolve) => {
    const p = new Parser({ strict: true }, resolve);
    p.end(text);
  });
}

describe("-output ndjson", () => {
  it("writes each node's line once, as it arrives, then a summary that jq-style consumers parse line by line", () => {
    const out = new Sink();
    const w = new NdjsonWriter(out);
    const rep = report(["a", "b", "c"]);
    w.update(rep);
    rep.apply({ type: "result", node: "a", address: "a:3505", results: [r("x", "pass")], elapsedMs: 4, wave: 1 } as never);
    w.update(rep);
    assert.equal(out.text.split("\n").length - 1, 2, "accepted and a's result, before anything else arrived");
    rep.apply({ type: "rejected", node: "b", reason: "unsigned" });
    w.update(rep);
    w.update(rep);
    w.finish(rep, 123);
    const lines = out.text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(out.writes, lines.length, "one write per line");
    assert.deepEqual(
      lines.map((l) => l.event),
      ["accepted", "result", "rejected", "summary"],
    );
    assert.deepEqual(lines[1], { event: "result", node: "a", address: "a:3505", elapsedMs: 4, results: [r("x", "pass")], wave: 1 });
    const summary = lines[3] as { exitCode: number; batchId: string; missing: string[]; summary: { answered: number } };
    assert.equal(summary.exitCode, 1);
    assert.equal(summary.batchId, "ab".repeat(16));
    assert.deepEqual(summary.missing, ["c"]);
    assert.equal(summary.summary.answered, 1);
  });
});

describe("-output tap", () => {
  it("is TAP version 14 that tap-parser reads strictly: plan, one point per node and check, YAML diagnostics", async () => {
    const text = batchTap(mixed());
    assert.match(text, /^TAP version 14\n1\.\.8\n/);
    const res = await parseTap(text);
    assert.equal(res.plan.end, 8);
    assert.equal(res.count, 8);
    // web-02 nginx fails, web-04 silent, web-05 unreachable; the warning is a not-ok TODO, which tap-parser counts but does not fail on.
    assert.equal(res.fail, 4);
    assert.equal(res.todo, 1);
    assert.equal(res.failures.length, 3);
    assert.equal(res.ok, false);
    const byName = new Map(res.failures.map((f) => [f.name, f]));
    assert.equal(byName.get("web-02: nginx")?.diag?.message, "nginx is fail");
    assert.equal((byName.get("web-02: nginx")?.diag?.action as { output: string }).output, "Job failed\n<see log>");
    assert.equal(byName.get("web-04 answered")?.diag?.message, "no answer before the end");
    assert.equal(byName.get("web-05 answered")?.diag?.status, "unreachable");
    assert.match(text, /^ok 2 - web-01: disk$/m);
    assert.match(text, /^not ok 6 - web-03: disk # TODO warn$/m);
  });

  it("passes (ok) when everything passed; a warning fails it with -fail-on warn; a node that did not run a past batch is a SKIP", async () => {
    const good = report(["a"]);
    good.apply({ type: "result", node: "a", address: "a:3505", results: [r("x # y", "pass"), r("w", "warn")], elapsedMs: 1 });
    const passed = await parseTap(batchTap(good));
    assert.equal(passed.ok, true);
    assert.equal(passed.pass, 1);
    assert.equal(passed.todo, 1);

    const strict = report(["a"], "warn");
    strict.apply({ type: "result", node: "a", address: "a:3505", results: [r("w", "warn")], elapsedMs: 1 });
    assert.equal((await parseTap(batchTap(strict))).ok, false);

    const past = new BatchReport("fail", true);
    past.apply({
      type: "accepted",
      batchId: "cd".repeat(16),
      origin: "a",
      createdMs: 1,
      ttlMs: 1,
      expected: [
        { name: "a", address: "a:1" },
        { name: "b", address: "b:1" },
      ],
    });
    past.apply({ type: "result", node: "a", address: "a:1", results: [r("x", "pass")], elapsedMs: 1 });
    past.apply({ type: "rejected", node: "b", reason: "no record" });
    const res = await parseTap(batchTap(past));
    assert.equal(res.ok, true);
    assert.equal(res.skip, 1);
  });
});

// The Nagios plugin guidelines: "SERVICE STATUS: text | 'label'=value[UOM];[warn];[crit];[min];[max] ...", no "|" in the text.
const PERF = String.raw`[A-Za-z_][A-Za-z0-9_]*=-?\d+(\.\d+)?(s|ms|us|%|B|KB|MB|TB|c)?;(-?\d*);(-?\d*);(-?\d*);?(-?\d*)`;
const NAGIOS_LINE = new RegExp(String.raw`^GOSSIPCHECK (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+ \| ${PERF}( ${PERF})*$`);

describe("-output nagios", () => {
  it("one status line with perfdata by the plugin guidelines, long text after it, and the plugin exit codes", () => {
    const crit = batchNagios(mixed());
    const [first, ...rest] = crit.text.trimEnd().split("\n");
    assert.match(first!, NAGIOS_LINE);
    assert.match(
      first!,
      /^GOSSIPCHECK CRITICAL - 1 of 5 nodes failing: web-02; 2 of 5 nodes did not answer: web-04, web-05; 1 of 5 nodes warning: web-03; timed out \| expected=5;;;0 answered=3;;;0;5 failing=1;;0;0;5 warning=1;0;;0;5 missing=2;;;0;5$/,
    );
    assert.equal(crit.exitCode, 2);
    assert.deepEqual(rest, ["web-02: nginx fail: nginx is fail", "web-03: disk warn: disk is warn", "web-04: no answer", "web-05: unreachable: declared dead"]);
    for (const l of rest) assert.doesNotMatch(l, /\|/);

    const cases: [string, (rep: BatchReport) => void, number, string][] = [
      ["all pass", (rep) => rep.apply({ type: "result", node: "a", address: "a:1", results: [r("x", "pass")], elapsedMs: 1 }), 0, "OK"],
      ["a warning", (rep) => rep.apply({ type: "result", node: "a", address: "a:1", results: [r("x", "warn")], elapsedMs: 1 }), 1, "WARNING"],
      ["silent", () => undefined, 3, "UNKNOWN"],
    ];
    for (const [what, feed, code, state] of cases) {
      const rep = report(["a"]);
      feed(rep);
      const n = batchNagios(rep);
      assert.equal(n.exitCode, code, what);
      assert.match(n.text.split("\n")[0]!, NAGIOS_LINE, what);
      assert.ok(n.text.startsWith(`GOSSIPCHECK ${state} - `), what);
    }
  });

  it("writeBatchReport returns the Nagios code, not gcheck's", () => {
    const ctx = ctxFor("nagios");
    const rep = report(["a"]);
    rep.apply({ type: "result", node: "a", address: "a:1", results: [r("x", "warn")], elapsedMs: 1 });
    assert.equal(writeBatchReport(ctx, rep, 5), 1);
    assert.equal(rep.exitCode(), 0);
  });
});

describe("-output junit: timestamp, properties, description", () => {
  const t = tempDir("gc-junit-");
  const xmllint = spawnSync("xmllint", ["--version"]).status === 0;

  it("validates against the Jenkins JUnit schema with xmllint", { skip: !xmllint && "xmllint is not installed (Debian: libxml2-utils)" }, () => {
    const rep = mixed();
    rep.signer = "0a1b2c3d";
    for (const [name, xml] of [
      ["mixed.xml", batchJunit(rep, 40)],
      ["strict.xml", batchJunit(mixed("warn"), 40)],
    ] as const) {
      const file = join(t.path, name);
      writeFileSync(file, xml);
      const res = spawnSync("xmllint", ["--noout", "--schema", join(ROOT, "test/fixtures/jenkins-junit.xsd"), file], { encoding: "utf8" });
      assert.equal(res.status, 0, res.stderr);
    }
  });

  it("has the batch's properties on every testsuite, the wave when given, and the description in system-out", () => {
    const rep = mixed();
    rep.signer = "0a1b2c3d";
    const xml = batchJunit(rep, 40);
    assert.match(xml, /<testsuites [^>]* timestamp="2025-06-01T14:03:09">/);
    assert.equal(xml.match(/<property name="gossipcheck.batchId" value="abababababababababababababababab"\/>/g)?.length, 5);
    assert.equal(xml.match(/<property name="gossipcheck.signer" value="0a1b2c3d"\/>/g)?.length, 5);
    assert.equal(xml.match(/<property name="rollout.wave" value="2"\/>/g)?.length, 1);
    assert.match(xml, /<testcase classname="web-01" name="nginx" time="0.003">\n {6}<system-out>description: nginx # serves<\/system-out>\n {4}<\/testcase>/);
  });
});

describe("-output json after SIGINT", () => {
  it("is one document with what arrived, interrupted: true and the missing nodes; exit code as it would have been", () => {
    const rep = report(["a", "b"]);
    rep.apply({ type: "result", node: "a", address: "a:1", results: [r("x", "pass")], elapsedMs: 1 });
    rep.interrupted = true;
    const doc = JSON.parse(batchJson(rep, 10)) as { interrupted: boolean; missing: string[]; exitCode: number; timedOut: boolean };
    assert.deepEqual([doc.interrupted, doc.missing, doc.exitCode, doc.timedOut], [true, ["b"], 3, false]);
  });

  it("exits 130 when nothing at all arrived", () => {
    const rep = report(["a", "b"]);
    rep.interrupted = true;
    assert.equal(rep.exitCode(), 130);
    assert.equal((JSON.parse(batchJson(rep, 10)) as { exitCode: number }).exitCode, 130);
  });
});

describe("-group-by check and -failures-only", () => {
  function big(nodes: number): BatchReport {
    const names = Array.from({ length: nodes }, (_, i) => `web-${String(i + 1).padStart(3, "0")}`);
    const rep = report(names);
    for (const n of names)
      rep.apply({ type: "result", node: n, address: `${n}:1`, results: [r("nginx_running", n === "web-007" || n === "web-012" ? "fail" : "pass"), r("disk", "pass")], elapsedMs: 1 });
    return rep;
  }

  it("one line per check, failing checks first, with the nodes where it failed", () => {
    assert.equal(batchByCheck(big(500)), "nginx_running: 498 pass, 2 fail: web-007, web-012\ndisk: 500 pass\n");
    assert.equal(batchByCheck(big(500), true), "nginx_running: 498 pass, 2 fail: web-007, web-012\n");
  });

  it("-failures-only keeps the table's rows that did not pass", () => {
    const lines = batchTable(mixed(), true).trimEnd().split("\n");
    assert.deepEqual(
      lines.map((l) => l.split(/\s+/).slice(0, 3).join(" ")),
      ["NODE CHECK STATUS", "web-02 nginx FAIL", "web-04 - NO", "web-05 - UNREACHABLE", "web-03 disk WARN"],
    );
  });

  it("past 300 rows the table becomes the by-check view, said on stderr; -group-by node keeps every row", () => {
    const ctx = ctxFor("table");
    writeBatchReport(ctx, big(200), 5);
    assert.match(ctx.stdout.text, /^nginx_running: 198 pass, 2 fail: web-007, web-012\n/);
    assert.match(ctx.stderr.text, /400 rows: showing one line per check \(-group-by node for every row\)/);
    const all = ctxFor("table");
    writeBatchReport(all, big(200), 5, { groupBy: "node" });
    assert.equal(all.stdout.text.split("\n").length, 403);
    assert.equal(all.stderr.text, "");
  });
});

describe("progress line", () => {
  it("elapsed, time left before -timeout, the wave when events name one, and the pending nodes when 5 or fewer", () => {
    const rep = report(["a", "b", "c"]);
    rep.apply({ type: "result", node: "a", address: "a:1", results: [r("x", "pass")], elapsedMs: 1, wave: 1 } as never);
    assert.equal(progressText(rep, { elapsedMs: 4200, timeoutMs: 30_000 }), "1/3 nodes answered, 0 failing; wave 1; 4.20s elapsed, 25.8s left; waiting for b, c");
    const many = report(["a", "b", "c", "d", "e", "f"]);
    assert.equal(progressText(many, { elapsedMs: 0 }), "0/6 nodes answered, 0 failing; <1ms elapsed");
  });
});

describe("a rollout that stopped: the nodes it never reached, in every format", () => {
  const t = tempDir("gc-skipped-");
  const reason = "skipped: rollout stopped after wave 1 (1 failures > max 0)";
  function stopped(): BatchReport {
    const rep = report(["c1", "w2", "w3"]);
    rep.apply({ type: "result", node: "c1", address: "c1:3505", results: [r("nginx", "fail")], elapsedMs: 5, wave: 1 });
    rep.apply({ type: "skipped", node: "w2", address: "w2:3505", reason, wave: 2 });
    rep.apply({ type: "skipped", node: "w3", address: "w3:3505", reason, wave: 2 });
    rep.apply({ type: "done", elapsedMs: 40, timedOut: false, rollout: { id: "cd".repeat(16), outcome: "stopped", reason, wavesRun: 1, failures: 1 } });
    return rep;
  }

  it("names them by reason in the table's summary, as TAP SKIPs, JUnit skipped testcases (schema-valid) and ndjson skipped lines", async () => {
    const rep = stopped();
    assert.match(batchSummaryLine(rep, 40), /; skipped: rollout stopped after wave 1 \(1 failures > max 0\): w2, w3\n$/);
    assert.equal(rep.exitCode(), 1);
    const tap = await parseTap(batchTap(rep));
    assert.equal(tap.skip, 2);
    assert.equal(tap.fail, 1);
    const xml = batchJunit(rep, 40);
    assert.equal(xml.match(/<skipped message="skipped: rollout stopped after wave 1 \(1 failures &gt; max 0\)"\/>/g)?.length, 2);
    if (spawnSync("xmllint", ["--version"]).status === 0) {
      const file = join(t.path, "stopped.xml");
      writeFileSync(file, xml);
      const res = spawnSync("xmllint", ["--noout", "--schema", join(ROOT, "test/fixtures/jenkins-junit.xsd"), file], { encoding: "utf8" });
      assert.equal(res.status, 0, res.stderr);
    }
    const sink = ctxFor("ndjson");
    const w = new NdjsonWriter(sink.stdout);
    w.finish(rep, 40);
    const lines = sink.stdout.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; node?: string; wave?: number });
    assert.deepEqual(
      lines.filter((l) => l.event === "skipped").map((l) => [l.node, l.wave]),
      [
        ["w2", 2],
        ["w3", 2],
      ],
    );
  });
});
