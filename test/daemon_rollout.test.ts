import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { VirtualClock } from "../src/base/clock.js";
import { nullLogger } from "../src/base/logger.js";
import { toWireReport } from "../src/checks/codec.js";
import type { BatchEvent } from "../src/control/api_types.js";
import { parseRolloutSize, resolveSize } from "../src/control/rollout_rules.js";
import type { RolloutSpec } from "../src/daemon/api/backend.js";
import { Rollout } from "../src/daemon/cluster/rollout.js";
import { countOrder, hashOrder, orderMembers, planWaves } from "../src/control/rollout_plan.js";
import { validateBatchBody } from "../src/daemon/api/validate.js";
import { rolloutBody } from "../src/cli/commands/check.js";
import { encodeCheckBatch } from "../src/checks/codec.js";
import { parseCheckObject } from "../src/checks/parse.js";
import { generateSigningKeyPair, parsePrivateKey, signEnvelope } from "../src/gossip/signing.js";
import type { Envelope } from "../src/gossip/envelope.js";
import { Publication } from "../src/gossip/publication.js";
import { pb } from "../src/proto/index.js";

/*
 * Rollouts: the pure planner (waves from members, order, canary, batch
 * size, sizes in percent), the request body's rules, and the orchestration
 * (rollout.ts) over real Publications with a virtual clock: a wave starts
 * only when the previous one is accounted for, failures stop it and skip
 * the rest, abort lets no further wave start, -count replaces a dead choice.
 */

const members = (n: number, tags: (i: number) => Record<string, string> = () => ({})) =>
  Array.from({ length: n }, (_, i) => ({ name: `n${String(i + 1).padStart(2, "0")}`, tags: tags(i), address: `127.0.0.1:${2000 + i}` }));

const spec = (over: Partial<RolloutSpec>): RolloutSpec => ({
  mode: "waves",
  canary: 0,
  batchSize: null,
  batchWaitMs: 0,
  maxFailures: { n: 0, percent: false },
  order: { by: "name" },
  count: 0,
  detach: false,
  ...over,
});

describe("rollout plan", () => {
  it("puts the canaries first, then waves of batch size, in name order", () => {
    const waves = planWaves(members(7), spec({ canary: 1, batchSize: { n: 3, percent: false } }), "seed");
    assert.deepEqual(waves, [["n01"], ["n02", "n03", "n04"], ["n05", "n06", "n07"]]);
  });

  it("resolves a percentage against every planned node, rounding a batch up", () => {
    assert.deepEqual(
      planWaves(members(40), spec({ batchSize: { n: 25, percent: true } }), "s").map((w) => w.length),
      [10, 10, 10, 10],
    );
    assert.equal(resolveSize({ n: 10, percent: true }, 5, "up"), 1);
    assert.equal(resolveSize({ n: 10, percent: true }, 15, "down"), 1);
  });

  it("puts every node after the canaries in one wave without a batch size, and never plans an empty wave", () => {
    assert.deepEqual(planWaves(members(3), spec({ canary: 1 }), "s"), [["n01"], ["n02", "n03"]]);
    assert.deepEqual(planWaves(members(2), spec({ canary: 5 }), "s"), [["n01", "n02"]]);
    assert.deepEqual(planWaves([], spec({ canary: 1 }), "s"), []);
  });

  it("orders by a tag's value (nodes without it last), or by a hash anyone can recompute from the seed", () => {
    const ms = members(4, (i): Record<string, string> => (i === 0 ? {} : { zone: ["b", "a", "b"][i - 1]! }));
    assert.deepEqual(orderMembers(ms, { by: "tag", key: "zone" }, "s"), ["n03", "n02", "n04", "n01"]);
    const random = orderMembers(members(20), { by: "random" }, "abc");
    assert.deepEqual(random, orderMembers(members(20), { by: "random" }, "abc"));
    assert.notDeepEqual(random, orderMembers(members(20), { by: "name" }, "abc"));
    assert.deepEqual(countOrder(members(20), "abc"), hashOrder(random, "abc"));
  });

  it("reads sizes as a count or a percentage, and refuses anything else naming the field", () => {
    assert.deepEqual(parseRolloutSize("10%", "-batch-size", 1), { ok: true, value: { n: 10, percent: true } });
    assert.deepEqual(parseRolloutSize(3, "x", 0), { ok: true, value: { n: 3, percent: false } });
    for (const bad of ["0", "101%", "ten", -1, 1.5]) {
      const r = parseRolloutSize(bad, "-batch-size", 1);
      assert.ok(!r.ok && r.error.startsWith("-batch-size must be"), String(bad));
    }
  });

  it("validates the rollout of a request body: count or waves, never both, never with a signature", () => {
    const checks = { a: { type: "file_exists", path: "/" } };
    const ok = validateBatchBody({ checks, rollout: { canary: 1, batchSize: "10%", maxFailures: 2, order: "tag:zone", batchWaitMs: 500 } });
    assert.ok(ok.ok && ok.value.rollout?.mode === "waves" && ok.value.rollout.maxFailures.n === 2);
    const both = validateBatchBody({ checks, rollout: { canary: 1, count: 1 } });
    assert.ok(!both.ok && /does not combine/.test(both.error));
    const empty = validateBatchBody({ checks, rollout: {} });
    assert.ok(!empty.ok && /give canary, batchSize or count/.test(empty.error));
    const typo = validateBatchBody({ checks, rollout: { canaries: 1 } });
    assert.ok(!typo.ok && /unknown field "canaries"/.test(typo.error));
  });
});

describe("a signed rollout's body (signedWaves)", () => {
  const key = parsePrivateKey(generateSigningKeyPair().privateKey, "test");
  const checksOf = (path: string) => {
    const parsed = parseCheckObject({ c: { type: "file_exists", path } }, "test");
    assert.ok(parsed.ok);
    return parsed.checks;
  };
  const wave = (nodes: string[], path = "/") => {
    assert.ok(key.ok);
    const payload = encodeCheckBatch({ checks: checksOf(path), dryRun: false, targetNodes: nodes, targetTags: {} });
    const env = signEnvelope(
      {
        id: new Uint8Array(randomBytes(16)),
        origin: "n01",
        originAddress: "127.0.0.1:2000",
        createdMs: Date.now(),
        ttlMs: 60_000,
        kind: pb.EnvelopeKind.CHECK_BATCH,
        payload,
        signature: new Uint8Array(),
        signerKey: new Uint8Array(),
      },
      key.value,
    );
    const b64 = (u: Uint8Array) => Buffer.from(u).toString("base64");
    return {
      id: Buffer.from(env.id).toString("hex"),
      origin: env.origin,
      originAddress: env.originAddress,
      createdMs: env.createdMs,
      ttlMs: env.ttlMs,
      payload: b64(env.payload),
      signature: b64(env.signature),
      signerKey: b64(env.signerKey),
    };
  };

  it("keeps each wave's signed envelope and nodes, in order, as the plan", () => {
    const r = validateBatchBody({ signedWaves: [wave(["n01"]), wave(["n02", "n03"])], rollout: { maxFailures: 1, batchWaitMs: 100 } });
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.deepEqual(
      r.value.signedWaves?.map((w) => w.nodes),
      [["n01"], ["n02", "n03"]],
    );
    assert.equal(r.value.rollout?.maxFailures.n, 1);
  });

  it("refuses waves that are not one batch, that share a node, that target nobody, or a plan besides them", () => {
    const refused = (body: object, re: RegExp) => {
      const r = validateBatchBody(body);
      assert.ok(!r.ok && re.test(r.error), r.ok ? "accepted" : r.error);
    };
    refused({ signedWaves: [wave(["n01"]), wave(["n02"], "/tmp")] }, /signedWaves\[1\] is not the same batch/);
    refused({ signedWaves: [wave(["n01"]), wave(["n01", "n02"])] }, /node n01 is in two waves/);
    refused({ signedWaves: [wave([])] }, /targets no node/);
    refused({ signedWaves: [wave(["n01"])], rollout: { canary: 1 } }, /leave out canary, batchSize and count/);
    refused({ signedWaves: [wave(["n01"])], checks: { c: { type: "file_exists", path: "/" } } }, /leave out "checks"/);
  });
});

describe("gcheck check rollout flags", () => {
  const base = { timeout: "30s", ttl: "5m", failOn: "fail" as const };
  it("turn into the request's rollout, and are absent without -canary, -batch-size or -count", () => {
    assert.equal(rolloutBody(base), undefined);
    assert.deepEqual(rolloutBody({ ...base, canary: "1", batchSize: "10%", batchWait: "30s", maxFailures: "2", order: "random", detach: true }), {
      canary: 1,
      batchSize: "10%",
      batchWaitMs: 30_000,
      maxFailures: "2",
      order: "random",
      detach: true,
    });
    assert.deepEqual(rolloutBody({ ...base, count: "1" }), { count: 1 });
  });

  it("refuse what cannot be meant, naming the flag", () => {
    const refused = (flags: object, re: RegExp) => assert.throws(() => rolloutBody({ ...base, ...flags }), re);
    refused({ count: "1", canary: "1" }, /-count .* does not combine with -canary/);
    refused({ maxFailures: "1" }, /give -canary K and\/or -batch-size/);
    refused({ batchSize: "0" }, /-batch-size must be/);
    refused({ canary: "x" }, /-canary "x"/);
    refused({ canary: "1", order: "zone" }, /-order must be name, random or tag:KEY/);
    refused({ canary: "1", batchWait: "soon" }, /-batch-wait "soon"/);
  });
});

/** A rollout over real Publications: the test plays the nodes (answers, deaths). */
function harness(n: number, s: RolloutSpec, timeoutMs = 10_000) {
  const clock = new VirtualClock();
  const dead = new Set<string>();
  const pubs: { nodes: string[]; pub: Publication }[] = [];
  const ms = members(n);
  const rollout = new Rollout(s, {
    id: "0123456789abcdef0123456789abcdef",
    origin: "n01",
    clock,
    log: nullLogger,
    members: ms,
    isRunning: (node) => !dead.has(node),
    addressOf: (node) => ms.find((m) => m.name === node)?.address,
    publish: (nodes) => {
      const env: Envelope = {
        id: new Uint8Array(randomBytes(16)),
        origin: "n01",
        originAddress: "127.0.0.1:2000",
        createdMs: clock.now(),
        ttlMs: 60_000,
        kind: pb.EnvelopeKind.CHECK_BATCH,
        payload: new Uint8Array(),
        signature: new Uint8Array(),
        signerKey: new Uint8Array(),
      };
      const pub = new Publication(env, nodes, () => undefined);
      pub.start((node) => (dead.has(node) ? "dead" : "alive"), clock);
      pubs.push({ nodes, pub });
      return { ok: true, pub };
    },
    timeoutMs,
    ttlMs: 60_000,
  });
  const events: BatchEvent[] = [];
  const ac = new AbortController();
  const reading = (async () => {
    for await (const e of rollout.events(ac.signal)) events.push(e);
  })();
  const answer = (node: string, status: "pass" | "fail") =>
    pubs
      .find((p) => p.nodes.includes(node))!
      .pub.recordReply(pb.NodeReply.create({ node, address: "x", checks: toWireReport([{ name: "c", type: "file_exists", status, message: "", durationMs: 1 }]) }));
  const settle = () => clock.advance(0);
  return { clock, dead, pubs, rollout, events, ac, reading, answer, settle };
}

describe("rollout orchestration", () => {
  it("starts a wave only when the previous one answered, and covers every node in the planned waves", async () => {
    const h = harness(5, spec({ canary: 1, batchSize: { n: 2, percent: false } }));
    h.rollout.start();
    await h.settle();
    assert.deepEqual(
      h.pubs.map((p) => p.nodes),
      [["n01"]],
    );
    h.answer("n01", "pass");
    await h.settle();
    assert.deepEqual(h.pubs.at(-1)!.nodes, ["n02", "n03"]);
    h.answer("n02", "pass");
    await h.settle();
    assert.equal(h.pubs.length, 2, "the third wave waits for n03");
    h.answer("n03", "pass");
    await h.settle();
    h.answer("n04", "pass");
    h.answer("n05", "pass");
    await h.reading;
    const done = h.events.at(-1);
    assert.ok(done?.type === "done" && done.rollout?.outcome === "complete" && done.rollout.wavesRun === 3);
    assert.deepEqual(
      h.events.filter((e) => e.type === "wave").map((e) => (e.type === "wave" ? e.wave : 0)),
      [1, 2, 3],
    );
    const accepted = h.events[0];
    assert.ok(accepted?.type === "accepted" && accepted.rollout?.waves.length === 3 && accepted.batchId === h.pubs[0]!.pub.idHex);
  });

  it("stops when failures exceed the maximum, and lists every node never reached as skipped", async () => {
    const h = harness(4, spec({ canary: 1, batchSize: { n: 1, percent: false } }));
    h.rollout.start();
    await h.settle();
    h.answer("n01", "fail");
    await h.reading;
    assert.equal(h.pubs.length, 1, "no wave after the failed canary");
    const skipped = h.events.filter((e) => e.type === "skipped");
    assert.deepEqual(
      skipped.map((e) => e.node),
      ["n02", "n03", "n04"],
    );
    assert.equal(skipped[0]!.type === "skipped" && skipped[0]!.reason, "skipped: rollout stopped after wave 1 (1 failures > max 0)");
    assert.equal(h.rollout.status().outcome, "stopped");
  });

  it("counts a node dead before its wave as a failure, and lets abort stop it during the pause", async () => {
    const h = harness(3, spec({ batchSize: { n: 1, percent: false }, batchWaitMs: 5_000, maxFailures: { n: 1, percent: false } }));
    h.dead.add("n02");
    h.rollout.start();
    await h.settle();
    h.answer("n01", "pass");
    await h.clock.advance(5_000);
    assert.ok(h.events.some((e) => e.type === "unreachable" && e.node === "n02" && e.wave === 2));
    h.rollout.abort();
    await h.reading;
    assert.equal(h.pubs.length, 1);
    assert.equal(h.rollout.status().outcome, "aborted");
    assert.ok(h.events.some((e) => e.type === "skipped" && e.node === "n03"));
  });

  it("finishes the current wave and stops when the client goes away without detach", async () => {
    const h = harness(3, spec({ batchSize: { n: 1, percent: false } }));
    h.rollout.start();
    await h.settle();
    h.ac.abort();
    await h.reading;
    h.answer("n01", "pass");
    await h.settle();
    assert.equal(h.pubs.length, 1);
    assert.equal(h.rollout.status().outcome, "disconnected");
  });

  it("-count replaces a chosen node declared dead by the next in hash order, one envelope each, never more than K", async () => {
    const h = harness(5, spec({ mode: "count", count: 1 }));
    const order = countOrder(members(5), "0123456789abcdef0123456789abcdef");
    h.rollout.start();
    await h.settle();
    assert.deepEqual(h.pubs[0]!.nodes, [order[0]]);
    h.dead.add(order[0]!);
    h.pubs[0]!.pub.markUnreachable(order[0]!, "failed");
    await h.settle();
    assert.deepEqual(
      h.pubs.map((p) => p.nodes),
      [[order[0]], [order[1]]],
    );
    h.answer(order[1]!, "pass");
    await h.reading;
    const kinds = h.events.map((e) => `${e.type}${"node" in e ? ` ${e.node}` : ""}`);
    assert.deepEqual(kinds.slice(-3), [`result ${order[1]}`, `skipped ${order[0]}`, "done"], "the replaced node is reported after its replacement answered");
  });
});
