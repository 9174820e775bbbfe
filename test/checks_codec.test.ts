import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeCheckBatch, descriptionsOf, encodeCheckBatch, fromWireReport, toWireReport, type CheckBatch } from "../src/checks/codec.js";
import type { CheckResult } from "../src/checks/index.js";
import { pb } from "../src/proto/index.js";

const batch: CheckBatch = {
  checks: [
    { name: "resolv_has_8888", type: "file_contains", path: "/etc/resolv.conf", check: "8.8.8.8", action: "echo 8.8.8.8 >> /etc/resolv.conf", timeoutMs: 1500 },
    { name: "nginx", type: "process_running", check: "nginx: master", action: "service nginx start", keepChildren: true, description: "web" },
    { name: "pid", type: "file_exists", path: "/var/run/syslog.pid" },
  ],
  dryRun: true,
  targetNodes: ["a", "b"],
  targetTags: { role: "web" },
};

describe("check batch and report codec", () => {
  it("round-trips a batch", () => {
    assert.deepEqual(decodeCheckBatch(encodeCheckBatch(batch)), { ok: true, batch });
  });

  it("carries the submitter, cut to 256 characters; an older node's batch (none) decodes without one", () => {
    const signedBy = { ...batch, submitter: "ops@bastion" };
    assert.deepEqual(decodeCheckBatch(encodeCheckBatch(signedBy)), { ok: true, batch: signedBy });
    const long = decodeCheckBatch(encodeCheckBatch({ ...batch, submitter: "x".repeat(1000) }));
    assert.ok(long.ok && long.batch.submitter?.length === 256);
    const none = decodeCheckBatch(encodeCheckBatch(batch));
    assert.ok(none.ok && !("submitter" in none.batch));
  });

  it("round-trips results, null exit codes and skipped actions included", () => {
    const results: CheckResult[] = [
      { name: "a", type: "file_exists", status: "pass", message: "m1", durationMs: 1.5 },
      {
        name: "b",
        type: "file_exists",
        status: "fixed",
        message: "m2",
        durationMs: 20,
        description: "d",
        action: { command: "touch x", exitCode: 0, signal: null, timedOut: false, output: "ok\n", outputTruncated: false, durationMs: 9, leftoversKilled: 0 },
      },
      {
        name: "c",
        type: "process_running",
        status: "fail",
        message: "m3",
        durationMs: 60_000,
        action: { command: "sleep 99", exitCode: null, signal: "SIGTERM", timedOut: true, output: "", outputTruncated: true, durationMs: 60_000, leftoversKilled: 3 },
      },
      {
        name: "d",
        type: "file_contains",
        status: "fail",
        message: "m4",
        durationMs: 0.1,
        action: { command: "x", exitCode: null, signal: null, timedOut: false, output: "", outputTruncated: false, durationMs: 0, leftoversKilled: 0, skipped: "action skipped: dry run" },
      },
      { name: "e", type: "file_exists", status: "error", message: "m5", durationMs: 2 },
    ];
    const bytes = pb.CheckReport.encode(toWireReport(results)).finish();
    assert.deepEqual(fromWireReport(pb.CheckReport.decode(bytes), descriptionsOf([{ name: "b", description: "d" }, { name: "a" }])), results);
  });

  it("leaves the checks' descriptions out of a node's report; the origin fills them in from its batch, and keeps one an older node sent", () => {
    const big = "described at length ".repeat(50_000); // 1 MB: what every node would send back
    const results: CheckResult[] = [
      { name: "a", type: "file_exists", status: "pass", message: "ok", durationMs: 1, description: big },
      { name: "b", type: "file_exists", status: "pass", message: "ok", durationMs: 1 },
    ];
    const bytes = pb.CheckReport.encode(toWireReport(results)).finish();
    assert.ok(bytes.length < 200, `the report is ${bytes.length} bytes`);
    const descriptions = descriptionsOf([
      { name: "a", description: big },
      { name: "b", description: "" },
    ]);
    assert.deepEqual(fromWireReport(pb.CheckReport.decode(bytes), descriptions), results);
    assert.equal(fromWireReport(pb.CheckReport.decode(bytes))[0]!.description, undefined, "no batch to fill from: no description");
    // An older node's report, descriptions included: its own is kept.
    const older = pb.CheckReport.encode(toWireReport([{ ...results[0]!, description: "as the node had it" }], { descriptions: true })).finish();
    assert.equal(fromWireReport(pb.CheckReport.decode(older), descriptions)[0]!.description, "as the node had it");
  });

  it("validates the checks of a batch from the network like a check file", () => {
    const bad = encodeCheckBatch({ ...batch, checks: [{ name: "c", type: "file_contains", path: "/x" } as never, { name: "c", type: "file_exists", path: "/y" }] });
    assert.deepEqual(decodeCheckBatch(bad), {
      ok: false,
      errors: ['check batch: check "c": field "check" is missing: file_contains needs the text to search for', 'check batch: check "c" appears twice: check names must be unique'],
    });
    const badType = pb.CheckBatch.encode({ checks: [{ name: "x", type: "rm_rf", path: "/" }] }).finish();
    assert.match((decodeCheckBatch(badType) as { errors: string[] }).errors[0]!, /^check batch: check "x": field "type": unknown type "rm_rf"/);
    const badTimeout = pb.CheckBatch.encode({ checks: [{ name: "x", type: "file_exists", path: "/", timeoutMs: -5 }] }).finish();
    assert.match((decodeCheckBatch(badTimeout) as { errors: string[] }).errors[0]!, /field "timeout"/);
    assert.deepEqual(decodeCheckBatch(pb.CheckBatch.encode({}).finish()), { ok: false, errors: ["check batch: no checks"] });
  });

  it("round-trips a scheduled check's interval, splay and quorum", () => {
    const scheduled: CheckBatch = {
      ...batch,
      checks: [
        { name: "api", type: "http", params: { url: "http://api:8080/health" }, intervalMs: 15_000, splayMs: 2500.5, quorum: "majority" },
        { name: "db", type: "tcp", params: { address: "db:5432" }, intervalMs: 86_400_000, quorum: 3 },
        { name: "once", type: "file_exists", path: "/x", intervalMs: 1000 },
      ],
    };
    assert.deepEqual(decodeCheckBatch(encodeCheckBatch(scheduled)), { ok: true, batch: scheduled });
    const wire = pb.CheckBatch.decode(encodeCheckBatch(scheduled)).checks;
    assert.deepEqual(
      wire.map((c) => [c.intervalMs, c.splayMs, c.quorum]),
      [
        [15_000, 2500.5, "majority"],
        [86_400_000, 0, "3"],
        [1000, 0, ""],
      ],
    );
  });

  it("validates a scheduled check from the network: the quorum string, the interval's bounds, no shadowing through params", () => {
    const errors = (c: pb.Check.$Properties) => (decodeCheckBatch(pb.CheckBatch.encode({ checks: [{ name: "x", type: "file_exists", path: "/", ...c }] }).finish()) as { errors: string[] }).errors;
    for (const quorum of ["most", "0", "-1", "1.5", " 2", "02"]) {
      assert.deepEqual(errors({ intervalMs: 1000, quorum }), [`check batch: check "x": quorum ${JSON.stringify(quorum)} is neither "majority" nor a count of nodes`]);
    }
    assert.match(errors({ quorum: "2" })[0]!, /field "quorum" needs an "interval"/);
    assert.match(errors({ intervalMs: 999 })[0]!, /field "interval": "999ms" is shorter than 1s/);
    assert.match(errors({ intervalMs: -5 })[0]!, /field "interval": "-5ms" is not a duration/);
    assert.match(errors({ intervalMs: 1000, splayMs: 2000 })[0]!, /field "splay": "2000ms" is longer than the interval/);
    assert.deepEqual(errors({ paramsJson: JSON.stringify({ mode: "0644", interval: "1s", quorum: 1 }) }), ['check batch: check "x": params may not carry interval, quorum']);
  });

  it("never throws on garbage", () => {
    let x = 7;
    for (let n = 0; n < 2000; n++) {
      const bytes = new Uint8Array(n % 64).map(() => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
      const r = decodeCheckBatch(bytes);
      assert.equal(typeof r.ok, "boolean");
    }
    assert.equal(decodeCheckBatch(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f])).ok, false);
  });

  it("carries warn across the wire under a number of its own, the older statuses keeping theirs", () => {
    // Numbers are the wire contract with nodes of other versions: never renumber.
    assert.deepEqual([pb.CheckStatus.PASS, pb.CheckStatus.FAIL, pb.CheckStatus.FIXED, pb.CheckStatus.ERROR, pb.CheckStatus.WARN], [1, 2, 3, 4, 5]);
    const results: CheckResult[] = [
      { name: "disk", type: "nagios", status: "warn", message: "DISK WARNING - free space: / 812 MB (9%)", durationMs: 12 },
      {
        name: "after",
        type: "file_exists",
        status: "warn",
        message: "warning after the action",
        durationMs: 30,
        action: { command: "fix", exitCode: 0, signal: null, timedOut: false, output: "", outputTruncated: false, durationMs: 20, leftoversKilled: 0 },
      },
    ];
    const wire = toWireReport(results);
    assert.deepEqual(
      wire.results?.map((r) => r.status),
      [pb.CheckStatus.WARN, pb.CheckStatus.WARN],
    );
    const bytes = pb.CheckReport.encode(wire).finish();
    assert.deepEqual(fromWireReport(pb.CheckReport.decode(bytes)), results);
  });

  it("turns a status it does not know into an error result (so a newer node's status never reads as a pass)", () => {
    const [r] = fromWireReport({ results: [{ name: "a", type: "file_exists", status: 42 as pb.CheckStatus, message: "from the future" }] });
    assert.equal(r!.status, "error");
    assert.equal(r!.message, "unknown status 42 from the node: from the future");
  });
});
