import assert from "node:assert/strict";
import { readFileSync, statfsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodeCheckBatch, encodeCheckBatch } from "../src/checks/codec.js";
import { parseCheckObject } from "../src/checks/index.js";
import type { CheckResult } from "../src/checks/types.js";
import { checkSpec, runOneCheck } from "./support/checks.js";

/*
 * The threshold types, disk_usage, memory and load, against this machine:
 * the test's own temporary directory with thresholds just either side of
 * what statfs says, and memory and load with thresholds no machine can miss
 * or meet.
 */

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gossipcheck-thresholds-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const spec = checkSpec;

const run = (fields: Record<string, unknown>): Promise<CheckResult> => runOneCheck(spec(fields));

/** Usage as the check computes it (df's way), from the same statfs. */
function measured() {
  const st = statfsSync(dir);
  const used = st.blocks - st.bfree;
  return { usedPercent: (used / (used + st.bavail)) * 100, free: st.bavail * st.bsize, inodes: st.files > 0 ? ((st.files - st.ffree) / st.files) * 100 : undefined };
}

describe("disk_usage", () => {
  it("max_used_percent: passes just above the measured usage and fails just below, giving both", async (t) => {
    const { usedPercent } = measured();
    if (usedPercent < 1) return t.skip(`the temporary directory's file system is ${usedPercent}% used: no threshold below it`);
    const above = await run({ type: "disk_usage", path: dir, max_used_percent: Math.min(100, usedPercent + 0.5) });
    assert.equal(above.status, "pass", above.message);
    const below = await run({ type: "disk_usage", path: dir, max_used_percent: usedPercent - 0.5 });
    assert.equal(below.status, "fail", below.message);
    assert.match(below.message, new RegExp(`^${dir}: [\\d.]+% used \\(max [\\d.]+%\\)$`));
  });

  it("min_free: in bytes available to unprivileged users", async () => {
    const { free } = measured();
    const mb = 1024 * 1024;
    const r = await run({ type: "disk_usage", path: dir, min_free: Math.max(0, free - 64 * mb) });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /free \(min .*bytes\)\)$/);
    const over = await run({ type: "disk_usage", path: dir, min_free: free + 64 * mb });
    assert.equal(over.status, "fail", over.message);
    assert.match(over.message, new RegExp(`\\(\\d+ bytes\\) free \\(min .* \\(${free + 64 * mb} bytes\\)\\)`));
  });

  it("max_inodes_used_percent: inodes, just either side of the measured share", async (t) => {
    const { inodes } = measured();
    if (inodes === undefined) {
      const r = await run({ type: "disk_usage", path: dir, max_inodes_used_percent: 50 });
      assert.equal(r.status, "error");
      return t.skip("this file system reports no inode counts (checked that the check says so)");
    }
    assert.equal((await run({ type: "disk_usage", path: dir, max_inodes_used_percent: Math.min(100, inodes + 0.5) })).status, "pass");
    if (inodes >= 0.5) {
      const r = await run({ type: "disk_usage", path: dir, max_inodes_used_percent: inodes - 0.5 });
      assert.equal(r.status, "fail");
      assert.match(r.message, /of inodes used \(max [\d.]+%\)/);
    }
  });

  it("every threshold is judged, and the message gives the failing ones first", async () => {
    const r = await run({ type: "disk_usage", path: dir, max_used_percent: 100, min_free: Number.MAX_SAFE_INTEGER });
    assert.equal(r.status, "fail");
    assert.match(r.message, /free \(min .*\); [\d.]+% used \(max 100%\)$/);
  });

  it("a path that does not exist is an error, not a pass", async () => {
    const r = await run({ type: "disk_usage", path: join(dir, "none"), min_free: 0 });
    assert.equal(r.status, "error");
    assert.match(r.message, /cannot measure the file system of .*none: .*ENOENT/);
  });
});

describe("memory", () => {
  it("min_available_bytes: 0 always passes, more than any machine has fails, giving MemAvailable", async () => {
    const zero = await run({ type: "memory", min_available_bytes: 0 });
    assert.equal(zero.status, "pass", zero.message);
    const huge = await run({ type: "memory", min_available_bytes: Number.MAX_SAFE_INTEGER });
    assert.equal(huge.status, "fail");
    assert.match(huge.message, /^memory: .*\(\d+ bytes\) available \(min .*\(9007199254740991 bytes\)\) \((MemAvailable in \/proc\/meminfo|os\.freemem\(\))\)$/);
    if (/^MemAvailable:/m.test(readFileSync("/proc/meminfo", "utf8"))) assert.match(huge.message, /MemAvailable in \/proc\/meminfo/);
  });

  it("min_available_percent: of the total; 0 passes and 100 fails", async () => {
    assert.equal((await run({ type: "memory", min_available_percent: 0 })).status, "pass");
    const r = await run({ type: "memory", min_available_percent: 100 });
    assert.equal(r.status, "fail");
    assert.match(r.message, /[\d.]+% of .* available \(min 100%\)/);
  });
});

describe("load", () => {
  const cpus = availableParallelism();
  for (const [field, i] of [
    ["max_per_cpu_1m", 0],
    ["max_per_cpu_5m", 1],
    ["max_per_cpu_15m", 2],
  ] as const) {
    it(`${field}: the load average per CPU; a huge threshold passes, 0 fails while there is any load`, async () => {
      const huge = await run({ type: "load", [field]: 1e6 });
      assert.equal(huge.status, "pass", huge.message);
      assert.match(huge.message, new RegExp(`per CPU \\(load [\\d.]+, max 1000000\\) on ${cpus} CPUs?$`));
      const zero = await run({ type: "load", [field]: 0 });
      if (loadavg()[i]! > 0.01) assert.equal(zero.status, "fail", zero.message);
      assert.match(zero.message, /max 0\)/);
    });
  }
});

describe("threshold checks", () => {
  it("cross the wire and are validated again on receipt", () => {
    const checks = [
      spec({ type: "disk_usage", path: "/", max_used_percent: 90.5, min_free: 1 }),
      { ...spec({ type: "memory", min_available_percent: 5 }), name: "m" },
      { ...spec({ type: "load", max_per_cpu_5m: 1.5 }), name: "l" },
    ];
    const decoded = decodeCheckBatch(encodeCheckBatch({ checks, dryRun: false, targetNodes: [], targetTags: {} }));
    assert.ok(decoded.ok, decoded.ok ? "" : decoded.errors.join());
    assert.deepEqual(decoded.batch.checks, checks);
    const forged = decodeCheckBatch(encodeCheckBatch({ checks: [{ ...checks[0]!, params: { path: "/", max_used_percent: 150 } }], dryRun: false, targetNodes: [], targetTags: {} }));
    assert.match(forged.ok ? "" : forged.errors.join(), /field "max_used_percent": expected a number from 0 to 100/);
  });

  it("validation names each field and what it expects, and asks for a threshold", () => {
    const p = parseCheckObject(
      {
        a: { type: "disk_usage", max_used_percent: "90%" },
        b: { type: "disk_usage", path: "/" },
        c: { type: "memory", min_available_bytes: 1.5, path: "/" },
        d: { type: "load" },
        e: { type: "load", max_per_cpu_1m: -2 },
      },
      "f.json",
    );
    const errors = p.ok ? [] : p.errors;
    const want = [
      /check "a": field "path" is missing: a path on the file system to measure/,
      /check "a": field "max_used_percent": expected a number from 0 to 100 .* got the string "90%"/,
      /check "b": disk_usage needs at least one threshold: "max_used_percent", "min_free", "max_inodes_used_percent"/,
      /check "c": field "path" is unknown for type memory/,
      /check "c": field "min_available_bytes": expected a whole number from 0 to \d+ .* got number 1.5/,
      /check "d": load needs at least one threshold: "max_per_cpu_1m", "max_per_cpu_5m", "max_per_cpu_15m"/,
      /check "e": field "max_per_cpu_1m": expected a number from 0 to 1000000 .* got number -2/,
    ];
    for (const w of want)
      assert.ok(
        errors.some((e) => w.test(e)),
        `${w}\n${errors.join("\n")}`,
      );
  });
});
