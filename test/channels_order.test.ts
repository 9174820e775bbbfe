import { it } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../src/base/clock.js";
import { ChannelOrder, DEFAULT_CHANNEL_ORDER_LIMITS } from "../src/daemon/cluster/channel_order.js";

/* The receiving side's per-sender order (channel_order.ts): holds, gaps, epochs, bounds. */

function order(limits = {}) {
  const clock = new VirtualClock();
  const out: string[] = [];
  const o = new ChannelOrder<string>(clock, { ...DEFAULT_CHANNEL_ORDER_LIMITS, gapMs: 1000, ...limits }, (_c, item, missed) => out.push(missed ? `${item}(missed ${missed})` : item));
  return { clock, out, o };
}

it("holds a message until its predecessor arrives, then hands both on in order", () => {
  const { o, out } = order();
  o.accept("ch", "n1", 1, 1, "a", 1, true);
  o.accept("ch", "n1", 1, 3, "c", 1, true);
  assert.deepEqual(out, ["a"]);
  o.accept("ch", "n1", 1, 2, "b", 1, true);
  assert.deepEqual(out, ["a", "b", "c"]);
  o.accept("ch", "n1", 1, 2, "b again", 1, true);
  assert.deepEqual(out, ["a", "b", "c"], "an earlier seq is never handed on twice");
});

it("gives a gap up after gapMs, reports what it skipped, and drops the straggler", async () => {
  const { o, out, clock } = order();
  o.accept("ch", "n1", 1, 1, "a", 1, true);
  o.accept("ch", "n1", 1, 4, "d", 1, true);
  await clock.advance(999);
  assert.deepEqual(out, ["a"]);
  await clock.advance(2);
  assert.deepEqual(out, ["a", "d(missed 2)"]);
  o.accept("ch", "n1", 1, 2, "b", 1, true);
  assert.deepEqual(out, ["a", "d(missed 2)"]);
  assert.equal(o.counters().late, 1);
});

it("a restarted sender (newer epoch) starts again at 1; the old epoch's stragglers are stale", () => {
  const { o, out } = order();
  o.accept("ch", "n1", 1, 1, "a", 1, true);
  o.accept("ch", "n1", 2, 1, "new a", 1, true);
  o.accept("ch", "n1", 1, 2, "old b", 1, true);
  assert.deepEqual(out, ["a", "new a"]);
  assert.equal(o.counters().stale, 1);
});

it("without a subscriber it only keeps in step: a subscriber arriving later starts at the next seq at once", () => {
  const { o, out } = order();
  for (let i = 1; i <= 5; i++) o.accept("ch", "n1", 1, i, null, 1, false);
  assert.equal(o.counters().held, 0);
  o.accept("ch", "n1", 1, 6, "f", 1, true);
  assert.deepEqual(out, ["f"]);
});

it("a stream held past its count bound is flushed in order with its gap reported", () => {
  const { o, out } = order({ maxHeldPerStream: 2 });
  o.accept("ch", "n1", 1, 1, "a", 1, true);
  o.accept("ch", "n1", 1, 3, "c", 1, true);
  o.accept("ch", "n1", 1, 4, "d", 1, true);
  o.accept("ch", "n1", 1, 5, "e", 1, true);
  assert.deepEqual(out, ["a", "c(missed 1)", "d", "e"]);
  assert.equal(o.counters().held, 0);
  assert.equal(o.counters().heldBytes, 0);
});
