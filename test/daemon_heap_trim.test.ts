import assert from "node:assert/strict";
import { it } from "node:test";
import { getHeapSpaceStatistics } from "node:v8";
import { DEFAULT_HEAP_TRIM, afterTrim, initialTrimState, memoryReducingGc, startHeapTrim, trimDecision } from "../src/daemon/heap_trim.js";
import { waitFor } from "./support/proc.js";

const MiB = 1024 * 1024;
const o = DEFAULT_HEAP_TRIM;
const fresh = initialTrimState(o, 20 * MiB);

it("trims only after two quiet checks in a row, with resident memory well above its resting size, at most once a gap", () => {
  let d = trimDecision(fresh, o, 0.01, 20 * MiB, 0);
  assert.deepEqual(d, { trim: false, state: { ...fresh, quietInARow: 1 } });
  // Busy: the count starts again, whatever the memory.
  d = trimDecision(d.state, o, 0.9, 90 * MiB, 10_000);
  assert.equal(d.trim, false);
  assert.equal(d.state.quietInARow, 0);
  // One quiet check is not enough; two are.
  d = trimDecision(d.state, o, 0.01, 90 * MiB, 20_000);
  assert.equal(d.trim, false);
  d = trimDecision(d.state, o, 0.01, 90 * MiB, 30_000);
  assert.equal(d.trim, true);
  // Growth up to the threshold is left alone.
  const quiet = { ...fresh, quietInARow: 5 };
  assert.equal(trimDecision(quiet, o, 0, 20 * MiB + o.growthBytes, 0).trim, false);
  // Not again within the gap of the last trim.
  assert.equal(trimDecision({ ...quiet, lastTrimAt: 0 }, o, 0, 90 * MiB, o.minGapMs - 1).trim, false);
  assert.equal(trimDecision({ ...quiet, lastTrimAt: 0 }, o, 0, 90 * MiB, o.minGapMs).trim, true);
  // Memory that shrank by itself lowers the resting size.
  assert.equal(trimDecision({ ...quiet, restingBytes: 40 * MiB }, o, 0, 30 * MiB, 0).state.restingBytes, 30 * MiB);
});

it("the check after a trim sees what it gave back: a minute to the next if it was worth it, else twice the gap, up to an hour", () => {
  const trimmed = afterTrim({ ...fresh, gapMs: 4 * o.minGapMs }, 90 * MiB, 5);
  assert.equal(trimmed.lastTrimAt, 5);
  assert.equal(trimmed.trimmedFromBytes, 90 * MiB);
  const worth = trimDecision(trimmed, o, 0, 90 * MiB - o.growthBytes / 2, 10_005);
  assert.equal(worth.gaveBackBytes, o.growthBytes / 2);
  assert.equal(worth.state.gapMs, o.minGapMs);
  assert.equal(worth.state.trimmedFromBytes, null);
  const little = trimDecision(trimmed, o, 0, 89 * MiB, 10_005);
  assert.equal(little.gaveBackBytes, MiB);
  assert.equal(little.state.gapMs, 8 * o.minGapMs);
  assert.equal(trimDecision({ ...trimmed, gapMs: o.maxGapMs }, o, 0, 89 * MiB, 10_005).state.gapMs, o.maxGapMs);
  // Only the first check after the trim judges it.
  assert.equal(trimDecision(little.state, o, 0, 60 * MiB, 20_005).gaveBackBytes, undefined);
});

it("uses V8's memory-reducing collection from V8 12 on (Node 22+), none on V8 11 (Node 20), whose memory reducer does it", () => {
  assert.equal(memoryReducingGc("11.3.244.8-node.38"), null);
  assert.equal(startHeapTrim({}, null), null);
});

const newSpaceMiB = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space")!.space_size / MiB;

it(`gives the young generation back once the event loop is quiet after a burst (V8 ${process.versions.v8})`, async () => {
  const gc = memoryReducingGc();
  if (!gc) {
    assert.ok(Number.parseInt(process.versions.v8, 10) < 12, "only V8 11 goes without");
    return;
  }
  const trimmer = startHeapTrim({ checkMs: 50, minGapMs: 0, growthBytes: 4 * MiB }, gc)!;
  try {
    // A burst of short-lived objects, some surviving a scavenge or two: V8 grows the young generation
    // (to 32 MiB on Node 22 and 26, 64 on Node 24).
    let keep: object[] = [];
    for (let i = 0; i < 3e6; i++) {
      keep.push({ a: i, b: `x${i}` });
      if (keep.length > 20_000) keep = [];
    }
    keep = [];
    const grown = newSpaceMiB();
    assert.ok(grown >= 8, `the burst grew the young generation to ${grown} MiB`);
    await waitFor(() => trimmer.trims > 0, 10_000, "a trim once the event loop is quiet");
    const after = newSpaceMiB();
    assert.ok(after <= 2, `the young generation is ${after} MiB after the trim (it was ${grown})`);
  } finally {
    trimmer.stop();
  }
});
