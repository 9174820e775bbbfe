import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CheckResult, CheckStatus } from "../src/checks/types.js";
import type { BatchEvent, BatchSummary, DaemonInfo } from "../src/control/api_types.js";
import type { CheckState, HistoryEvent, NodeHistoryAnswer, QuorumVerdict, ScheduleInfo } from "../src/control/watch_types.js";
import type { OutputFormat } from "../src/cli/context.js";
import { type CollectedContext, collectingContext } from "./support/cli_context.js";
import { history } from "../src/cli/commands/history.js";
import { results } from "../src/cli/commands/results.js";
import { schedule } from "../src/cli/commands/schedule.js";
import { status } from "../src/cli/commands/status.js";
import { HistoryReport } from "../src/cli/history_report.js";
import { batchJunit } from "../src/cli/output/junit.js";
import { mergeHistory } from "../src/cli/output/history.js";
import { aggregateStatus, statusExitCode, statusLine, statusText } from "../src/cli/output/status.js";
import { batchSummaryLine, batchTable } from "../src/cli/output/table.js";
import { BatchReport } from "../src/cli/report.js";
import type { ControlBackend, HistoryRequest, HistoryStart, ResultsRequest, ScheduleChange, ScheduleSetRequest } from "../src/daemon/api/backend.js";
import { type ControlApi, startControlApi } from "../src/daemon/api/server.js";
import { nullLogger } from "../src/base/logger.js";
import type { Member } from "../src/swim/types.js";

/*
 * gcheck schedule, results, history and status: the pure parts (aggregating
 * 40 nodes' states, a past batch's report with nodes that did not run it,
 * merging histories) and the commands themselves against a control API
 * with a fake backend in this process.
 */

const names = Array.from({ length: 40 }, (_, i) => `web-${String(i + 1).padStart(2, "0")}`);
const ref = (n: string) => ({ name: n, address: `${n}:3505` });

function state(check: string, st: CheckStatus, extra: Partial<CheckState> = {}): CheckState {
  return { schedule: "web", check, status: st, message: `${check} ${st}`, sinceMs: 1, lastRunMs: 2, intervalMs: 30_000, suppressed: 0, ...extra };
}

/** 40 nodes: nginx fails on web-07 and web-12; disk warns on 12 nodes; api (quorum 3) fails on 4 nodes, so its verdict fails. */
function fleet(): { node: string; answer: Extract<NodeHistoryAnswer, { what: "status" }> }[] {
  const failingApi = new Set(["web-01", "web-02", "web-03", "web-04"]);
  const votes = names.map((n) => ({ node: n, status: (failingApi.has(n) ? "fail" : "pass") as CheckStatus, atMs: 5 }));
  const verdict: QuorumVerdict = { schedule: "web", check: "api", quorum: 3, needed: 3, failing: true, votes, firer: "web-01", sinceMs: 10 };
  return names.map((n, i) => ({
    node: n,
    answer: {
      what: "status",
      checks: [
        state("nginx_running", n === "web-07" || n === "web-12" ? "fail" : "pass"),
        state("disk", i >= 28 ? "warn" : i === 0 ? "fixed" : "pass"),
        state("api", failingApi.has(n) ? "fail" : "pass", { quorum: 3 }),
      ],
      verdicts: [verdict],
    },
  }));
}

function statusReport(answers: ReturnType<typeof fleet>, expected = names): HistoryReport {
  const rep = new HistoryReport();
  rep.apply({ type: "accepted", id: "01".repeat(16), origin: "web-01", createdMs: 1, expected: expected.map(ref) });
  for (const a of answers) rep.apply({ type: "answer", node: a.node, address: `${a.node}:3505`, answer: a.answer, elapsedMs: 3 });
  return rep;
}

describe("gcheck status: aggregation of 40 nodes", () => {
  it("one line per check: counts by status, the nodes where it does not pass, failing checks first", () => {
    const agg = aggregateStatus(fleet());
    assert.deepEqual(agg.checks.map(statusLine), [
      "web/api: 36 pass, 4 fail: web-01, web-02, web-03, web-04 [quorum 3]",
      "web/disk: 27 pass, 1 fixed, 12 warn: web-29, web-30, web-31, web-32, web-33, web-34, web-35, web-36, web-37, web-38 and 2 more",
      "web/nginx_running: 38 pass, 2 fail: web-07, web-12",
    ]);
  });

  it("names each node's status when several are named, worst first", () => {
    const answers = fleet();
    answers[5]!.answer.checks[0] = state("nginx_running", "error");
    answers[6]!.answer.checks[0] = state("nginx_running", "warn");
    const line = aggregateStatus(answers).checks.find((c) => c.check === "nginx_running")!;
    assert.equal(statusLine(line), "web/nginx_running: 37 pass, 1 warn, 1 fail, 1 error: web-06 (error), web-12 (fail), web-07 (warn)");
  });

  it("the verdicts table and the summary; the firer's view is the one shown", () => {
    const answers = fleet();
    // Another voter has not heard every vote yet: the firer's view is shown, and the disagreement said.
    const lagging = answers[20]!.answer.verdicts[0]!;
    answers[20]!.answer.verdicts[0] = { ...lagging, failing: false, sinceMs: 99 };
    const rep = statusReport(answers);
    const agg = aggregateStatus(rep.answers("status"));
    assert.equal(agg.verdicts[0]!.seenBy, "web-01");
    const text = statusText(rep, agg, 42);
    assert.match(text, /^QUORUM CHECK +NEEDED +VERDICT +VOTES$/m);
    assert.match(text, /^web\/api +3 of 40 \(3\) +FAILING +4 of 40 failing: web-01, web-02, web-03, web-04 \(nodes disagree: votes still spreading\)$/m);
    assert.match(text, /\n40\/40 nodes answered; 3 scheduled checks, 3 not passing everywhere; 1 of 1 quorum verdicts failing; 42ms\n$/);
  });

  it("exit codes: 1 for a failing check or verdict; a quorum check's own failures count only through its verdict; 3 for a silent node", () => {
    const failing = statusReport(fleet());
    assert.equal(statusExitCode(failing, aggregateStatus(failing.answers("status")), "fail"), 1);

    // nginx passes everywhere and the api verdict is ok although 4 nodes see api failing: 0; with -fail-on warn the disk warnings make it 1.
    const calm = fleet().map((a) => ({
      ...a,
      answer: {
        ...a.answer,
        checks: a.answer.checks.map((c) => (c.check === "nginx_running" ? { ...c, status: "pass" as const } : c)),
        verdicts: a.answer.verdicts.map((v) => ({ ...v, failing: false })),
      },
    }));
    const ok = statusReport(calm);
    assert.equal(statusExitCode(ok, aggregateStatus(ok.answers("status")), "fail"), 0);
    assert.equal(statusExitCode(ok, aggregateStatus(ok.answers("status")), "warn"), 1);

    const silent = statusReport(calm.slice(1));
    silent.apply({ type: "done", elapsedMs: 10_000, timedOut: true });
    assert.equal(statusExitCode(silent, aggregateStatus(silent.answers("status")), "fail"), 3);
    assert.match(statusText(silent, aggregateStatus(silent.answers("status")), 10_000), /39\/40 nodes answered; .*not answered: web-01 \(no answer\); timed out\n$/);
  });
});

describe("gcheck results: a past batch's report", () => {
  const r = (name: string, st: CheckStatus): CheckResult => ({ name, type: "file_exists", status: st, message: `${name} ${st}`, durationMs: 1 });

  it("nodes that did not run the batch are listed apart, not as failing or missing", () => {
    const rep = new BatchReport("fail", true);
    rep.apply({ type: "accepted", batchId: "ab".repeat(16), origin: "a", createdMs: 1, ttlMs: 0, expected: ["a", "b", "c", "d"].map(ref) });
    rep.apply({ type: "result", node: "a", address: "a:3505", results: [r("x", "pass")], elapsedMs: 2 });
    rep.apply({ type: "result", node: "b", address: "b:3505", results: [r("x", "fixed")], elapsedMs: 2 });
    rep.apply({ type: "rejected", node: "c", reason: "did not run this batch" });
    rep.apply({ type: "rejected", node: "d", reason: "did not run this batch" });
    rep.apply({ type: "done", elapsedMs: 5, timedOut: false });
    assert.equal(rep.exitCode(), 0);
    assert.equal(rep.summary().notRun, 2);
    assert.equal(batchSummaryLine(rep, 5), "2/2 nodes answered; checks: 1 passed, 1 fixed, 0 failed, 0 errored; 5ms; did not run this batch: c, d\n");
    assert.doesNotMatch(batchTable(rep), /^c /m);
    assert.doesNotMatch(batchJunit(rep, 5), /name="c"/);
    // The same events in a live batch: a refusal is a failure.
    const live = new BatchReport("fail");
    live.apply({ type: "accepted", batchId: "ab".repeat(16), origin: "a", createdMs: 1, ttlMs: 0, expected: [ref("c")] });
    live.apply({ type: "rejected", node: "c", reason: "unsigned" });
    assert.equal(live.exitCode(), 1);
  });
});

describe("gcheck history: merging the nodes' answers", () => {
  it("newest first across nodes, at most -limit of each, truncation said", () => {
    const rep = new HistoryReport();
    rep.apply({ type: "accepted", id: "01".repeat(16), origin: "a", createdMs: 1, expected: [ref("a"), ref("b")] });
    const batch = (id: string, finishedMs: number) => ({
      batchId: id.repeat(32),
      origin: "a",
      submitter: "ops@x",
      signer: "",
      createdMs: 1,
      finishedMs,
      dryRun: false,
      schedule: "",
      counts: { pass: 1 },
    });
    const tr = (node: string, atMs: number) => ({ node, schedule: "web", check: "nginx", from: "pass" as const, to: "fail" as const, atMs, message: "down" });
    rep.apply({ type: "answer", node: "a", address: "a:1", answer: { what: "history", batches: [batch("1", 10), batch("3", 30)], transitions: [tr("a", 5)], truncated: false }, elapsedMs: 1 });
    rep.apply({ type: "answer", node: "b", address: "b:1", answer: { what: "history", batches: [batch("2", 20)], transitions: [tr("b", 7), tr("b", 1)], truncated: false }, elapsedMs: 1 });
    const merged = mergeHistory(rep, 2);
    assert.deepEqual(
      merged.batches.map((b) => [b.node, b.finishedMs]),
      [
        ["a", 30],
        ["b", 20],
      ],
    );
    assert.deepEqual(
      merged.transitions.map((t) => [t.node, t.atMs]),
      [
        ["b", 7],
        ["a", 5],
      ],
    );
    assert.equal(merged.truncated, true);
    assert.equal(mergeHistory(rep, 100).truncated, false);
  });
});

/* ---- The commands against a control API with a fake backend. ---- */

class FakeBackend implements ControlBackend {
  sets: ScheduleSetRequest[] = [];
  questions: HistoryRequest[] = [];
  info(): Omit<DaemonInfo, "cliAddress"> {
    return {
      name: "web-01",
      version: "9",
      protocolVersion: 1,
      address: "127.0.0.1:3505",
      pid: 1,
      startedMs: 0,
      uptimeMs: 1,
      tags: {},
      actionsEnabled: true,
      members: { alive: 40, suspect: 0, dead: 0, left: 0 },
      counters: {},
    };
  }
  async localCheck(): Promise<CheckResult[]> {
    return [];
  }
  members(): Member[] {
    return [];
  }
  async *submitBatch(): AsyncIterable<BatchEvent> {}
  batches(): BatchSummary[] {
    return [];
  }
  schedules(): ScheduleInfo[] {
    return [
      {
        name: "web",
        version: Date.UTC(2025, 5, 1, 14, 3, 9),
        id: "ab".repeat(16),
        origin: "web-01",
        submitter: "ops@x",
        signer: "",
        checks: 3,
        nodes: [],
        tags: { role: "web" },
        runsHere: true,
        source: "cluster",
      },
    ];
  }
  schedule(name: string): ScheduleInfo | undefined {
    return this.schedules().find((s) => s.name === name);
  }
  setSchedule(request: ScheduleSetRequest): ScheduleChange {
    this.sets.push(request);
    return { ok: true, change: { name: request.name, version: Date.UTC(2025, 5, 1, 14, 3, 9), id: "cd".repeat(16), removed: false } };
  }
  batchResults(request: ResultsRequest): HistoryStart<BatchEvent> {
    const events: BatchEvent[] = [
      { type: "accepted", batchId: request.batchId, origin: "web-01", createdMs: 1, ttlMs: 0, expected: [ref("web-01"), ref("web-02")] },
      { type: "result", node: "web-01", address: "web-01:3505", results: [{ name: "x", type: "file_exists", status: "fail", message: "gone", durationMs: 1 }], elapsedMs: 2 },
      { type: "rejected", node: "web-02", reason: "did not run this batch" },
      { type: "done", elapsedMs: 3, timedOut: false },
    ];
    return {
      ok: true,
      events: (async function* () {
        yield* events;
      })(),
    };
  }
  clusterHistory(what: "history" | "status", request: HistoryRequest): HistoryStart<HistoryEvent> {
    this.questions.push(request);
    const answers = fleet();
    const events: HistoryEvent[] = [
      { type: "accepted", id: "01".repeat(16), origin: "web-01", createdMs: 1, expected: names.map(ref) },
      ...answers.map((a) => ({
        type: "answer" as const,
        node: a.node,
        address: `${a.node}:3505`,
        answer:
          what === "status"
            ? a.answer
            : {
                what: "history" as const,
                batches: [],
                transitions: [
                  { node: a.node, schedule: "web", check: "nginx_running", from: "pass" as const, to: "fail" as const, atMs: 1_000 + names.indexOf(a.node), message: "nginx is not running" },
                ],
                truncated: false,
              },
        elapsedMs: 1,
      })),
      { type: "done", elapsedMs: 3, timedOut: false },
    ];
    return {
      ok: true,
      events: (async function* () {
        yield* events;
      })(),
    };
  }
}

/** A context whose output is collected; -file from file. */
function context(server: string, output: OutputFormat, file?: string): CollectedContext {
  return collectingContext(server, output, file !== undefined ? { file } : {});
}

describe("gcheck commands against a control API", () => {
  let api: ControlApi;
  let backend: FakeBackend;
  let dir: string;
  before(async () => {
    backend = new FakeBackend();
    const started = await startControlApi({ bind: { host: "127.0.0.1", port: 0 }, backend, log: nullLogger });
    assert.ok(started.ok);
    api = started.api;
    dir = await mkdtemp(join(tmpdir(), "gcheck-watch-"));
  });
  after(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("status: the aggregate lines, exit 1; -output json carries the per-node answers and the aggregate", async () => {
    const t = context(api.address, "table");
    assert.equal(await status(t.ctx, { timeout: "5s", failOn: "fail" }), 1);
    assert.match(t.out(), /^web\/nginx_running: 38 pass, 2 fail: web-07, web-12$/m);
    const j = context(api.address, "json");
    assert.equal(await status(j.ctx, { timeout: "5s", failOn: "fail", tag: ["role=web"] }), 1);
    const doc = JSON.parse(j.out()) as { exitCode: number; checks: unknown[]; verdicts: unknown[]; nodes: { answer: unknown }[] };
    assert.equal(doc.exitCode, 1);
    assert.equal(doc.nodes.length, 40);
    assert.ok(doc.nodes.every((n) => n.answer !== undefined));
    assert.equal(doc.checks.length, 3);
    assert.deepEqual(backend.questions.at(-1)!.tags, { role: "web" });
  });

  it("schedule set validates the file locally (every check needs an interval), then prints the version set", async () => {
    const once = join(dir, "once.json");
    await writeFile(once, JSON.stringify({ x: { type: "file_exists", path: "/x" } }));
    await assert.rejects(schedule(context(api.address, "table", once).ctx, { name: "web", args: ["set"] }), /once\.json: check "x" has no "interval"/);
    await assert.rejects(schedule(context(api.address, "table", once).ctx, { name: "a b", args: ["set"] }), /-name: "a b" is not a schedule name/);
    const good = join(dir, "web.json");
    await writeFile(good, JSON.stringify({ nginx: { type: "process_running", check: "nginx", interval: "30s" } }));
    const t = context(api.address, "table", good);
    assert.equal(await schedule(t.ctx, { name: "web", tag: ["role=web"], args: ["set"] }), 0);
    assert.equal(t.out(), "schedule web version 1748786589000 (2025-06-01T14:03:09Z) set on web-01; spreading to the cluster\n");
    const req = backend.sets.at(-1)!;
    assert.deepEqual([req.name, req.tags, req.checks[0]!.intervalMs], ["web", { role: "web" }, 30_000]);
    assert.match(req.submitter, /.@./);
  });

  it("schedule list and show", async () => {
    const t = context(api.address, "table");
    assert.equal(await schedule(t.ctx, { args: ["list"] }), 0);
    assert.match(t.out(), /^NAME +VERSION +CHECKS +TARGET +SOURCE +RUNS HERE +SIGNER$/m);
    assert.match(t.out(), /^web +2025-06-01T14:03:09Z +3 +tags role=web +cluster +yes +-$/m);
    const s = context(api.address, "table");
    assert.equal(await schedule(s.ctx, { args: ["show", "web"] }), 0);
    assert.match(s.out(), /^target: +tags role=web$/m);
    await assert.rejects(schedule(context(api.address, "table").ctx, { args: ["show", "db"] }), /answered 404: no schedule named db/);
    await assert.rejects(schedule(context(api.address, "table").ctx, { args: ["frobnicate"] }), /unknown schedule operation "frobnicate"/);
  });

  it("results: check's report; a node that did not run the batch is listed apart; exit 1 for the failure", async () => {
    const t = context(api.address, "table");
    assert.equal(await results(t.ctx, { timeout: "5s", failOn: "fail", args: ["AB".repeat(16)] }), 1);
    assert.match(t.out(), /^web-01 +x +FAIL/m);
    assert.match(t.out(), /1\/1 nodes answered; .*; did not run this batch: web-02\n$/);
    await assert.rejects(results(context(api.address, "table").ctx, { timeout: "5s", failOn: "fail", args: ["xyz"] }), /"xyz" is not a batch ID/);
  });

  it("history: transitions merged newest first, -since and -limit sent", async () => {
    const t = context(api.address, "table");
    const before = Date.now();
    assert.equal(await history(t.ctx, { since: "1h", limit: "3", timeout: "5s", status: "fail" }), 0);
    const rows = t
      .out()
      .split("\n")
      .filter((l) => l.includes("pass -> fail"));
    assert.deepEqual(
      rows.map((l) => l.split(/\s+/)[1]),
      ["web-40", "web-39", "web-38"],
    );
    assert.match(t.out(), /40\/40 nodes answered; 0 batches, 3 transitions; more are recorded/);
    const q = backend.questions.at(-1)!;
    assert.equal(q.limit, 3);
    assert.equal(q.status, "fail");
    assert.ok(q.sinceMs! >= before - 3_600_000 - 1000 && q.sinceMs! <= Date.now() - 3_600_000);
  });
});
