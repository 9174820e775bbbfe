import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { encodeCheckBatch, fromWireReport, toWireReport } from "../src/checks/codec.js";
import { parseCheckObject, runBatch } from "../src/checks/index.js";
import { parsePluginOutput } from "../src/checks/nagios.js";
import type { CheckResult } from "../src/checks/types.js";

/*
 * The nagios check type against the real plugins of Debian's
 * monitoring-plugins-basic (.ci/run installs it): the exit status mapping,
 * the message, the performance data, and the report-only rule.
 */

const PLUGINS = "/usr/lib/nagios/plugins";
const skip = existsSync(`${PLUGINS}/check_dummy`) ? false : `no Nagios plugins in ${PLUGINS} (apt-get install monitoring-plugins-basic)`;

async function run(command: string, allowCommands = true): Promise<CheckResult> {
  const parsed = parseCheckObject({ n: { type: "nagios", command } }, "test");
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.errors.join("; "));
  const [r] = await runBatch(parsed.checks, { batchId: "b", node: "n", runActions: true, allowCommands });
  return r!;
}

describe("nagios checks with the real plugins", { skip }, () => {
  let server: Server;
  let port = 0;
  before(async () => {
    // A tcp probe ends with a reset (src/checks/tcp.ts): the server sees ECONNRESET.
    server = createServer((s) => {
      s.on("error", () => {});
      s.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  after(() => server.close());

  it("maps exit 0, 1, 2 and 3 to pass, warn, fail and error, with the plugin's first line as the message", async () => {
    const r = await Promise.all([0, 1, 2, 3].map((code) => run(`${PLUGINS}/check_dummy ${code} 'said ${code}'`)));
    assert.deepEqual(
      r.map((x) => x.status),
      ["pass", "warn", "fail", "error"],
    );
    assert.match(r[0]!.message, /^OK: said 0$/);
    assert.match(r[1]!.message, /^WARNING: said 1$/);
    assert.match(r[3]!.message, /^UNKNOWN: said 3 \(UNKNOWN \(exit status 3\)\)$/);
  });

  it("check_load: passes under thresholds no host reaches, with load1/5/15 as performance data", async () => {
    const r = await run(`${PLUGINS}/check_load -w 1000,1000,1000 -c 2000,2000,2000`);
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /^LOAD OK/);
    assert.deepEqual(
      r.perfdata?.map((d) => d.label),
      ["load1", "load5", "load15"],
    );
    assert.equal(r.perfdata?.[0]?.warn, "1000.000");
  });

  it("check_disk: critical when / must have 100% free, with the used bytes and the size as performance data", async () => {
    const r = await run(`${PLUGINS}/check_disk -w 100% -c 100% -p /`);
    assert.equal(r.status, "fail", r.message);
    assert.match(r.message, /^DISK CRITICAL/);
    const d = r.perfdata?.find((x) => x.label === "/");
    assert.ok(d && d.unit === "B" && d.value > 0 && d.max !== undefined && d.value <= d.max, JSON.stringify(r.perfdata));
  });

  it("check_procs and check_tcp: a running process, an open and a closed port", async () => {
    // A process of the test's own with a unique argument: a Node binary's
    // command name is not "node" on every version (Node 24 names its threads).
    const sleeper = spawn("sleep", ["3021.5"], { stdio: "ignore" });
    try {
      assert.equal((await run(`${PLUGINS}/check_procs -c 1: -C sleep -a 3021.5`)).status, "pass");
    } finally {
      sleeper.kill("SIGKILL");
    }
    assert.equal((await run(`${PLUGINS}/check_tcp -H 127.0.0.1 -p ${port}`)).status, "pass");
    const closed = await run(`${PLUGINS}/check_tcp -H 127.0.0.1 -p 1 -t 2`);
    assert.equal(closed.status, "fail", closed.message);
    assert.match(closed.message, /Connection refused/);
  });

  it("is not run on a report-only node (-no-actions)", async () => {
    const r = await run(`${PLUGINS}/check_dummy 0 ok`, false);
    assert.equal(r.status, "error");
    assert.match(r.message, /report-only \(-no-actions\)/);
  });

  it("its performance data travels in the report and survives the wire; garbage from a peer is dropped, not trusted", async () => {
    const r = await run(`${PLUGINS}/check_dummy 1 'x|a=1s;2;3;0;10 b=5%'`);
    const [back] = fromWireReport(toWireReport([r]));
    assert.deepEqual(back?.perfdata, r.perfdata);
    assert.equal(back?.status, "warn");
    const hostile = fromWireReport({ results: [{ name: "n", type: "nagios", status: 1, message: "m", perfdataJson: '[{"label":1},{"label":"ok","value":2,"unit":""},"x"]' }] });
    assert.deepEqual(hostile[0]?.perfdata, [{ label: "ok", value: 2, unit: "" }]);
    assert.equal(fromWireReport({ results: [{ name: "n", type: "nagios", status: 1, message: "m", perfdataJson: "{not json" }] })[0]?.perfdata, undefined);
  });
});

describe("plugin output", () => {
  it("parses quoted labels, units, ranges, min and max, and long-output performance data", () => {
    const out = "DISK OK - fine|'/var log'=5GB;10:;~:20;0;100 load=1.5\nmore text\nstill text|extra=3c;;;;\nnext=4";
    const { text, perfdata } = parsePluginOutput(out);
    assert.equal(text, "DISK OK - fine");
    assert.deepEqual(perfdata, [
      { label: "/var log", value: 5, unit: "GB", warn: "10:", crit: "~:20", min: 0, max: 100 },
      { label: "load", value: 1.5, unit: "" },
      { label: "extra", value: 3, unit: "c" },
      { label: "next", value: 4, unit: "" },
    ]);
  });

  it("never throws on garbage, and keeps at most 64 items", () => {
    assert.deepEqual(parsePluginOutput("no bar at all").perfdata, []);
    assert.deepEqual(parsePluginOutput("x|=3 a= b=U c=nan").perfdata, []);
    assert.equal(parsePluginOutput("x|" + Array.from({ length: 200 }, (_, i) => `m${i}=${i}`).join(" ")).perfdata.length, 64);
  });

  it("its fields cross the wire in a batch", () => {
    const parsed = parseCheckObject({ n: { type: "nagios", command: "check_dummy 0" } }, "t");
    assert.ok(parsed.ok);
    assert.ok(encodeCheckBatch({ checks: parsed.checks, dryRun: false, targetNodes: [], targetTags: {} }).length > 0);
  });
});
