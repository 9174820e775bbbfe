import { after, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { waitFor } from "./support/proc.js";
import { HISTORY_FILE_NAME } from "../src/history/store.js";

const dir = mkdtempSync(join(tmpdir(), "history-crash-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const ROUNDS = 10;
const STORE_URL = new URL("../src/history/store.js", import.meta.url).href;
/** Batch i has this many results; the check after a crash compares against it. */
const resultsOf = (i: number) => (i % 13) + 1;

/**
 * The writer: batches as fast as it can (with transitions and audit entries
 * between them), against a 1 MiB bound with a 50 ms prune timer so that
 * deletes and incremental vacuums run all the time too. It prints each
 * batch's number once recordBatch has returned without a write error.
 */
const WRITER = `
const { openHistory } = await import(${JSON.stringify(STORE_URL)});
const [dir, start, t0] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const warn = (o, m) => process.stderr.write(m + " " + JSON.stringify(o) + "\\n");
const r = openHistory(dir, { log: { debug() {}, info() {}, warn, error: warn }, config: { maxBytes: 1024 * 1024, pruneEveryMs: 50 } });
if (!r.ok) { process.stderr.write(r.error + "\\n"); process.exit(2); }
const h = r.value;
let i = start;
const output = "x".repeat(300);
function burst() {
  for (let k = 0; k < 20; k++, i++) {
    const results = Array.from({ length: (i % 13) + 1 }, (_, j) => ({ name: "check_" + j, type: "command", status: j % 4 === 0 ? "fixed" : "pass", message: "ok " + i, durationMs: 1,
      action: j % 4 === 0 ? { command: "fix", exitCode: 0, signal: null, timedOut: false, output, outputTruncated: false, durationMs: 2, leftoversKilled: 0 } : undefined }));
    h.recordBatch({ batchId: "b" + i, origin: "n1", submitter: "crash-test", signer: "", createdMs: t0 + i, finishedMs: t0 + i, dryRun: false, schedule: "s", checks: { check_0: { type: "command", command: "true" } }, results });
    if (h.degraded()) { process.stderr.write("degraded: " + h.degraded() + "\\n"); process.exit(3); }
    process.stdout.write(i + "\\n");
    if (i % 5 === 0) h.recordTransition({ node: "n1", schedule: "s", check: "check_0", from: "pass", to: "fail", atMs: t0 + i, message: "m" });
    if (i % 9 === 0) h.audit({ atMs: t0 + i, kind: "key-op", summary: "summary " + i, subject: "" });
  }
  setImmediate(burst);
}
burst();
`;

function check(file: string): { integrity: string; ids: number[]; incomplete: string[] } {
  const Database = createRequire(import.meta.url)("better-sqlite3") as typeof BetterSqlite3;
  const db = new Database(file);
  try {
    const integrity = (db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");
    const rows = db.prepare("SELECT b.batch_id AS id, b.counts AS counts, (SELECT count(*) FROM results r WHERE r.batch_seq = b.seq) AS n FROM batches b").all() as {
      id: string;
      counts: string;
      n: number;
    }[];
    const incomplete: string[] = [];
    for (const r of rows) {
      const i = Number(r.id.slice(1));
      const counted = Object.values(JSON.parse(r.counts) as Record<string, number>).reduce((a, b) => a + b, 0);
      if (r.n !== resultsOf(i) || counted !== resultsOf(i)) incomplete.push(`${r.id}: ${r.n} result rows, counts say ${counted}, expected ${resultsOf(i)}`);
    }
    return { integrity, ids: rows.map((r) => Number(r.id.slice(1))).sort((a, b) => a - b), incomplete };
  } finally {
    db.close();
  }
}

it("kill -9 during heavy history writes (and pruning) leaves a database that passes integrity_check, with every batch whole and none committed lost", async (t) => {
  const file = join(dir, HISTORY_FILE_NAME);
  let start = 0;
  // Batch i finished at t0 + i ms: recent (inside the retention window), and in the order written.
  const t0 = Date.now();
  for (let round = 0; round < ROUNDS; round++) {
    const child = spawn(process.execPath, ["--input-type=module", "-e", WRITER, dir, String(start), String(t0)], { stdio: ["ignore", "pipe", "pipe"] });
    const reported: number[] = [];
    let pending = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      const lines = (pending + s).split("\n");
      pending = lines.pop() ?? "";
      for (const l of lines) reported.push(Number(l));
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    // A different moment each round: after 50 to 1500 batches.
    const killAfter = 50 + Math.floor(Math.random() * 1450);
    try {
      await waitFor(() => reported.length >= killAfter || child.exitCode !== null, 30_000, `writer round ${round} to report ${killAfter} batches`);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    assert.equal(await exited, "SIGKILL", `the writer ended on its own: ${stderr}`);

    const { integrity, ids, incomplete } = check(file);
    assert.equal(integrity, "ok", `round ${round}`);
    assert.deepEqual(incomplete, [], `round ${round}: every stored batch has all its results`);
    // Every batch the writer saw committed is there, except the oldest that the size bound pruned (oldest first, so no gaps).
    const stored = new Set(ids);
    const last = reported.at(-1)!;
    assert.ok(stored.has(last), `round ${round}: the last batch reported committed (b${last}) is stored`);
    const oldest = ids[0]!;
    const lost = reported.filter((i) => i >= oldest && !stored.has(i));
    assert.deepEqual(lost, [], `round ${round}: committed batches missing after the kill`);
    t.diagnostic(`round ${round}: killed after ${reported.length} batches; ${ids.length} stored (b${oldest}..b${ids.at(-1)})`);
    start = (ids.at(-1) ?? start) + 1;
  }
});
