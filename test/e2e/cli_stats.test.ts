import assert from "node:assert/strict";
import os from "node:os";
import { after, before, describe, it } from "node:test";
import type { NodeStats, StatsEvent } from "../../src/control/api_types.js";
import { formatBytes, formatUptime, formatUsage, statsSummary, statsTable } from "../../src/cli/output/stats.js";
import { StatsReport } from "../../src/cli/stats_report.js";
import { type ClusterNode, infoOf, startCluster, stopAll, waitForView } from "../support/daemon_cluster.js";
import { ndjsonEvents, runGcheck, waitFor } from "../support/proc.js";

/*
 * Node stats on three real daemons: a daemon starts without
 * systeminformation and loads it on its first stats request; GET /v1/stats
 * and POST /v1/stats work with plain HTTP (curl); `gcheck stats` shows every
 * node with figures of this very machine, as a table or JSON, targets by
 * -node and -tag, refuses what it cannot do (exit 2), and exits 3 when a
 * node does not answer.
 */

const NAMES = ["sa", "sb", "sc"];
const ROLE: Record<string, string> = { sa: "web", sb: "db", sc: "db" };
let nodes: ClusterNode[] = [];

before(async () => {
  nodes = await startCluster(NAMES, (n) => ["-tag", `role=${ROLE[n]}`]);
  await waitForView(
    nodes,
    NAMES.map((n) => `${n}:alive`),
  );
});
after(() => stopAll(nodes));

const node = (name: string) => nodes.find((n) => n.name === name)!;
const loaded = async (n: ClusterNode) => (await infoOf(n)).counters.stats_systeminformationLoaded;

interface StatsDoc {
  exitCode: number;
  timedOut: boolean;
  summary: { expected: number; answered: number; unreachable: number; rejected: number; silent: number };
  nodes: { node: string; state: string; stats?: NodeStats; reason?: string }[];
}

async function statsJson(...argv: string[]): Promise<StatsDoc> {
  const r = await runGcheck(["-server", node("sa").cli, "stats", "-output", "json", ...argv]);
  assert.equal(r.code, 0, `gcheck stats ${argv.join(" ")}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as StatsDoc;
}

/** The figures every node reports about this one machine, and about itself. */
function assertSane(s: NodeStats, daemon: ClusterNode): void {
  assert.equal(s.node, daemon.name);
  assert.equal(s.process.pid, daemon.proc.pid, "the node reports its own process");
  assert.ok(s.process.rssBytes > 1e6);
  assert.equal(s.cpu.count, os.cpus().length);
  assert.ok(s.memory && Math.abs(s.memory.totalBytes - os.totalmem()) <= os.totalmem() * 0.01, `memory ${JSON.stringify(s.memory)}`);
  assert.ok(s.disk && s.disk.totalBytes > 0 && s.disk.usedBytes <= s.disk.totalBytes);
  assert.ok(s.uptime.daemonMs > 0 && s.uptime.hostMs > s.uptime.daemonMs);
  assert.equal(s.gossipcheck.membersAlive, NAMES.length);
}

/**
 * Waits until every node answers with all its probes. Each probe has a
 * deadline (a stats answer must not wait on a hung probe), and the first
 * probes of a daemon load systeminformation and read the host cold: on a
 * host loaded by the rest of the suite they have been seen to miss it. Once
 * a node has answered whole, later answers come from warm probes.
 */
async function untilEveryProbeAnswers(via: ClusterNode): Promise<void> {
  await waitFor(
    async () => {
      const res = await fetch(`http://${via.cli}/v1/stats`, { method: "POST", body: JSON.stringify({ timeoutMs: 20_000 }) });
      const results = (await ndjsonEvents<StatsEvent>(res)).filter((e): e is Extract<StatsEvent, { type: "result" }> => e.type === "result");
      return results.length === NAMES.length && results.every((r) => r.stats.memory !== undefined && r.stats.disk !== undefined);
    },
    60_000,
    "every node's stats probes to answer",
  );
}

describe("node stats on three daemons", () => {
  it("a daemon does not load systeminformation until its first stats request; GET /v1/stats answers for that node", async () => {
    for (const n of nodes) assert.equal(await loaded(n), 0, `${n.name} loaded systeminformation at start-up`);
    const res = await fetch(`http://${node("sb").cli}/v1/stats`);
    assert.equal(res.status, 200);
    assertSane((await res.json()) as NodeStats, node("sb"));
    assert.equal(await loaded(node("sb")), 1);
    assert.equal(await loaded(node("sa")), 0, "the others were not asked");
  });

  it("POST /v1/stats streams accepted, one result per node, then done (curl is enough)", async () => {
    await untilEveryProbeAnswers(node("sc"));
    const res = await fetch(`http://${node("sc").cli}/v1/stats`, { method: "POST", body: JSON.stringify({ timeoutMs: 20_000 }) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /ndjson/);
    const events = await ndjsonEvents<StatsEvent>(res);
    assert.deepEqual(
      events.map((e) => e.type),
      ["accepted", "result", "result", "result", "done"],
    );
    const results = events.filter((e): e is Extract<StatsEvent, { type: "result" }> => e.type === "result");
    assert.deepEqual(results.map((r) => r.node).sort(), NAMES);
    for (const r of results) assertSane(r.stats, node(r.node));
    assert.deepEqual(events.at(-1), { type: "done", elapsedMs: (events.at(-1) as { elapsedMs: number }).elapsedMs, timedOut: false });
    const bad = await fetch(`http://${node("sc").cli}/v1/stats`, { method: "POST", body: JSON.stringify({ nodes: "sa" }) });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /field "nodes" must be an array/);
  });

  it("gcheck stats: a row per node sorted by name with this machine's figures, and the summary; exit 0", async () => {
    await untilEveryProbeAnswers(node("sc"));
    const r = await runGcheck(["-server", node("sc").cli, "stats"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^NODE\s+LOAD 1M\s+CPU\s+MEMORY\s+DISK \/\s+UPTIME\s+RSS\s+NOTE$/);
    const rows = lines.slice(1, -1).map((l) => l.split(/\s{2,}/));
    assert.deepEqual(
      rows.map((c) => c[0]),
      NAMES,
    );
    for (const c of rows) {
      assert.match(c[1]!, /^\d+\.\d\d$/, `load 1m in ${c.join(" | ")}`);
      assert.match(c[2]!, /^\d+%$/, `cpu in ${c.join(" | ")}`);
      assert.match(c[3]!, /^\d+(\.\d)?\/\d+(\.\d)? [KMGT]iB \(\d+%\)$/, `memory in ${c.join(" | ")}`);
      assert.match(c[4]!, /^\d+(\.\d)?\/\d+(\.\d)? [KMGTP]iB \(\d+%\)$/, `disk in ${c.join(" | ")}`);
      assert.match(c[6]!, /^\d+(\.\d)? MiB$/, `rss in ${c.join(" | ")}`);
      assert.equal(c[7], undefined, "no probe failed, so no note");
    }
    assert.match(lines.at(-1)!, new RegExp(`^3/3 nodes answered; ${3 * os.cpus().length} CPUs; memory `));
  });

  it("--output json: one document with every node's stats", async () => {
    const doc = await statsJson();
    assert.equal(doc.exitCode, 0);
    assert.equal(doc.timedOut, false);
    assert.deepEqual(doc.summary, { expected: 3, answered: 3, unreachable: 0, rejected: 0, silent: 0 });
    assert.deepEqual(
      doc.nodes.map((n) => [n.node, n.state]),
      NAMES.map((n) => [n, "answered"]),
    );
    for (const n of doc.nodes) {
      assertSane(n.stats!, node(n.node));
      assert.deepEqual(n.stats!.errors, []);
    }
  });

  it("-node and -tag choose which nodes answer", async () => {
    assert.deepEqual(
      (await statsJson("-node", "sb")).nodes.map((n) => n.node),
      ["sb"],
    );
    assert.deepEqual(
      (await statsJson("-node", "sa", "-node", "sc")).nodes.map((n) => n.node),
      ["sa", "sc"],
    );
    assert.deepEqual(
      (await statsJson("-tag", "role=db")).nodes.map((n) => n.node),
      ["sb", "sc"],
    );
    const none = await runGcheck(["-server", node("sa").cli, "stats", "-node", "nobody"]);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stderr, /no node matched the targeting/);
    assert.match(none.stdout, /^0\/0 nodes answered/m);
  });

  it("usage and connection errors exit 2 with one line", async () => {
    const cases: [string[], RegExp][] = [
      [["-output", "junit"], /-output junit is not available for stats: use table or json/],
      [["-timeout", "soon"], /-timeout "soon": expected a duration/],
      [["-tag", "role"], /role/],
    ];
    for (const [argv, message] of cases) {
      const r = await runGcheck(["-server", node("sa").cli, "stats", ...argv]);
      assert.equal(r.code, 2, `${argv.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const down = await runGcheck(["-server", "127.0.0.1:1", "stats"]);
    assert.equal(down.code, 2);
    assert.match(down.stderr, /gossipcheckd not reachable at 127\.0\.0\.1:1/);
  });

  it("a node killed (kill -9) just before the request does not answer: gcheck says so and exits 3", async () => {
    const victim = node("sc");
    await victim.proc.kill9();
    const r = await runGcheck(["-server", node("sa").cli, "stats", "-timeout", "1s", "-output", "json"]);
    const doc = JSON.parse(r.stdout) as StatsDoc & { expected: { name: string }[] };
    assert.ok(
      doc.expected.some((e) => e.name === victim.name),
      `the origin still counted ${victim.name} alive at the request`,
    );
    assert.equal(r.code, 3, r.stderr);
    assert.equal(doc.exitCode, 3);
    assert.deepEqual(
      doc.nodes.map((n) => [n.node, n.state === "answered" ? "answered" : "missing"]),
      [
        ["sa", "answered"],
        ["sb", "answered"],
        ["sc", "missing"],
      ],
    );
    assert.equal(doc.summary.answered, 2);
  });
});

describe("gcheck stats output", () => {
  const stats = (name: string): NodeStats => ({
    node: name,
    sampledMs: 0,
    cpu: { count: 4, loadAverage: [1.5, 1, 0.5], loadPercent: 37.4, model: "X" },
    memory: { totalBytes: 16 * 2 ** 30, usedBytes: 4 * 2 ** 30, availableBytes: 12 * 2 ** 30, swapTotalBytes: 0, swapUsedBytes: 0 },
    uptime: { hostMs: 3 * 86_400_000 + 4 * 3_600_000 + 5000, daemonMs: 1000 },
    process: { pid: 1, rssBytes: 66_015_232, heapUsedBytes: 1, heapTotalBytes: 2 },
    gossipcheck: { version: "1", membersAlive: 3, members: { alive: 3, suspect: 0, dead: 0, left: 0 } },
    errors: ["disk: no answer within 2000 ms"],
  });

  it("rows by name, absent figures as -, a note for failed probes and for nodes without an answer", () => {
    const report = new StatsReport();
    const events: StatsEvent[] = [
      { type: "accepted", id: "ab", origin: "n2", createdMs: 0, expected: ["n3", "n1", "n2", "n4"].map((name) => ({ name, address: `127.0.0.1:${name.slice(1)}` })) },
      { type: "result", node: "n2", address: "127.0.0.1:2", stats: stats("n2"), elapsedMs: 3 },
      { type: "unreachable", node: "n3", address: "127.0.0.1:3", reason: "declared dead by the membership" },
      { type: "rejected", node: "n4", reason: "not run: could not record it" },
      { type: "done", elapsedMs: 1000, timedOut: true },
    ];
    for (const e of events) report.apply(e);
    assert.equal(report.exitCode(), 3);
    assert.equal(
      statsTable(report),
      [
        "NODE  LOAD 1M  CPU  MEMORY              DISK /  UPTIME  RSS       NOTE",
        "n1    -        -    -                   -       -       -         NO ANSWER: no answer from 127.0.0.1:1 before the end",
        "n2    1.50     37%  4.0/16.0 GiB (25%)  -       3d04h   63.0 MiB  disk: no answer within 2000 ms",
        "n3    -        -    -                   -       -       -         UNREACHABLE: declared dead by the membership",
        "n4    -        -    -                   -       -       -         REFUSED: not run: could not record it",
        "",
      ].join("\n"),
    );
    assert.equal(statsSummary(report, 1000), "1/4 nodes answered; 4 CPUs; memory 4.0/16.0 GiB (25%); 1.00s; not answered: n1 (no answer), n3 (unreachable), n4 (rejected); timed out\n");
  });

  it("sizes in binary units, uptimes in days past a day", () => {
    assert.deepEqual([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(5 * 2 ** 40)], ["0 B", "1023 B", "1.5 KiB", "5.0 TiB"]);
    assert.equal(formatUsage(21.7 * 2 ** 30, 252 * 2 ** 30), "21.7/252 GiB (9%)");
    assert.deepEqual([formatUptime(42_000), formatUptime(2 * 3_600_000 + 60_000), formatUptime(86_400_000)], ["42.0s", "2h01m", "1d00h"]);
  });
});
