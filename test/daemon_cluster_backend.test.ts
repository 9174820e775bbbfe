import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { encodeCheckBatch } from "../src/checks/codec.js";
import type { CheckSpec } from "../src/checks/types.js";
import type { BatchEvent, KeyEvent } from "../src/control/api_types.js";
import type { BatchRequest } from "../src/daemon/api/backend.js";
import { admitEnvelope } from "../src/daemon/cluster/admission.js";
import { ClusterBackend } from "../src/daemon/cluster/backend.js";
import { keyFingerprint } from "../src/control/fingerprint.js";
import { localGossipConfig } from "../src/gossip/config.js";
import { generateSigningKeyPair, loadTrustedKeys, parsePrivateKey, signEnvelope, type TrustedKeys } from "../src/gossip/signing.js";
import { decodeKey, generateKey, Keyring } from "../src/net/keyring.js";
import { nullLogger } from "../src/base/logger.js";
import { SeededRandom } from "../src/base/random.js";
import { pb } from "../src/proto/index.js";
import { localConfig } from "../src/swim/config.js";
import { SimCluster } from "../src/swim/simulation.js";
import { buildNodeStack } from "../src/stack/node_stack.js";
import type { Transport } from "../src/net/transport.js";

/*
 * The cluster backend on the in-memory network and a virtual clock: what it
 * streams to the control API for a batch (the expected set, one event per
 * node, unreachable when the membership declares a node dead, done or a
 * timeout) and for a key operation, with the real SWIM and gossip layers
 * and the real checks engine underneath.
 */

interface Opts {
  tags?: (name: string) => Record<string, string>;
  trustedKeys?: TrustedKeys;
  keyrings?: boolean;
}

async function backendCluster(seed: number, count: number, o: Opts = {}) {
  const cluster = new SimCluster({ seed, config: localConfig() });
  const backends = new Map<string, ClusterBackend>();
  const keyrings = new Map<string, Keyring>();
  const saved: string[] = [];
  const firstKey = generateKey();
  const names = Array.from({ length: count }, (_, i) => `n${i}`);
  for (const name of names) {
    const tags = o.tags?.(name) ?? {};
    const batchNode = { name, tags, actionsEnabled: true, ...(o.trustedKeys && { trustedKeys: o.trustedKeys }) };
    let added: { transport: Transport } | undefined;
    const { swim, gossip } = buildNodeStack(
      (delegate) => (added = cluster.add(name, { delegate, tags })).swim,
      () => ({ transport: added!.transport, clock: cluster.clock, random: new SeededRandom(seed * 100 + backends.size), config: localGossipConfig(), admit: admitEnvelope(batchNode) }),
    );
    const keyring = o.keyrings ? new Keyring([firstKey]) : null;
    if (keyring) keyrings.set(name, keyring);
    const backend = new ClusterBackend({
      transport: added!.transport,
      swim,
      gossip,
      node: batchNode,
      version: "test",
      keyring,
      saveKeyring: () => void saved.push(name),
      log: nullLogger,
      clock: cluster.clock,
    });
    await backend.start();
    backends.set(name, backend);
  }
  for (const n of names.slice(1)) void backends.get(n)!.join([SimCluster.addressOf(names[0]!)]);
  assert.notEqual(await cluster.runUntil(() => cluster.agree(names), 30_000), -1, "the cluster did not converge");
  return { cluster, backends, keyrings, saved, names, firstKey, origin: backends.get(names[0]!)! };
}

/** Drains a stream in the background while the test advances the virtual clock. */
function collect<E>(events: AsyncIterable<E>): { events: E[]; ended: () => boolean } {
  const out: E[] = [];
  let ended = false;
  void (async () => {
    for await (const e of events) out.push(e);
    ended = true;
  })();
  return { events: out, ended: () => ended };
}

const checks: CheckSpec[] = [{ name: "root", type: "file_exists", path: "/" }];
const request = (r: Partial<BatchRequest> = {}): BatchRequest => ({ checks, dryRun: false, nodes: [], tags: {}, ttlMs: 60_000, timeoutMs: 30_000, ...r });
const types = (events: { type: string }[]) => events.map((e) => e.type);
const byNode = <E extends { type: string }>(events: E[], type: E["type"]) =>
  events
    .filter((e) => e.type === type)
    .map((e) => (e as E & { node: string }).node)
    .sort();

describe("ClusterBackend streams", () => {
  it("a batch: accepted with every running member, one result per node, then done; history, info and metrics follow", async () => {
    const { cluster, origin, names } = await backendCluster(1, 4);
    // Built before the batch, so the histograms observe it (lazy_metrics.ts).
    await origin.metrics.registry();
    const s = collect(origin.submitBatch(request(), new AbortController().signal));
    assert.notEqual(await cluster.runUntil(s.ended, 10_000, 10), -1);
    const accepted = s.events[0] as Extract<BatchEvent, { type: "accepted" }>;
    assert.deepEqual(accepted.expected.map((n) => n.name).sort(), names);
    assert.deepEqual(accepted.expected.map((n) => n.address).sort(), names.map(SimCluster.addressOf));
    assert.deepEqual(byNode(s.events, "result"), names);
    for (const e of s.events.filter((e) => e.type === "result"))
      assert.deepEqual(
        (e as { results: { status: string }[] }).results.map((r) => r.status),
        ["pass"],
      );
    assert.deepEqual(s.events.at(-1), { type: "done", elapsedMs: (s.events.at(-1) as { elapsedMs: number }).elapsedMs, timedOut: false });
    assert.deepEqual(
      origin.batches().map((b) => [b.batchId, b.expected, b.answered, b.state]),
      [[accepted.batchId, 4, 4, "done"]],
    );
    const info = origin.info();
    assert.deepEqual(info.members, { alive: 4, suspect: 0, dead: 0, left: 0 });
    assert.ok(info.counters.gossip_published === 1 && "net_packetsIn" in info.counters && "swim_probes" in info.counters);
    const metrics = await origin.metrics.text();
    assert.match(metrics, /^gossipcheck_members\{status="alive"\} 4$/m);
    assert.match(metrics, /^gossipcheck_check_results_total\{status="pass"\} 1$/m);
    // Every status is there from the start, at 0 until one comes, so an alert on warnings has a series to watch.
    for (const status of ["warn", "fixed", "fail", "error"]) assert.match(metrics, new RegExp(`^gossipcheck_check_results_total\\{status="${status}"\\} 0$`, "m"));
    assert.match(metrics, /^gossipcheck_gossip_envelopes_published_total 1$/m);
    assert.match(metrics, /^gossipcheck_batches_submitted_total 1$/m);
    assert.match(metrics, /^gossipcheck_decrypt_failures_total 0$/m);
    // Observed where things end: the round trip at the origin (all 4 answered), the origin's own check by type.
    assert.match(metrics, /^gossipcheck_batch_round_trip_seconds_count 1$/m);
    assert.match(metrics, /^gossipcheck_check_evaluation_seconds_count\{type="file_exists"\} 1$/m);
    assert.equal(origin.health().healthy, true, JSON.stringify(origin.health()));
    cluster.shutdown();
  });

  it("health: a node that joined is healthy; once every other member is dead it is alone, and says so", async () => {
    const { cluster, backends, names } = await backendCluster(3, 2);
    const joiner = backends.get(names[1]!)!;
    assert.deepEqual(joiner.health(), { healthy: true, detail: "member of 2 running, health score 0" });
    cluster.kill(names[0]!);
    assert.notEqual(await cluster.runUntil(() => !joiner.health().healthy, 30_000), -1, "the joiner never noticed it was alone");
    const h = joiner.health();
    assert.ok(!h.healthy && /^alone: no other member is alive/.test(h.reason), JSON.stringify(h));
    // The seed was started without -peers: alone is what it was asked to be.
    assert.equal(backends.get(names[0]!)!.health().healthy, true);
    cluster.shutdown();
  });

  it("targeting by tag: only the matching nodes are expected and answer; the others relay", async () => {
    const { cluster, backends, origin } = await backendCluster(2, 4, { tags: (n) => ({ role: n === "n1" || n === "n3" ? "web" : "db" }) });
    const s = collect(origin.submitBatch(request({ tags: { role: "web" } }), new AbortController().signal));
    assert.notEqual(await cluster.runUntil(s.ended, 10_000, 10), -1);
    assert.deepEqual((s.events[0] as { expected: { name: string }[] }).expected.map((n) => n.name).sort(), ["n1", "n3"]);
    assert.deepEqual(types(s.events).slice(1), ["result", "result", "done"]);
    assert.equal(backends.get("n2")!.info().counters.gossip_received, 1, "a node outside the target still received (and relayed) it");
    cluster.shutdown();
  });

  it("a node killed before submission is reported unreachable once the membership declares it dead", async () => {
    const { cluster, origin } = await backendCluster(3, 4);
    cluster.kill("n3");
    const s = collect(origin.submitBatch(request(), new AbortController().signal));
    assert.notEqual(await cluster.runUntil(s.ended, 30_000, 50), -1, "the wait ended");
    assert.deepEqual(byNode(s.events, "result"), ["n0", "n1", "n2"]);
    assert.deepEqual(
      s.events.filter((e) => e.type === "unreachable"),
      [{ type: "unreachable", node: "n3", address: SimCluster.addressOf("n3"), reason: "declared dead by the membership" }],
    );
    assert.equal((s.events.at(-1) as { timedOut: boolean }).timedOut, false);
    cluster.shutdown();
  });

  it("the wait ends at timeoutMs with done timedOut; a client that goes away ends it without done", async () => {
    const { cluster, origin } = await backendCluster(4, 2);
    // The action takes real time; the virtual clock passes the timeout first.
    const slow = request({ checks: [{ name: "slow", type: "file_exists", path: "/nonexistent-x", action: "sleep 0.3" }], timeoutMs: 500 });
    const s = collect(origin.submitBatch(slow, new AbortController().signal));
    assert.notEqual(await cluster.runUntil(s.ended, 5_000, 50), -1);
    assert.deepEqual(types(s.events), ["accepted", "done"]);
    assert.equal((s.events[1] as { timedOut: boolean }).timedOut, true);

    const client = new AbortController();
    const gone = collect(origin.submitBatch(slow, client.signal));
    await cluster.clock.advance(10);
    client.abort();
    assert.notEqual(await cluster.runUntil(gone.ended, 1_000, 10), -1);
    assert.deepEqual(types(gone.events), ["accepted"]);
    assert.equal(origin.batches()[0]?.state, "running", "the batch itself goes on");
    cluster.shutdown();
  });

  it("signed batches: with trusted keys every node refuses an unsigned one; the origin refuses an expired signed one", async () => {
    const operator = generateSigningKeyPair();
    const dir = mkdtempSync(join(tmpdir(), "backend-trusted-"));
    writeFileSync(join(dir, "op.pub"), operator.publicKey);
    const trusted = await loadTrustedKeys(dir);
    rmSync(dir, { recursive: true });
    assert.ok(trusted.ok);
    const { cluster, origin, names } = await backendCluster(5, 3, { trustedKeys: trusted.value });
    const unsigned = collect(origin.submitBatch(request(), new AbortController().signal));
    assert.notEqual(await cluster.runUntil(unsigned.ended, 10_000, 10), -1);
    assert.deepEqual(byNode(unsigned.events, "rejected"), names);
    assert.ok(unsigned.events.filter((e) => e.type === "rejected").every((e) => (e as { reason: string }).reason === "unsigned"));

    const key = parsePrivateKey(operator.privateKey, "op");
    assert.ok(key.ok);
    const env = signEnvelope(
      {
        id: new Uint8Array(16).fill(9),
        origin: "n0",
        originAddress: SimCluster.addressOf("n0"),
        createdMs: cluster.clock.now() - 120_000,
        ttlMs: 60_000,
        kind: pb.EnvelopeKind.CHECK_BATCH,
        payload: encodeCheckBatch({ checks, dryRun: false, targetNodes: ["n0"], targetTags: {} }),
        signature: new Uint8Array(0),
        signerKey: new Uint8Array(0),
      },
      key.value,
    );
    const { kind: _kind, ...signed } = env;
    const expired = collect(origin.submitBatch(request({ nodes: ["n0"], signed }), new AbortController().signal));
    assert.notEqual(await cluster.runUntil(expired.ended, 1_000, 10), -1);
    assert.deepEqual(types(expired.events), ["accepted", "rejected", "done"]);
    assert.match((expired.events[1] as { reason: string }).reason, /^not published by n0: envelope has already expired/);
    cluster.shutdown();
  });

  it("a reload's live changes: new tags reach every member and retarget batches; trusted keys set or cleared apply to the next batch", async () => {
    const { cluster, backends, origin, names } = await backendCluster(8, 3, { tags: () => ({ role: "db" }) });
    const n2 = backends.get("n2")!;
    const incarnation = n2.members().find((m) => m.name === "n2")!.incarnation;
    n2.setTags({ role: "web" });
    const seen = () =>
      names.every(
        (n) =>
          backends
            .get(n)!
            .members()
            .find((m) => m.name === "n2")?.tags.role === "web",
      );
    assert.notEqual(await cluster.runUntil(seen, 10_000, 10), -1, "every member sees n2's new tags");
    assert.ok(origin.members().find((m) => m.name === "n2")!.incarnation > incarnation, "spread with a new incarnation");
    assert.deepEqual(n2.info().tags, { role: "web" });
    const web = collect(origin.submitBatch(request({ tags: { role: "web" } }), new AbortController().signal));
    assert.notEqual(await cluster.runUntil(web.ended, 10_000, 10), -1);
    assert.deepEqual(byNode(web.events, "result"), ["n2"]);

    const dir = mkdtempSync(join(tmpdir(), "backend-reload-"));
    writeFileSync(join(dir, "op.pub"), generateSigningKeyPair().publicKey);
    const trusted = await loadTrustedKeys(dir);
    rmSync(dir, { recursive: true });
    assert.ok(trusted.ok);
    for (const b of backends.values()) b.setTrustedKeys(trusted.value);
    const unsigned = collect(origin.submitBatch(request(), new AbortController().signal));
    assert.notEqual(await cluster.runUntil(unsigned.ended, 10_000, 10), -1);
    assert.deepEqual(byNode(unsigned.events, "rejected"), names);
    for (const b of backends.values()) b.setTrustedKeys(undefined);
    const again = collect(origin.submitBatch(request(), new AbortController().signal));
    assert.notEqual(await cluster.runUntil(again.ended, 10_000, 10), -1);
    assert.deepEqual(byNode(again.events, "result"), names);
    cluster.shutdown();
  });

  it("a key operation: every node applies it to its keyring and answers with fingerprints; without a key it cannot start", async () => {
    const plain = await backendCluster(6, 2);
    const refused = plain.origin.keyOp({ op: "list", timeoutMs: 5000 }, new AbortController().signal);
    assert.deepEqual(refused, { ok: false, error: "this cluster runs without a key: start every daemon with -key-file (gcheck keygen > key), then rotate keys with gcheck keys" });
    plain.cluster.shutdown();

    const { cluster, origin, keyrings, saved, names, firstKey } = await backendCluster(7, 3, { keyrings: true });
    const second = generateKey();
    const started = origin.keyOp({ op: "install", key: decodeKey(second), timeoutMs: 5000 }, new AbortController().signal);
    assert.ok(started.ok);
    const s = collect<KeyEvent>(started.events);
    assert.notEqual(await cluster.runUntil(s.ended, 5_000, 10), -1);
    const fps = [firstKey, second].map((k) => keyFingerprint(decodeKey(k)));
    assert.deepEqual(
      s.events
        .filter((e) => e.type === "result")
        .map((e) => [(e as { node: string }).node, (e as { ok: boolean }).ok, (e as { keys: string[] }).keys])
        .sort(),
      names.map((n) => [n, true, fps]),
    );
    assert.equal(s.events.at(-1)?.type, "done");
    for (const n of names) assert.deepEqual(keyrings.get(n)!.list(), [firstKey, second]);
    assert.deepEqual(saved.sort(), names);
    cluster.shutdown();
  });
});
