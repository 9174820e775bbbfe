/*
 * History store benchmark (issue 14): what recording a batch costs the
 * daemon's event loop (recordBatch is synchronous), how big the database is
 * per 10,000 batches, and how long the questions gcheck asks take: one
 * batch by ID (gcheck results) and the last hour (gcheck history). The
 * batches are what a scheduled run of 10 checks records: one failing check
 * with its action's output, the rest passing, one every 10 s of virtual
 * time. The file lives in the system's temporary directory.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { VirtualClock } from "../src/base/clock.js";
import { nullLogger } from "../src/base/logger.js";
import type { CheckResult } from "../src/checks/types.js";
import { HISTORY_FILE_NAME, openHistory, type BatchToRecord, type HistoryStore } from "../src/history/store.js";
import { percentile, type BenchSection } from "./report.js";

const BATCHES = 10_000;
const CHECKS = 10;
const EVERY_MS = 10_000;
const QUERY_RUNS = 500;

function batchAt(i: number, finishedMs: number): BatchToRecord {
  const results: CheckResult[] = Array.from({ length: CHECKS }, (_, j) => {
    const failing = j === i % CHECKS && i % 7 === 0;
    return {
      name: `check_${j}`,
      type: j % 2 ? "service" : "file",
      status: failing ? "fixed" : "pass",
      message: failing ? `nginx.service was inactive (dead); restarted, active (running) since batch ${i}` : `check_${j}: as expected (${j % 2 ? "active (running)" : "mode 0644, owner root"})`,
      durationMs: 1 + (j % 5),
      ...(failing
        ? {
            action: {
              command: "systemctl restart nginx",
              exitCode: 0,
              signal: null,
              timedOut: false,
              output: "restarted nginx.service\n".repeat(8),
              outputTruncated: false,
              durationMs: 240,
              leftoversKilled: 0,
            },
          }
        : {}),
    };
  });
  return {
    batchId: (i * 2654435761).toString(16).padStart(32, "0"),
    origin: "web-07",
    submitter: "scheduler",
    signer: "",
    createdMs: finishedMs - 50,
    finishedMs,
    dryRun: false,
    schedule: "base",
    checks: Object.fromEntries(Array.from({ length: CHECKS }, (_, j) => [`check_${j}`, { type: j % 2 ? "service" : "file", path: `/etc/app/${j}.conf` }])),
    results,
  };
}

function timed<T>(fn: () => T): { value: T; us: number } {
  const t = performance.now();
  const value = fn();
  return { value, us: (performance.now() - t) * 1000 };
}

const f = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`);

export async function run(): Promise<BenchSection[]> {
  const dir = mkdtempSync(join(tmpdir(), "bench-history-"));
  const start = Date.UTC(2026, 0, 1);
  const clock = new VirtualClock(start);
  const open = (): HistoryStore => {
    const r = openHistory(dir, { log: nullLogger, clock });
    if (!r.ok) throw new Error(`bench: ${r.error}`);
    return r.value;
  };
  try {
    let h = open();
    const writes: number[] = [];
    for (let i = 0; i < BATCHES; i++) {
      const b = batchAt(i, start + i * EVERY_MS);
      writes.push(timed(() => h.recordBatch(b)).us);
    }
    const c = h.counters();
    if (c.writeErrors) throw new Error(`bench: ${c.writeErrors} write errors: ${h.degraded()}`);
    h.close();
    const fileBytes = statSync(join(dir, HISTORY_FILE_NAME)).size;

    // Queries on the reopened file (warm page cache, as on a running node).
    await clock.advance(BATCHES * EVERY_MS);
    h = open();
    const now = start + BATCHES * EVERY_MS;
    const ids = Array.from({ length: QUERY_RUNS }, (_, k) => batchAt((k * 7919) % BATCHES, 0).batchId);
    const byId = ids.map((id) => timed(() => h.batch(id)));
    if (byId.some((r) => r.value?.results?.length !== CHECKS)) throw new Error("bench: a batch came back without its results");
    const lastHour = Array.from({ length: QUERY_RUNS / 5 }, () => timed(() => h.query({ sinceMs: now - 3_600_000 })));
    const hourRows = lastHour[0]!.value.batches.length;
    const checkDay = Array.from({ length: QUERY_RUNS / 5 }, () => timed(() => h.query({ check: "check_3", sinceMs: now - 86_400_000 })));
    const failing = Array.from({ length: QUERY_RUNS / 5 }, () => timed(() => h.query({ status: "fixed" })));
    h.close();

    const row = (what: string, xs: number[], n: string) => [what, f(percentile(xs, 50)), f(percentile(xs, 90)), f(percentile(xs, 99)), n];
    return [
      {
        title: `History store: ${BATCHES} batches of ${CHECKS} checks recorded, then queried (better-sqlite3, WAL, synchronous=NORMAL)`,
        columns: ["operation", "p50", "p90", "p99", "rows"],
        rows: [
          row("recordBatch (one transaction: batch + 10 results)", writes, String(BATCHES)),
          row(
            "batch(id) with its results (gcheck results)",
            byId.map((r) => r.us),
            "1 + 10",
          ),
          row(
            "query: the last hour (gcheck history -since 1h)",
            lastHour.map((r) => r.us),
            String(hourRows),
          ),
          row(
            "query: one check over a day (-check C -since 24h)",
            checkDay.map((r) => r.us),
            String(checkDay[0]!.value.batches.length),
          ),
          row(
            "query: a status over all 28 h (-status fixed)",
            failing.map((r) => r.us),
            String(failing[0]!.value.batches.length),
          ),
        ],
        notes: [
          `Database size for ${BATCHES} batches: ${(c.bytes / 2 ** 20).toFixed(1)} MiB of live pages, file ${(fileBytes / 2 ** 20).toFixed(1)} MiB after close (${(c.bytes / BATCHES / 1024).toFixed(1)} KiB per batch; at the default 256 MiB bound a node keeps about ${Math.floor((256 * 2 ** 20) / (c.bytes / BATCHES)).toLocaleString("en")} such batches).`,
          `One batch every ${EVERY_MS / 1000} s of virtual time (${((BATCHES * EVERY_MS) / 3_600_000).toFixed(0)} h); every 7th batch has one fixed check with ${"restarted nginx.service\n".length * 8} bytes of action output.`,
          "recordBatch is timed around the call: JSON of the results, the transaction, the write-ahead log append (no fsync: synchronous=NORMAL syncs at checkpoints, which are in these numbers too).",
          `Queries: ${QUERY_RUNS} batch(id) lookups of spread IDs, ${QUERY_RUNS / 5} runs of each query (answers of at most maxQueryRows = 1000 rows).`,
        ],
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
