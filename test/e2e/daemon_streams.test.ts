/**
 * The live streams (/v1/streams/*) of real daemons read with a plain HTTP
 * client: members change on the stream as the membership learns, stats
 * rounds name every node, a batch fills in on the batches stream and its
 * own stream, the round loop stops when its last watcher leaves.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { type ClusterNode, startCluster, metricTotal, stopAll, waitForView } from "../support/daemon_cluster.js";
import { SseReader } from "../support/sse.js";
import { GCHECK_BIN, waitFor } from "../support/proc.js";
import { spawn } from "node:child_process";

let nodes: ClusterNode[] = [];
const readers: SseReader[] = [];
const open = async (node: ClusterNode, path: string) => {
  const r = await SseReader.open(`http://${node.cli}${path}`);
  readers.push(r);
  return r;
};

before(async () => {
  nodes = await startCluster(["s-a", "s-b", "s-c"]);
  await waitForView(nodes, ["s-a:alive", "s-b:alive", "s-c:alive"]);
});
after(async () => {
  for (const r of readers) r.close();
  await stopAll(nodes);
});

test("the stats stream: each round asks every live node once and names every answer; no watcher, no rounds", async () => {
  const r = await open(nodes[0]!, "/v1/streams/stats?interval=1s");
  const done = await r.waitFor((e) => e.event === "round-done" && e.data.answered === 3, 15_000, "a round answered by all 3");
  const round = done.data.round;
  const stats = r.events.filter((e) => e.event === "stats" && e.data.round === round);
  assert.deepEqual(stats.map((e) => e.data.node).sort(), ["s-a", "s-b", "s-c"]);
  for (const e of stats) {
    assert.ok(e.data.stats.memory.totalBytes > 0, `${e.data.node} reports its memory`);
    assert.ok(e.data.stats.cpu.count > 0);
  }
  // A second watcher of the same question shares the loop: same rounds, no second request.
  const r2 = await open(nodes[0]!, "/v1/streams/stats?interval=1s");
  await r2.waitFor((e) => e.event === "round-done", 5_000, "the second watcher's round");
  assert.equal(await metricTotal(nodes[0]!, "gossipcheck_streams_open"), 2);
  r.close();
  r2.close();
  await waitFor(async () => (await metricTotal(nodes[0]!, "gossipcheck_streams_open")) === 0, 5_000, "both streams closed on the daemon");
  const rounds = await metricTotal(nodes[0]!, 'gossipcheck_stream_rounds_total{stream="stats"}');
  // Three intervals without a watcher: not one more round (an absence, so it is observed over a bounded time).
  await new Promise((res) => setTimeout(res, 3_000));
  assert.equal(await metricTotal(nodes[0]!, 'gossipcheck_stream_rounds_total{stream="stats"}'), rounds);
});

test("the batches stream and a batch's own stream fill in as the results arrive, on the origin and from history elsewhere", async () => {
  const list = await open(nodes[0]!, "/v1/streams/batches");
  await list.waitFor((e) => e.event === "snapshot", 5_000, "the snapshot");
  const res = await fetch(`http://${nodes[0]!.cli}/v1/check`, {
    method: "POST",
    body: JSON.stringify({ checkFile: "hostname:\n  type: file_exists\n  path: /etc/hostname\n", dryRun: true }),
  });
  const lines = (await res.text())
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const id = lines[0].batchId as string;
  await list.waitFor((e) => e.event === "batch" && e.data.batchId === id && e.data.answered === 3 && e.data.state === "done", 10_000, "the batch done 3/3 on the list");
  const last = list.events.filter((e) => e.event === "batch" && e.data.batchId === id).pop()!;
  assert.equal(last.data.counts.pass, 3);
  assert.equal(last.data.source, "origin");

  const one = await open(nodes[0]!, `/v1/streams/batches/${id}`);
  await one.waitFor((e) => e.event === "done", 5_000, "the replayed batch to end");
  assert.deepEqual(
    one.events.map((e) => e.event).filter((t) => t !== "result"),
    ["accepted", "done"],
  );
  assert.deepEqual(
    one.events
      .filter((e) => e.event === "result")
      .map((e) => e.data.node)
      .sort(),
    ["s-a", "s-b", "s-c"],
  );

  // Another node did not publish it: it asks every node's history.
  const elsewhere = await open(nodes[1]!, `/v1/streams/batches/${id}`);
  await elsewhere.waitFor((e) => e.event === "done", 15_000, "the history answers");
  assert.deepEqual(
    elsewhere.events
      .filter((e) => e.event === "result")
      .map((e) => e.data.node)
      .sort(),
    ["s-a", "s-b", "s-c"],
  );
  // And lists it as one it ran.
  const list2 = await open(nodes[1]!, "/v1/streams/batches");
  const snap = await list2.waitFor((e) => e.event === "snapshot", 5_000, "the snapshot");
  assert.equal(snap.data.batches.find((b: { batchId: string }) => b.batchId === id)?.source, "history");
});

test("bad stream requests are answered before any stream starts", async () => {
  const cli = nodes[0]!.cli;
  for (const [path, status, words] of [
    ["/v1/streams/stats?interval=1ms", 400, "interval"],
    ["/v1/streams/stats?tag=bad", 400, "tag="],
    ["/v1/streams/batches/xyz", 400, "batch ID"],
    ["/v1/streams/nothing", 404, "no such endpoint"],
  ] as const) {
    const res = await fetch(`http://${cli}${path}`);
    assert.equal(res.status, status, path);
    assert.match(((await res.json()) as { error: string }).error, new RegExp(words));
  }
  assert.equal((await fetch(`http://${cli}/v1/streams/members`, { method: "POST" })).status, 405);
});

test("the checks stream: each node's scheduled checks, per round", async () => {
  const set = await fetch(`http://${nodes[0]!.cli}/v1/schedules`, {
    method: "POST",
    body: JSON.stringify({ name: "stream-test", checks: { host: { type: "file_exists", path: "/etc/hostname", interval: "1s" } } }),
  });
  assert.equal(set.status, 200, await set.text());
  const r = await open(nodes[0]!, "/v1/streams/checks?interval=1s");
  // A round in which every node reports the scheduled check passing.
  await waitFor(
    () => {
      const byRound = new Map<number, Set<string>>();
      for (const e of r.events)
        if (e.event === "checks" && e.data.states.some((st: { check: string; status: string }) => st.check === "host" && st.status === "pass"))
          byRound.set(e.data.round, (byRound.get(e.data.round) ?? new Set()).add(e.data.node));
      return [...byRound.values()].some((nodesSeen) => nodesSeen.size === 3);
    },
    20_000,
    "a round with the scheduled check passing on all 3 nodes",
  );
  const removed = await fetch(`http://${nodes[0]!.cli}/v1/schedules/stream-test`, { method: "DELETE" });
  assert.equal(removed.status, 200);
});

test("the members stream: a snapshot of every member, then a killed node turns dead on the stream", async () => {
  const r = await open(nodes[0]!, "/v1/streams/members");
  const snap = await r.waitFor((e) => e.event === "snapshot", 5_000, "the snapshot");
  assert.deepEqual(
    snap.data.members.map((m: { name: string; status: string }) => `${m.name}:${m.status}`),
    ["s-a:alive", "s-b:alive", "s-c:alive"],
  );
  await nodes[2]!.proc.kill9();
  const dead = await r.waitFor((e) => e.event === "member" && e.data.member.name === "s-c" && e.data.member.status === "dead", 20_000, "s-c dead on the stream");
  assert.equal(dead.data.change, "fail");
});

test("gcheck stats -watch and members -watch print live tables from the streams until Ctrl-C (exit 0)", async () => {
  for (const args of [
    ["stats", "-watch", "-interval", "1s"],
    ["members", "-watch"],
  ]) {
    const child = spawn(process.execPath, [GCHECK_BIN, "-server", nodes[0]!.cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      // Pipe output: stats prints a table per round, members the snapshot table (s-c was killed above, so 2 alive).
      const want = args[0] === "stats" ? /round \d+ at[\s\S]*s-a[\s\S]*s-b[\s\S]*2\/2 nodes answered/ : /s-a\s+\S+\s+alive[\s\S]*s-b\s+\S+\s+alive/;
      await waitFor(() => want.test(out), 20_000, `gcheck ${args.join(" ")} to print ${want}; printed ${JSON.stringify(out)}`);
    } finally {
      child.kill("SIGINT");
    }
    assert.equal(await exited, 0, out);
  }
});
