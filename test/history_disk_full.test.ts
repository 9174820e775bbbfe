import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VirtualClock } from "../src/base/clock.js";
import type { Logger } from "../src/base/logger.js";
import type { CheckResult } from "../src/checks/types.js";
import { openHistory, type BatchToRecord } from "../src/history/store.js";

// A real full disk: a 2 MiB tmpfs mounted for the test (root only; skipped, saying why, elsewhere).
const mnt = mkdtempSync(join(tmpdir(), "history-full-"));
let mounted: string | undefined;
before(() => {
  if (process.getuid?.() !== 0) return void (mounted = "needs root to mount a small tmpfs");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", mnt], { stdio: "pipe" });
  } catch (e) {
    mounted = `cannot mount a tmpfs here: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
});
after(() => {
  if (mounted === undefined) execFileSync("umount", ["-l", mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

/** Writes a file until the file system is full (ENOSPC). */
function fillDisk(path: string): void {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
    // The last partial chunk: fill to the last byte.
    for (let n = 4096; n >= 1; n >>= 1) {
      try {
        for (;;) writeSync(fd, chunk, 0, n);
      } catch {
        /* next smaller size */
      }
    }
  } finally {
    closeSync(fd);
  }
}

function batch(i: number): BatchToRecord {
  const results: CheckResult[] = Array.from({ length: 10 }, (_, j) => ({ name: `check_${j}`, type: "file", status: "pass", message: `batch ${i} check ${j} `.repeat(20), durationMs: 1 }));
  return { batchId: `b${i}`, origin: "n1", submitter: "t", signer: "", createdMs: i, finishedMs: i, dryRun: false, schedule: "", checks: {}, results };
}

it("a full disk degrades history: writes fail without throwing, are counted, logged once per minute, degraded() says why; they work again when room returns", (t) => {
  if (mounted !== undefined) return t.skip(mounted);
  const lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg = "") =>
      void lines.push({ level, msg, obj: obj as Record<string, unknown> });
  const log: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  const clock = new VirtualClock(0);
  const opened = openHistory(mnt, { log, clock });
  assert.ok(opened.ok, opened.ok ? "" : opened.error);
  const h = opened.value;
  try {
    h.recordBatch(batch(0));
    assert.equal(h.degraded(), undefined);
    const filler = join(mnt, "filler");
    fillDisk(filler);

    // The log and the file still have some slack (pages freed by checkpoints): write until it runs out, within a bound.
    let i = 1;
    for (; i < 5000 && h.degraded() === undefined; i++) h.recordBatch(batch(i));
    assert.match(h.degraded() ?? "", /^disk full \(SQLITE_FULL\) on .*history\.sqlite: .*free space on that file system/);
    const failedAt = i - 1;
    for (let k = 0; k < 20; k++) h.recordBatch(batch(5000 + k));
    const c = h.counters();
    assert.equal(c.degraded, 1);
    assert.equal(c.writeErrors, 21);
    assert.equal(h.batch(`b${failedAt}`), undefined, "a failed batch is not half written");
    assert.equal(lines.filter((l) => l.level === "warn").length, 1, "rate-limited: one line for the minute");
    assert.match(String(lines.find((l) => l.level === "warn")?.obj.error), /SQLITE_FULL/);
    // Reads still work.
    assert.ok(h.batch("b0"));

    // Room again: the next write succeeds and the store says so.
    rmSync(filler);
    h.recordBatch(batch(9999));
    assert.equal(h.degraded(), undefined);
    assert.equal(h.counters().degraded, 0);
    assert.ok(h.batch("b9999"));
    assert.ok(lines.some((l) => l.level === "info" && /work again/.test(l.msg)));
  } finally {
    h.close();
  }
  const again = openHistory(mnt, { log, clock });
  assert.ok(again.ok, again.ok ? "" : again.error);
  assert.ok(again.value.batch("b9999"));
  again.value.close();
});
