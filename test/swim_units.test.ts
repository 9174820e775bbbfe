import assert from "node:assert/strict";
import { it } from "node:test";
import { VirtualClock } from "../src/base/clock.js";
import { Awareness } from "../src/swim/awareness.js";
import { checkConfig, lanConfig, localConfig, profile } from "../src/swim/config.js";
import { BroadcastQueue } from "../src/swim/queue.js";
import { pushPullScale, retransmitLimit, suspicionTimeoutMs } from "../src/swim/scale.js";
import { remainingSuspicionMs, Suspicion } from "../src/swim/suspicion.js";

it("remaining suspicion time follows memberlist's log curve from max down to min", () => {
  // [confirmations n, expected k, elapsed ms, min, max, remaining]
  const cases: [number, number, number, number, number, number][] = [
    [0, 3, 0, 2000, 30_000, 30_000],
    [1, 3, 2000, 2000, 30_000, 14_000],
    [2, 3, 3000, 2000, 30_000, 4810],
    [3, 3, 4000, 2000, 30_000, -2000],
    [4, 3, 5000, 2000, 30_000, -3000],
    [5, 3, 10_000, 2000, 30_000, -8000],
  ];
  for (const [n, k, elapsed, min, max, want] of cases) {
    assert.equal(remainingSuspicionMs(n, k, elapsed, min, max), want, `n=${n} k=${k} elapsed=${elapsed}`);
  }
});

it("a suspicion times out at max without confirmations, and sooner with each independent one", async () => {
  const clock = new VirtualClock(0);
  let firedAt = -1;
  let confirmations = -1;
  const s = new Suspicion({
    clock,
    from: "a",
    k: 3,
    minMs: 2000,
    maxMs: 30_000,
    onTimeout: (n) => {
      firedAt = clock.now();
      confirmations = n;
    },
  });
  await clock.advance(2000);
  assert.equal(s.confirm("a"), false, "the accuser is not a confirmation");
  assert.equal(s.confirm("b"), true);
  assert.equal(s.confirm("b"), false, "one confirmation per member");
  assert.equal(s.deadlineMs, 16_000);
  await clock.advance(1000);
  assert.equal(s.confirm("c"), true);
  assert.equal(s.deadlineMs, 7810);
  await clock.advance(1000);
  assert.equal(s.confirm("d"), true, "the k-th confirmation");
  assert.equal(s.confirm("e"), false, "nothing counts after k");
  // The k-th confirmation brings the timeout to min (2 s), already past: fires now.
  await clock.advance(0);
  assert.equal(firedAt, 4000);
  assert.equal(confirmations, 3);

  firedAt = -1;
  const lone = new Suspicion({
    clock,
    from: "a",
    k: 3,
    minMs: 2000,
    maxMs: 30_000,
    onTimeout: () => {
      firedAt = clock.now();
    },
  });
  await clock.advance(29_999);
  assert.equal(firedAt, -1);
  await clock.advance(1);
  assert.equal(firedAt, 4000 + 30_000);
  assert.equal(lone.confirmations, 0);
});

it("a suspicion that expects no confirmations times out at min; a cancelled one never fires", async () => {
  const clock = new VirtualClock(0);
  const fired: string[] = [];
  new Suspicion({ clock, from: "a", k: 0, minMs: 2000, maxMs: 12_000, onTimeout: () => fired.push(`k0@${clock.now()}`) });
  const cancelled = new Suspicion({ clock, from: "a", k: 2, minMs: 2000, maxMs: 12_000, onTimeout: () => fired.push("cancelled") });
  cancelled.cancel();
  assert.equal(cancelled.confirm("b"), false);
  await clock.advance(60_000);
  assert.deepEqual(fired, ["k0@2000"]);
});

it("awareness: misses stretch timeouts by score + 1, successes bring it back, clamped to [0, max - 1]", () => {
  const a = new Awareness(8);
  assert.equal(a.score, 0);
  assert.equal(a.scaleTimeout(1000), 1000);
  a.applyDelta(-1);
  assert.equal(a.score, 0, "never below healthy");
  a.applyDelta(3);
  assert.equal(a.scaleTimeout(1000), 4000);
  a.applyDelta(100);
  assert.equal(a.score, 7);
  assert.equal(a.scaleTimeout(500), 4000, "at most awarenessMaxMultiplier times");
  for (let i = 0; i < 7; i++) a.applyDelta(-1);
  assert.equal(a.score, 0);
  const off = new Awareness(1);
  off.applyDelta(5);
  assert.equal(off.scaleTimeout(1000), 1000, "a max multiplier of 1 disables awareness");
});

it("cluster-size scaling: retransmits, suspicion timeout and push-pull interval", () => {
  assert.equal(retransmitLimit(4, 1), 4);
  assert.equal(retransmitLimit(4, 9), 4);
  assert.equal(retransmitLimit(4, 10), 8);
  assert.equal(retransmitLimit(4, 99), 8);
  assert.equal(retransmitLimit(4, 100), 12);
  assert.equal(suspicionTimeoutMs(4, 1, 1000), 4000);
  assert.equal(suspicionTimeoutMs(4, 10, 1000), 4000);
  assert.equal(suspicionTimeoutMs(4, 100, 1000), 8000);
  assert.equal(suspicionTimeoutMs(4, 1000, 1000), 12_000);
  assert.equal(suspicionTimeoutMs(4, 50, 500), 3396);
  assert.equal(pushPullScale(30_000, 32), 30_000);
  assert.equal(pushPullScale(30_000, 33), 60_000);
  assert.equal(pushPullScale(30_000, 64), 60_000);
  assert.equal(pushPullScale(30_000, 65), 90_000);
  assert.equal(pushPullScale(30_000, 500), 150_000);
});

const cost = (len: number) => len + 2;
const bytes = (tag: string, len = 10) => Uint8Array.from({ length: len }, (_, i) => (i === 0 ? tag.charCodeAt(0) : 0));
const tagsOf = (out: Uint8Array[]) => out.map((b) => String.fromCharCode(b[0]!)).join("");

it("queue: each update is sent retransmitMult x ceil(log10(N + 1)) times, then dropped and finished", () => {
  const q = new BroadcastQueue(2);
  let done = 0;
  q.enqueue("a", bytes("a"), () => done++);
  const limit = retransmitLimit(2, 10); // 4
  for (let i = 0; i < limit; i++) assert.equal(q.take(1400, 10, cost).length, 1, `transmit ${i + 1}`);
  assert.equal(q.take(1400, 10, cost).length, 0);
  assert.equal(q.length, 0);
  assert.equal(done, 1);
});

it("queue: fewest transmits first, newest first among equals", () => {
  const q = new BroadcastQueue(4);
  q.enqueue("a", bytes("a"));
  q.enqueue("b", bytes("b"));
  assert.equal(tagsOf(q.take(1400, 10, cost)), "ba");
  q.enqueue("c", bytes("c"));
  q.enqueue("d", bytes("d"));
  // c and d were never sent: they go before a and b; room for three.
  assert.equal(tagsOf(q.take(3 * 12, 10, cost)), "dcb");
  // Now a, c, d have 1 transmit and b has 2.
  assert.equal(tagsOf(q.take(1400, 10, cost)), "dcab");
});

it("queue: a newer update about a node replaces the queued one", () => {
  const q = new BroadcastQueue(4);
  const finished: string[] = [];
  q.enqueue("a", bytes("1"), () => finished.push("old"));
  q.take(1400, 10, cost);
  q.enqueue("a", bytes("2"), () => finished.push("new"));
  assert.deepEqual(finished, ["old"]);
  assert.equal(q.length, 1);
  assert.equal(tagsOf(q.take(1400, 10, cost)), "2");
});

it("queue: fills a packet up to the byte budget, skipping what does not fit for what does", () => {
  const q = new BroadcastQueue(4);
  q.enqueue("small", bytes("s", 10));
  q.enqueue("big", bytes("b", 100));
  const out = q.take(50, 10, cost);
  assert.equal(tagsOf(out), "s");
  assert.ok(out.reduce((n, b) => n + cost(b.length), 0) <= 50);
  assert.equal(tagsOf(q.take(200, 10, cost)), "bs");
  assert.deepEqual(q.take(5, 10, cost), []);
});

it("queue: with many updates the retransmit limit grows with N and every update still goes out exactly that often", () => {
  const q = new BroadcastQueue(4);
  const sent = new Map<string, number>();
  for (let i = 0; i < 300; i++) q.enqueue(`n${i}`, new TextEncoder().encode(`n${i}`.padEnd(30, ".")));
  while (q.length)
    for (const b of q.take(1400, 300, cost)) {
      const k = new TextDecoder().decode(b);
      sent.set(k, (sent.get(k) ?? 0) + 1);
    }
  assert.equal(sent.size, 300);
  for (const n of sent.values()) assert.equal(n, retransmitLimit(4, 300));
});

it("profiles: lan is memberlist's LAN profile, local is faster, both consistent; unknown names and bad overrides are named", () => {
  const lan = lanConfig();
  assert.deepEqual(
    [
      lan.probeIntervalMs,
      lan.probeTimeoutMs,
      lan.indirectChecks,
      lan.suspicionMult,
      lan.suspicionMaxTimeoutMult,
      lan.gossipIntervalMs,
      lan.gossipNodes,
      lan.retransmitMult,
      lan.pushPullIntervalMs,
      lan.awarenessMaxMultiplier,
      lan.packetSizeBytes,
    ],
    [1000, 500, 3, 4, 6, 200, 3, 4, 30_000, 8, 1400],
  );
  assert.deepEqual(checkConfig(lan), []);
  assert.deepEqual(checkConfig(localConfig()), []);
  assert.ok(localConfig().probeIntervalMs < lan.probeIntervalMs);
  assert.deepEqual(profile("local"), localConfig());
  assert.throws(() => profile("wan"), /unknown membership profile "wan": use one of lan, local/);
  const bad = { ...lan, probeTimeoutMs: 1000, gossipNodes: 0, packetSizeBytes: 200 };
  const problems = checkConfig(bad).join("\n");
  assert.match(problems, /probeTimeoutMs \(1000\) must be below probeIntervalMs \(1000\)/);
  assert.match(problems, /gossipNodes must be a positive number/);
  assert.match(problems, /packetSizeBytes \(200\) is too small/);
});
