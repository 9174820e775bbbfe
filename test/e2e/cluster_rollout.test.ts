import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BatchEvent, BatchRequestBody, RolloutStatus } from "../../src/control/api_types.js";
import { type ClusterNode, membersOf, startCluster, stopAll, waitForView } from "../support/daemon_cluster.js";
import { runGcheck, tempDir, waitFor } from "../support/proc.js";

/*
 * Rollouts on five real gossipcheckd processes (README: Rollouts): the
 * origin publishes one wave at a time, so a failing canary leaves every
 * other node untouched (each node's action leaves a marker file named after
 * it, and only the canary's exists); a passing rollout covers every node in
 * the planned waves and order; abort and a disconnected gcheck let no
 * further wave start; -count 1 runs exactly once even when its first
 * choice was killed.
 */

const NAMES = ["r1", "r2", "r3", "r4", "r5"];
const t = tempDir("gc-rollout-");
let nodes: ClusterNode[] = [];
let seed: ClusterNode;
let runs = 0;

/** A check file whose check fails everywhere and whose action leaves DIR/<tag>-<node>; returns the file and the tag. */
function markerFile(): { file: string; tag: string } {
  const tag = `run${++runs}`;
  const file = join(t.path, `${tag}.json`);
  writeFileSync(file, JSON.stringify({ missing: { type: "file_exists", path: join(t.path, "never-there"), action: `touch "${t.path}/${tag}-$GOSSIPCHECK_NODE"` } }));
  return { file, tag };
}

function markers(tag: string): string[] {
  return readdirSync(t.path)
    .filter((f) => f.startsWith(`${tag}-`))
    .map((f) => f.slice(tag.length + 1))
    .sort();
}

const passing = { here: { type: "file_exists", path: t.path } };

/** POST /v1/check on the seed; the response for streaming. */
function post(body: BatchRequestBody, signal?: AbortSignal): Promise<Response> {
  return fetch(`http://${seed.cli}/v1/check`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" }, ...(signal && { signal }) });
}

/** Reads NDJSON events from a response, handing each to onEvent until it returns true or the stream ends. */
async function readEvents(res: Response, onEvent: (e: BatchEvent) => boolean | void): Promise<BatchEvent[]> {
  const events: BatchEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.trim()) continue;
      const e = JSON.parse(line) as BatchEvent;
      events.push(e);
      if (onEvent(e) === true) return events;
    }
  }
  return events;
}

async function rolloutStatus(id: string): Promise<RolloutStatus> {
  const res = await fetch(`http://${seed.cli}/v1/rollouts/${id}`);
  assert.equal(res.status, 200);
  return (await res.json()) as RolloutStatus;
}

describe("rollouts on a 5-node cluster", () => {
  before(async () => {
    nodes = await startCluster(NAMES);
    seed = nodes[0]!;
    await waitForView(
      nodes,
      NAMES.map((n) => `${n}:alive`),
      20_000,
    );
  });
  after(async () => {
    await stopAll(nodes);
    t.cleanup();
  });

  it("a failing canary stops the rollout: no other node ran anything, the rest are skipped, exit 1", async () => {
    const { file, tag } = markerFile();
    const r = await runGcheck(["-server", seed.cli, "-file", file, "-output", "json", "check", "-canary", "1", "-batch-size", "2", "-timeout", "20s"], { timeoutMs: 40_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /rollout stopped after wave 1 \(1 failures > max 0\)/);
    assert.deepEqual(markers(tag), ["r1"], "only the canary (first by name) ran the action");
    const doc = JSON.parse(r.stdout) as { nodes: { node: string; state: string; reason?: string }[] };
    const skipped = doc.nodes.filter((n) => n.node !== "r1");
    assert.deepEqual(
      skipped.map((n) => n.reason),
      skipped.map(() => "skipped: rollout stopped after wave 1 (1 failures > max 0)"),
    );
    // Still nothing anywhere else a moment later: no wave was ever published to them.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(markers(tag), ["r1"]);
  });

  it("a passing rollout covers every node in the planned waves and order", async () => {
    const res = await post({ checks: passing, timeoutMs: 20_000, rollout: { canary: 1, batchSize: 2 } });
    const events = await readEvents(res, () => false);
    const accepted = events[0];
    assert.ok(accepted?.type === "accepted" && accepted.rollout);
    assert.deepEqual(accepted.rollout.waves, [["r1"], ["r2", "r3"], ["r4", "r5"]]);
    // Every result of a wave arrives before the next wave starts.
    const order = events.filter((e) => e.type === "wave" || e.type === "result").map((e) => (e.type === "wave" ? `wave ${e.wave}` : e.type === "result" ? `${e.node}@${e.wave}` : ""));
    assert.deepEqual(order.slice(0, 2), ["wave 1", "r1@1"]);
    assert.equal(order[2], "wave 2");
    assert.deepEqual(order.slice(3, 5).sort(), ["r2@2", "r3@2"]);
    assert.equal(order[5], "wave 3");
    assert.deepEqual(order.slice(6).sort(), ["r4@3", "r5@3"]);
    const done = events.at(-1);
    assert.ok(done?.type === "done" && done.rollout?.outcome === "complete" && done.rollout.wavesRun === 3);
    const status = await rolloutStatus(done.rollout.id);
    assert.deepEqual(
      status.waves.map((w) => [w.state, w.batchId.length]),
      [
        ["done", 32],
        ["done", 32],
        ["done", 32],
      ],
    );
  });

  it("gcheck rollout abort lets no further wave start", async () => {
    const { tag } = markerFile();
    const checks = { missing: { type: "file_exists", path: join(t.path, "never-there"), action: `touch "${t.path}/${tag}-$GOSSIPCHECK_NODE"` } };
    const res = await post({ checks, timeoutMs: 20_000, rollout: { batchSize: 1, batchWaitMs: 60_000, maxFailures: "100%" } });
    let id = "";
    const events = await readEvents(res, (e) => {
      if (e.type === "accepted") id = e.rollout!.id;
      if (e.type === "result") {
        // Wave 1 answered: the origin now waits 60 s before wave 2. Abort it.
        void runGcheck(["-server", seed.cli, "rollout", "abort", id]);
      }
    });
    const done = events.at(-1);
    assert.ok(done?.type === "done" && done.rollout?.outcome === "aborted", JSON.stringify(done));
    assert.deepEqual(
      events.filter((e) => e.type === "skipped").map((e) => e.node),
      ["r2", "r3", "r4", "r5"],
    );
    assert.deepEqual(markers(tag), ["r1"]);
    const list = await runGcheck(["-server", seed.cli, "rollout", "list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout.split("\n")[0]!, new RegExp(`^${id}\\s+\\S+\\s+waves\\s+aborted\\s+waves 1/5\\s+failures 1 \\(max 5\\)$`));
    const st = await runGcheck(["-server", seed.cli, "rollout", "status", id]);
    assert.equal(st.code, 1, `r1's check failed (tolerated by -max-failures, still a failure): ${st.stderr}`);
    assert.match(st.stdout, /aborted/);
  });

  it("a gcheck that disconnects stops the rollout after the current wave (no -detach)", async () => {
    const { tag } = markerFile();
    const checks = { missing: { type: "file_exists", path: join(t.path, "never-there"), action: `touch "${t.path}/${tag}-$GOSSIPCHECK_NODE"` } };
    const ac = new AbortController();
    const res = await post({ checks, timeoutMs: 20_000, rollout: { batchSize: 2, batchWaitMs: 1_000, maxFailures: "100%" } }, ac.signal);
    let id = "";
    await readEvents(res, (e) => {
      if (e.type === "accepted") id = e.rollout!.id;
      return e.type === "wave";
    }).catch(() => []);
    ac.abort();
    await waitFor(async () => (await rolloutStatus(id)).outcome !== "running", 15_000, "the rollout to end");
    const status = await rolloutStatus(id);
    assert.equal(status.outcome, "disconnected");
    assert.deepEqual(
      status.waves.map((w) => w.state),
      ["done", "skipped", "skipped"],
    );
    assert.deepEqual(markers(tag), ["r1", "r2"]);
  });

  it("-count 1 runs exactly once, even when its first choice was killed", async () => {
    const victim = nodes.at(-1)!;
    await victim.proc.kill9();
    // Until the membership declares r5 dead, it is still a candidate; the choice is sha256(rollout ID + name), so
    // submit until r5 is the first choice (each attempt is checked to run exactly once too).
    let replaced: BatchEvent[] | null = null;
    for (let attempt = 0; attempt < 16 && !replaced; attempt++) {
      const r5 = (await membersOf(seed)).find((m) => m.name === "r5");
      if (r5?.status !== "alive" && r5?.status !== "suspect") break; // declared dead: it can no longer be chosen
      const { tag } = markerFile();
      const checks = { missing: { type: "file_exists", path: join(t.path, "never-there"), action: `touch "${t.path}/${tag}-$GOSSIPCHECK_NODE"` } };
      const res = await post({ checks, nodes: ["r4", "r5"], timeoutMs: 30_000, rollout: { count: 1 } });
      const events = await readEvents(res, () => false);
      const waves = events.filter((e) => e.type === "wave");
      assert.equal(markers(tag).length, 1, `attempt ${attempt}: exactly one node ran it: ${JSON.stringify(events)}`);
      if (waves[0]?.type === "wave" && waves[0].nodes[0] === "r5") {
        assert.deepEqual(markers(tag), ["r4"]);
        replaced = events;
      }
    }
    assert.ok(replaced, "r5 was never the first choice before it was declared dead (each attempt is a coin toss; see the comment)");
    const kinds = replaced.filter((e) => e.type !== "accepted").map((e) => `${e.type}${"node" in e ? ` ${e.node}` : ""}${"nodes" in e ? ` ${e.nodes.join()}` : ""}`);
    assert.deepEqual(kinds, ["wave r5", "wave r4", "result r4", "skipped r5", "done"]);
    assert.ok(!existsSync(join(t.path, "never-there")));
  });
});

describe("a signed rollout on 3 nodes that run only signed batches", () => {
  const s = tempDir("gc-rollout-signed-");
  let signedNodes: ClusterNode[] = [];
  const names = ["s1", "s2", "s3"];

  before(async () => {
    const trusted = join(s.path, "trusted");
    mkdirSync(trusted);
    const op = await runGcheck(["keygen", "-signing", "-out", join(s.path, "operator")]);
    assert.equal(op.code, 0, op.stderr);
    writeFileSync(join(trusted, "operator.pub"), readFileSync(join(s.path, "operator.pub")));
    signedNodes = await startCluster(names, () => ["-trusted-keys", trusted]);
    await waitForView(
      signedNodes,
      names.map((n) => `${n}:alive`),
      20_000,
    );
  });
  after(async () => {
    await stopAll(signedNodes);
    s.cleanup();
  });

  /** gcheck check -sign-key against s1 with a check file whose check fails and whose action leaves s.path/TAG-NODE. */
  async function signedCheck(tag: string, ...flags: string[]) {
    const file = join(s.path, `${tag}.json`);
    writeFileSync(file, JSON.stringify({ missing: { type: "file_exists", path: join(s.path, "never-there"), action: `touch "${s.path}/${tag}-$GOSSIPCHECK_NODE"` } }));
    const r = await runGcheck(["-server", signedNodes[0]!.cli, "-file", file, "-output", "json", "check", "-sign-key", join(s.path, "operator.key"), "-timeout", "20s", ...flags], {
      timeoutMs: 40_000,
    });
    const ran = readdirSync(s.path)
      .filter((f) => f.startsWith(`${tag}-`))
      .map((f) => f.slice(tag.length + 1))
      .sort();
    return { r, ran };
  }

  it("gcheck signs one batch per wave: a failing canary stops it and no other node ran anything", async () => {
    const { r, ran } = await signedCheck("canary", "-canary", "1");
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /signed one batch per wave \(2\)/);
    assert.match(r.stderr, /rollout stopped after wave 1/);
    assert.deepEqual(ran, ["s1"]);
  });

  it("every signed wave is accepted by nodes that require signatures, in order", async () => {
    const { r, ran } = await signedCheck("all", "-batch-size", "1", "-max-failures", "100%");
    assert.equal(r.code, 1, r.stderr); // the check fails everywhere (its action ran): exit 1, but nothing was rejected
    assert.deepEqual(ran, names);
    const doc = JSON.parse(r.stdout) as { nodes: { node: string; state: string }[] };
    assert.deepEqual(
      doc.nodes.map((n) => `${n.node}:${n.state}`),
      names.map((n) => `${n}:answered`),
    );
  });

  it("-count does not combine with -sign-key (exit 2, nothing published)", async () => {
    const { r, ran } = await signedCheck("count", "-count", "1");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /-count does not combine with -sign-key/);
    assert.deepEqual(ran, []);
  });
});
