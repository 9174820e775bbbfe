import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VirtualClock } from "../src/base/clock.js";
import { nullLogger, type Logger } from "../src/base/logger.js";
import { ACTION_OUTPUT_LIMIT_BYTES } from "../src/checks/action.js";
import type { CheckResult, CheckStatus } from "../src/checks/types.js";
import type { TransitionRecord } from "../src/control/watch_types.js";
import { DAY_MS } from "../src/history/config.js";
import { HISTORY_FILE_NAME, openHistory, type BatchToRecord, type HistoryStore } from "../src/history/store.js";
import { SCHEMA_VERSION } from "../src/history/schema.js";

const root = mkdtempSync(join(tmpdir(), "history-"));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
function freshDir(): string {
  const d = join(root, `d${++dirs}`);
  mkdirSync(d);
  return d;
}

function recordingLogger(): Logger & { lines: { level: string; obj: Record<string, unknown>; msg: string }[] } {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg = "") =>
      void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Opens a store; on a virtual clock at 0 unless given one, so that no real timer outlives a test and the small times below are recent. */
function open(dir: string, opts: Parameters<typeof openHistory>[1] = { log: nullLogger }): HistoryStore {
  const r = openHistory(dir, { clock: new VirtualClock(0), ...opts });
  assert.ok(r.ok, r.ok ? "" : r.error);
  return r.value;
}

function result(name: string, status: CheckStatus, extra: Partial<CheckResult> = {}): CheckResult {
  return { name, type: "file", status, message: `${name} is ${status}`, durationMs: 3, ...extra };
}

function batch(id: string, finishedMs: number, results: CheckResult[], extra: Partial<BatchToRecord> = {}): BatchToRecord {
  return {
    batchId: id,
    origin: "web-01",
    submitter: "alice@ops",
    signer: "",
    createdMs: finishedMs - 100,
    finishedMs,
    dryRun: false,
    schedule: "",
    checks: Object.fromEntries(results.map((r) => [r.name, { type: r.type, path: "/etc/hosts" }])),
    results,
    ...extra,
  };
}

function transition(check: string, from: TransitionRecord["from"], to: CheckStatus, atMs: number, schedule = "base"): TransitionRecord {
  return { node: "web-01", schedule, check, from, to, atMs, message: `${check}: ${from} -> ${to}` };
}

describe("history store", () => {
  it("a batch round-trips with its check file, its results in order (action outcome and output included) and counts by status", () => {
    const dir = freshDir();
    const h = open(dir);
    const action = { command: "systemctl restart nginx", exitCode: 0, signal: null, timedOut: false, output: "restarted\n", outputTruncated: false, durationMs: 120, leftoversKilled: 0 };
    const results = [result("nginx_running", "fixed", { action }), result("disk", "warn"), result("ntp", "fail"), result("hosts", "pass", { description: "hosts file" })];
    h.recordBatch(batch("b-1", 1_000, results, { signer: "SHA256:abc", dryRun: true }));
    const got = h.batch("b-1");
    assert.ok(got);
    assert.deepEqual(got.results, results);
    assert.deepEqual(got.counts, { fixed: 1, warn: 1, fail: 1, pass: 1 });
    assert.deepEqual(got.checks, batch("b-1", 1_000, results).checks);
    assert.equal(got.signer, "SHA256:abc");
    assert.equal(got.dryRun, true);
    assert.equal(got.createdMs, 900);
    assert.equal(h.batch("no-such-batch"), undefined);
    h.close();

    // And it is all still there after a reopen.
    const again = open(dir);
    assert.deepEqual(again.batch("b-1")?.results, results);
    assert.equal(again.counters().batches, 1);
    again.close();
  });

  it("a batch recorded again replaces the earlier record, results and all", () => {
    const h = open(freshDir());
    h.recordBatch(batch("b-1", 1_000, [result("a", "fail"), result("b", "fail")]));
    h.recordBatch(batch("b-1", 2_000, [result("a", "pass")]));
    assert.deepEqual(h.batch("b-1")?.results, [result("a", "pass")]);
    assert.equal(h.counters().batches, 1);
    assert.equal(h.query({ check: "b" }).batches.length, 0);
    h.close();
  });

  it("transitions and the audit log round-trip, newest first", () => {
    const h = open(freshDir());
    h.recordTransition(transition("nginx", "none", "pass", 1_000));
    h.recordTransition(transition("nginx", "pass", "fail", 2_000));
    h.audit({ atMs: 1_500, kind: "schedule-set", summary: "schedule base set by alice (3 checks)", subject: "base" });
    h.audit({ atMs: 2_500, kind: "envelope-refused", summary: "forged envelope from 10.0.0.9", subject: "ab12" });
    assert.deepEqual(h.query({}).transitions, [transition("nginx", "pass", "fail", 2_000), transition("nginx", "none", "pass", 1_000)]);
    assert.deepEqual(
      h.auditLog({}).map((a) => a.kind),
      ["envelope-refused", "schedule-set"],
    );
    assert.deepEqual(
      h.auditLog({ sinceMs: 2_000 }).map((a) => a.subject),
      ["ab12"],
    );
    assert.deepEqual(h.auditLog({ limit: 1 }).length, 1);
    const c = h.counters();
    assert.equal(c.transitions, 2);
    assert.equal(c.auditEntries, 2);
    assert.equal(c.writeErrors, 0);
    assert.equal(c.degraded, 0);
    assert.ok(c.bytes > 0);
    h.close();
  });

  it("queries filter by check, time, status and schedule; a check filter carries that check's result", () => {
    const h = open(freshDir());
    h.recordBatch(batch("b-1", 1_000, [result("nginx", "pass"), result("disk", "fail")]));
    h.recordBatch(batch("b-2", 2_000, [result("nginx", "fail"), result("disk", "pass")], { schedule: "web" }));
    h.recordBatch(batch("b-3", 3_000, [result("nginx", "fail")], { schedule: "web" }));
    h.recordBatch(batch("b-4", 4_000, [result("ntp", "warn")]));
    h.recordTransition(transition("nginx", "pass", "fail", 2_000, "web"));
    h.recordTransition(transition("disk", "fail", "pass", 2_000, "other"));
    const ids = (q: Parameters<HistoryStore["query"]>[0]) => h.query(q).batches.map((b) => b.batchId);

    assert.deepEqual(ids({}), ["b-4", "b-3", "b-2", "b-1"]);
    assert.deepEqual(ids({ sinceMs: 2_000 }), ["b-4", "b-3", "b-2"]);
    assert.deepEqual(ids({ check: "nginx" }), ["b-3", "b-2", "b-1"]);
    assert.deepEqual(ids({ check: "nginx", status: "fail" }), ["b-3", "b-2"]);
    assert.deepEqual(ids({ check: "nginx", status: "fail", sinceMs: 2_500 }), ["b-3"]);
    assert.deepEqual(ids({ status: "fail" }), ["b-3", "b-2", "b-1"]);
    assert.deepEqual(ids({ status: "warn" }), ["b-4"]);
    assert.deepEqual(ids({ status: "pass" }), ["b-2", "b-1"]);
    assert.deepEqual(ids({ schedule: "web" }), ["b-3", "b-2"]);
    assert.deepEqual(ids({ schedule: "web", check: "disk" }), ["b-2"]);
    assert.deepEqual(ids({ check: "no-such-check" }), []);

    const withCheck = h.query({ check: "disk" });
    assert.deepEqual(
      withCheck.batches.map((b) => b.results),
      [[result("disk", "pass")], [result("disk", "fail")]],
    );
    assert.equal(h.query({}).batches[0]!.results, undefined, "without a check filter a batch comes with its counts only");

    assert.deepEqual(
      h.query({ check: "nginx" }).transitions.map((t) => t.check),
      ["nginx"],
    );
    assert.deepEqual(
      h.query({ status: "pass" }).transitions.map((t) => t.check),
      ["disk"],
    );
    assert.deepEqual(
      h.query({ schedule: "other" }).transitions.map((t) => t.schedule),
      ["other"],
    );
    h.close();
  });

  it("query results are bounded by the caller's limit and by maxQueryRows, and say when they were cut", () => {
    const h = open(freshDir(), { log: nullLogger, config: { maxQueryRows: 5 } });
    for (let i = 0; i < 8; i++) h.recordBatch(batch(`b-${i}`, 1_000 + i, [result("a", "pass")]));
    const all = h.query({});
    assert.equal(all.batches.length, 5);
    assert.equal(all.batches[0]!.batchId, "b-7");
    assert.equal(all.truncated, true);
    assert.equal(h.query({ limit: 1000 }).batches.length, 5);
    assert.deepEqual(
      h.query({ limit: 2 }).batches.map((b) => b.batchId),
      ["b-7", "b-6"],
    );
    assert.equal(h.query({ sinceMs: 1_005 }).truncated, false);
    for (let i = 0; i < 7; i++) h.audit({ atMs: i, kind: "k", summary: "s", subject: "" });
    assert.equal(h.auditLog({}).length, 5);
    h.close();
  });

  it("stores an action's output at most ACTION_OUTPUT_LIMIT_BYTES long, marked truncated", () => {
    const h = open(freshDir());
    const output = "x".repeat(ACTION_OUTPUT_LIMIT_BYTES + 5000);
    const action = { command: "yes", exitCode: 0, signal: null, timedOut: false, output, outputTruncated: false, durationMs: 1, leftoversKilled: 0 };
    h.recordBatch(batch("b-1", 1_000, [result("big", "fixed", { action })]));
    const stored = h.batch("b-1")!.results![0]!.action!;
    assert.equal(stored.output.length, ACTION_OUTPUT_LIMIT_BYTES);
    assert.equal(stored.outputTruncated, true);
    h.close();
  });

  it("retention by age: on each prune timer, rows older than retentionMs go, newer ones stay", async () => {
    const clock = new VirtualClock(100 * DAY_MS);
    const h = open(freshDir(), { log: nullLogger, clock, config: { retentionMs: 2 * DAY_MS, pruneEveryMs: 60_000 } });
    const t0 = clock.now();
    h.recordBatch(batch("old", t0, [result("a", "fail")]));
    h.recordTransition(transition("a", "pass", "fail", t0));
    h.audit({ atMs: t0, kind: "key-op", summary: "old", subject: "" });
    await clock.advance(DAY_MS);
    h.recordBatch(batch("new", clock.now(), [result("a", "pass")]));
    h.recordTransition(transition("a", "fail", "pass", clock.now()));
    h.audit({ atMs: clock.now(), kind: "key-op", summary: "new", subject: "" });
    assert.equal(h.counters().batches, 2);

    // Just past two days after the first rows, the next prune (at most a minute later) takes them and only them.
    await clock.advance(DAY_MS + 1);
    assert.equal(h.counters().batches, 2, "no prune has run yet in this minute");
    assert.notEqual(await clock.runUntil(() => h.counters().batches === 1, 60_000, 1_000), -1, "the old batch was pruned within pruneEveryMs");
    assert.equal(h.batch("old"), undefined);
    assert.ok(h.batch("new"));
    assert.deepEqual(
      h.query({}).transitions.map((t) => t.to),
      ["pass"],
    );
    assert.deepEqual(
      h.auditLog({}).map((a) => a.summary),
      ["new"],
    );
    assert.equal(h.query({ check: "a" }).batches.length, 1, "the old batch's results went with it");
    assert.equal(h.counters().pruned, 3);
    h.close();
  });

  it("retention by age also runs when the store opens (time passed while the node was down)", () => {
    const clock = new VirtualClock(100 * DAY_MS);
    const dir = freshDir();
    const h = open(dir, { log: nullLogger, clock, config: { retentionMs: DAY_MS } });
    h.recordBatch(batch("old", clock.now() - 2 * DAY_MS, [result("a", "pass")]));
    h.close();
    const again = open(dir, { log: nullLogger, clock, config: { retentionMs: DAY_MS } });
    assert.equal(again.batch("old"), undefined);
    assert.equal(again.counters().batches, 0);
    again.close();
  });

  it("retention by size: live data stays under maxBytes, oldest first, and the file shrinks when the bound is lowered", async () => {
    const clock = new VirtualClock();
    const dir = freshDir();
    const maxBytes = 1024 * 1024;
    const h = open(dir, { log: nullLogger, clock, config: { maxBytes } });
    const output = "o".repeat(2000);
    const action = { command: "fix", exitCode: 0, signal: null, timedOut: false, output, outputTruncated: false, durationMs: 1, leftoversKilled: 0 };
    const results = Array.from({ length: 10 }, (_, i) => result(`check_${i}`, "fixed", { action }));
    for (let i = 0; i < 400; i++) {
      h.recordBatch(batch(`b-${i}`, clock.now() + i, results));
      // Between two timer runs, writes alone keep it within about one check interval of the bound.
      assert.ok(h.counters().bytes <= maxBytes + 256 * 1024, `after batch ${i}: ${h.counters().bytes} bytes`);
    }
    await clock.advance(60_000);
    const c = h.counters();
    assert.ok(c.bytes <= maxBytes, `${c.bytes} > ${maxBytes}`);
    assert.ok(c.pruned > 0 && c.batches < 400 && c.batches > 10, JSON.stringify(c));
    // Oldest first: what is left is the newest, without a gap.
    const ids = h.query({ limit: 1000 }).batches.map((b) => Number(b.batchId.slice(2)));
    assert.equal(ids[0], 399);
    assert.deepEqual(
      ids,
      ids.map((_, i) => 399 - i),
    );
    h.close();
    const before = statSync(join(dir, HISTORY_FILE_NAME)).size;
    assert.ok(before <= maxBytes * 1.2, `file ${before} bytes`);

    // A lower bound: the file (after close, the log checkpointed into it) shrinks with it.
    const smaller = open(dir, { log: nullLogger, clock, config: { maxBytes: maxBytes / 4 } });
    assert.ok(smaller.counters().bytes <= maxBytes / 4);
    smaller.close();
    const after = statSync(join(dir, HISTORY_FILE_NAME)).size;
    assert.ok(after <= (maxBytes / 4) * 1.2, `file ${after} bytes after lowering the bound (was ${before})`);
  });

  it("a file that is not a database is set aside with a timestamp, logged, and an empty history opened", () => {
    const dir = freshDir();
    writeFileSync(join(dir, HISTORY_FILE_NAME), "this is not an SQLite database, it is a text file long enough to have a header".repeat(100));
    const log = recordingLogger();
    const h = open(dir, { log, clock: new VirtualClock(Date.UTC(2030, 0, 2, 3, 4, 5)) });
    h.recordBatch(batch("b-1", 1, [result("a", "pass")]));
    assert.ok(h.batch("b-1"));
    h.close();
    const aside = readdirSync(dir).filter((f) => f.startsWith(`${HISTORY_FILE_NAME}.corrupt-`));
    assert.deepEqual(aside, [`${HISTORY_FILE_NAME}.corrupt-2030-01-02T03-04-05-000Z`]);
    const line = log.lines.find((l) => l.level === "warn");
    assert.ok(line && /set aside/.test(line.msg) && /SQLITE_NOTADB/.test(String(line.obj.error)), JSON.stringify(log.lines));
  });

  it("a database from a newer gossipcheckd is refused, naming the file, the versions and what to do", () => {
    const dir = freshDir();
    open(dir).close();
    const Database = createRequire(import.meta.url)("better-sqlite3") as typeof BetterSqlite3;
    const db = new Database(join(dir, HISTORY_FILE_NAME));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const r = openHistory(dir, { log: nullLogger, clock: new VirtualClock(0) });
    assert.equal(r.ok, false);
    assert.match(
      r.ok ? "" : r.error,
      new RegExp(`${HISTORY_FILE_NAME} has history schema version ${SCHEMA_VERSION + 1}, newer than this gossipcheckd knows \\(${SCHEMA_VERSION}\\): run the newer gossipcheckd`),
    );
    assert.ok(existsSync(join(dir, HISTORY_FILE_NAME)), "a newer file is left where it is");
  });

  it("a data dir that cannot be opened is an error naming the file, not an exception", () => {
    const r = openHistory(join(root, "no", "such", "dir"), { log: nullLogger, clock: new VirtualClock(0) });
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.error, /no\/such\/dir\/history\.sqlite: Cannot open database because the directory does not exist/);
  });

  it("after close, writes are ignored and reads are empty, without throwing", () => {
    const h = open(freshDir());
    h.close();
    h.recordBatch(batch("b-1", 1, [result("a", "pass")]));
    h.audit({ atMs: 1, kind: "k", summary: "s", subject: "" });
    assert.equal(h.batch("b-1"), undefined);
    assert.deepEqual(h.query({}), { batches: [], transitions: [], truncated: false });
    h.close();
  });

  it("uses WAL, synchronous NORMAL and incremental auto_vacuum, at the current schema version", () => {
    const dir = freshDir();
    open(dir).close();
    const Database = createRequire(import.meta.url)("better-sqlite3") as typeof BetterSqlite3;
    const db = new Database(join(dir, HISTORY_FILE_NAME), { readonly: true });
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(db.pragma("auto_vacuum", { simple: true }), 2);
    assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join("; ");
    assert.match(plan("SELECT * FROM batches WHERE batch_id = 'x'"), /batches_by_id/);
    assert.match(plan("SELECT * FROM batches WHERE finished_ms >= 5 ORDER BY finished_ms DESC"), /batches_by_time/);
    assert.match(plan("SELECT * FROM results WHERE check_name = 'a' AND finished_ms >= 5"), /results_by_check/);
    assert.match(plan("SELECT batch_seq FROM results WHERE status = 'fail' AND status <> 'pass' AND finished_ms >= 5"), /results_not_pass/);
    db.close();
  });
});
