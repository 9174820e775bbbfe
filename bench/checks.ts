/**
 * Checks engine benchmark: file_contains throughput on a large page-cached
 * file, and the time to evaluate a batch of 1000 mixed checks locally.
 */
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DEFAULT_CHUNK_BYTES, searchFile } from "../src/checks/file_contains.js";
import { takeProcessSnapshot } from "../src/checks/processes.js";
import { runBatch, runLocalCheck, type CheckSpec } from "../src/checks/index.js";
import { percentile, type BenchSection } from "./report.js";

/** Size of the searched file (bytes): 1 GiB. */
const BIG_FILE_BYTES = 2 ** 30;
const NEEDLE = "gossipcheck-bench-needle-at-the-very-end";
const BATCH_SIZE = 1000;
const RUNS = 5;

export async function run(): Promise<BenchSection[]> {
  const dir = await mkdtemp(join(tmpdir(), "gossipcheck-bench-checks-"));
  try {
    return [await fileContainsThroughput(dir), await batchTimes(dir)];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes a log-like file (real bytes, no sparse holes) with the needle as its last bytes. */
async function writeBigFile(path: string): Promise<void> {
  const line = Buffer.from("2024-05-01T12:00:00Z INFO request served in 3 ms by worker 7 (nothing to see here)\n");
  const block = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < block.length; i += line.length) line.copy(block, i, 0, Math.min(line.length, block.length - i));
  const fh = await open(path, "w");
  try {
    for (let written = 0; written < BIG_FILE_BYTES; written += block.length) await fh.write(block, 0, Math.min(block.length, BIG_FILE_BYTES - written));
    await fh.write(Buffer.from(NEEDLE), 0, NEEDLE.length, BIG_FILE_BYTES - NEEDLE.length);
  } finally {
    await fh.close();
  }
}

async function fileContainsThroughput(dir: string): Promise<BenchSection> {
  const path = join(dir, "big.log");
  await writeBigFile(path);
  const needle = Buffer.from(NEEDLE);
  await searchFile(path, needle); // warms the page cache
  const rows: (string | number)[][] = [];
  for (const chunk of [DEFAULT_CHUNK_BYTES, 1024 * 1024, 64 * 1024]) {
    const secs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = await searchFile(path, needle, chunk);
      secs.push((performance.now() - t0) / 1000);
      if (r.offset !== BIG_FILE_BYTES - NEEDLE.length) throw new Error(`bench: needle found at ${r.offset}, expected ${BIG_FILE_BYTES - NEEDLE.length}`);
    }
    const best = Math.min(...secs);
    rows.push([`${chunk / 1024} KiB${chunk === DEFAULT_CHUNK_BYTES ? " (default)" : ""}`, (BIG_FILE_BYTES / 1e9 / best).toFixed(2), (best * 1000).toFixed(0)]);
  }
  return {
    title: "file_contains throughput (1 GiB page-cached file, needle in the last bytes)",
    columns: ["read chunk", "GB/s (best of 3)", "ms"],
    rows,
    notes: ["Target: >= 1 GB/s with the default chunk. GB = 10^9 bytes.", "Memory stays at one chunk + needle length whatever the file size."],
  };
}

/** 1000 checks: a third file_exists (half passing), a third file_contains on small files, a third process_running. */
async function mixedBatch(dir: string): Promise<CheckSpec[]> {
  const checks: CheckSpec[] = [];
  for (let i = 0; i < BATCH_SIZE; i++) {
    const kind = i % 3;
    const file = join(dir, `f${i}`);
    if (kind === 0) {
      if (i % 2 === 0) await writeFile(file, "x");
      checks.push({ name: `exists_${i}`, type: "file_exists", path: file });
    } else if (kind === 1) {
      await writeFile(file, `line one\nkey${i}=value\nline three\n`);
      checks.push({ name: `contains_${i}`, type: "file_contains", path: file, check: `key${i}=` });
    } else {
      checks.push({ name: `process_${i}`, type: "process_running", ...(i % 2 ? { path: "node" } : { check: `no-such-process-${i}` }) });
    }
  }
  return checks;
}

async function timed(f: () => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await f();
    ms.push(performance.now() - t0);
  }
  return ms;
}

async function batchTimes(dir: string): Promise<BenchSection> {
  const checks = await mixedBatch(dir);
  const row = (what: string, ms: number[]) => [what, percentile(ms, 50).toFixed(1), Math.max(...ms).toFixed(1)];
  const snap = await takeProcessSnapshot();
  return {
    title: `Evaluating ${BATCH_SIZE} mixed checks locally (no actions)`,
    columns: ["what", `p50 ms (${RUNS} runs)`, "max ms"],
    rows: [
      row("runBatch, concurrency 8", await timed(() => runBatch(checks, { batchId: "bench", node: "bench", runActions: false }))),
      row("runBatch, concurrency 32", await timed(() => runBatch(checks, { batchId: "bench", node: "bench", runActions: false, concurrency: 32 }))),
      row("runLocalCheck (sequential)", await timed(() => runLocalCheck(checks))),
      row(`one process snapshot (${snap.processes.length} processes, ${snap.source})`, await timed(() => takeProcessSnapshot())),
    ],
    notes: ["Mix: 334 file_exists (half missing), 333 file_contains on small files, 333 process_running sharing one snapshot."],
  };
}
