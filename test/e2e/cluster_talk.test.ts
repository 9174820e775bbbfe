import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { EventStreamEvent, QueryStreamEvent } from "../../src/control/talk_types.js";
import { QUERY_OUTPUT_MAX_BYTES } from "../../src/control/talk_types.js";
import { type ClusterNode, startCluster, startClusterNode, stopAll, waitForView } from "../support/daemon_cluster.js";
import { ndjsonEvents, runGcheck, tempDir, waitFor } from "../support/proc.js";

/*
 * User events and queries (issue 17) on real daemons on loopback: a 10 MB
 * event reaches every one of 10 nodes' handlers with the same bytes (each
 * handler writes the sha256 it read to a file of its node); a node
 * restarted (kill -9, same data dir) inside the event's TTL does not run it
 * again; a query returns each node's output, marks a truncated one, and a
 * node without a handler answers with none; -wait-handlers reports a
 * failing handler (gcheck exit 1); bad bodies get a 400 that says why.
 */

const dir = tempDir("gc-talk-");
let nodes: (ClusterNode | undefined)[] = [];
after(async () => {
  await stopAll(nodes);
  dir.cleanup();
});

/** A handler script: appends "<event id> <sha256 of stdin>" to out/<node>. */
function handlerScript(): string {
  const script = join(dir.path, "handler.sh");
  writeFileSync(script, `#!/bin/sh\necho "$GOSSIPCHECK_EVENT_ID $(sha256sum | cut -c1-64) $GOSSIPCHECK_EVENT_ORIGIN" >> ${dir.path}/out.$GOSSIPCHECK_NODE\n`);
  chmodSync(script, 0o755);
  return script;
}

async function post<E>(node: ClusterNode, path: string, body: unknown): Promise<{ status: number; events: E[]; text: string }> {
  const res = await fetch(`http://${node.cli}${path}`, { method: "POST", body: JSON.stringify(body) });
  if (res.status !== 200) return { status: res.status, events: [], text: await res.text() };
  return { status: 200, events: await ndjsonEvents<E>(res), text: "" };
}

function handled(name: string): string[] {
  const f = join(dir.path, `out.${name}`);
  return existsSync(f) ? readFileSync(f, "utf8").trim().split("\n") : [];
}

describe("user events and queries on 10 daemons", () => {
  const names = Array.from({ length: 10 }, (_, i) => `t${i}`);
  const dataDirs = new Map(names.map((n) => [n, join(dir.path, `data-${n}`)]));

  it("a 10 MB event: every node's handler reads the same bytes, once; a restart inside the TTL runs it no more", async () => {
    const script = handlerScript();
    // t1..t3 answer the query; t3's output is larger than the bound; t4 has no query handler, nor does anyone else.
    const queryArgs = (n: string) =>
      n === "t1" || n === "t2" ? ["-on", `query:who=echo I am $GOSSIPCHECK_NODE; cat`] : n === "t3" ? ["-on", `query:who=head -c ${QUERY_OUTPUT_MAX_BYTES + 100} /dev/zero`] : [];
    nodes = await startCluster(names, (n) => ["-data-dir", dataDirs.get(n)!, "-on", `user:bundle=${script}`, "-on", `user:fail=exit 5`, ...queryArgs(n)]);
    await waitForView(
      nodes as ClusterNode[],
      names.map((n) => `${n}:alive`),
      20_000,
    );

    const payload = randomBytes(10_000_000);
    const sha = createHash("sha256").update(payload).digest("hex");
    const sent = await post<EventStreamEvent>(nodes[0]!, "/v1/events", { name: "bundle", payload: payload.toString("base64"), timeoutMs: 120_000 });
    assert.equal(sent.status, 200, sent.text);
    const accepted = sent.events[0] as Extract<EventStreamEvent, { type: "accepted" }>;
    assert.equal(accepted.type, "accepted");
    assert.equal(accepted.bytes, 10_000_000);
    const delivered = sent.events.filter((e) => e.type === "delivered");
    assert.deepEqual(delivered.map((e) => e.node).sort(), names.slice().sort());
    assert.deepEqual(sent.events.at(-1), { type: "done", elapsedMs: (sent.events.at(-1) as { elapsedMs: number }).elapsedMs, timedOut: false });
    await waitFor(() => names.every((n) => handled(n).length === 1), 30_000, "every handler to write its line");
    for (const n of names) assert.deepEqual(handled(n), [`${accepted.id} ${sha} t0`], `${n}'s handler`);

    // kill -9 one node and bring it back with its data dir, inside the TTL: push-pull and advertisements offer the event again.
    const victim = nodes[5]!;
    await victim.proc.kill9();
    nodes[5] = await startClusterNode("t5", ["-bind", victim.address, "-data-dir", dataDirs.get("t5")!, "-peers", nodes[0]!.address, "-on", `user:bundle=${script}`]);
    await waitForView(
      [nodes[5]!, nodes[0]!],
      names.map((n) => `${n}:alive`),
      20_000,
    );
    // A later event reaches it: the first one, still live, had every chance to be offered too.
    const later = await post<EventStreamEvent>(nodes[0]!, "/v1/events", { name: "bundle", payloadText: "after", nodes: ["t5"] });
    assert.ok(
      later.events.some((e) => e.type === "delivered" && e.node === "t5"),
      JSON.stringify(later.events),
    );
    await waitFor(() => handled("t5").length === 2, 10_000, "t5 to run the later event");
    await new Promise((r) => setTimeout(r, 1000)); // anti-entropy rounds (200 ms each in the local profile)
    assert.equal(handled("t5").filter((l) => l.startsWith(accepted.id)).length, 1, "the 10 MB event ran on t5 once, not again after the restart");
  });

  it("a query returns each node's output; a truncated one is marked; a node without a handler answers with none", async () => {
    const q = await post<QueryStreamEvent>(nodes[1]!, "/v1/queries", { name: "who", payloadText: "ping", nodes: ["t1", "t2", "t3", "t4"] });
    assert.equal(q.status, 200, q.text);
    const answers = new Map(q.events.flatMap((e) => (e.type === "answer" ? [[e.node, e.handlers] as const] : [])));
    assert.deepEqual([...answers.keys()].sort(), ["t1", "t2", "t3", "t4"]);
    assert.equal(answers.get("t1")![0]!.outputText, "I am t1\nping");
    assert.equal(answers.get("t2")![0]!.code, 0);
    const big = answers.get("t3")![0]!;
    assert.equal(big.truncated, true);
    assert.equal(Buffer.from(big.output, "base64").length, QUERY_OUTPUT_MAX_BYTES);
    assert.deepEqual(answers.get("t4"), []);
    const done = q.events.at(-1) as Extract<QueryStreamEvent, { type: "done" }>;
    assert.equal(done.timedOut, false);
    assert.ok(done.elapsedMs < 5000, `the query ended when the last node answered, not at its timeout (${done.elapsedMs} ms)`);

    const cli = await runGcheck(["query", "who", "hello", "-server", nodes[0]!.cli, "-node", "t1", "-node", "t4"], { timeoutMs: 20_000 });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /t1\s+0\s+I am t1 \| hello/);
    assert.match(cli.stdout, /t4\s+-\s+\(no handler for this query\)/);
  });

  it("gcheck event -wait-handlers reports a failing handler's exit status and exits 1", async () => {
    const r = await runGcheck(["event", "fail", "-server", nodes[0]!.cli, "-node", "t2", "-node", "t3", "-wait-handlers", "-output", "json"], { timeoutMs: 20_000 });
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { nodes: { node: string; state: string; results: { code: number }[] }[] };
    assert.deepEqual(
      doc.nodes.map((n) => [n.node, n.state, n.results.map((x) => x.code)]),
      [
        ["t2", "handled", [5]],
        ["t3", "handled", [5]],
      ],
    );
    const plain = await runGcheck(["event", "fail", "-server", nodes[0]!.cli, "-node", "t2"], { timeoutMs: 20_000 });
    assert.equal(plain.code, 0, "without -wait-handlers only the delivery counts");
  });

  it("bad bodies get a 400 that says what is wrong", async () => {
    const cases: [unknown, RegExp][] = [
      [{ name: "bad name" }, /"bad name" is not a name/],
      [{ name: "x", payload: "***" }, /field "payload" is not base64/],
      [{ name: "x", payloadText: "y".repeat(13 * 1024 * 1024) }, /larger than the limit/],
      [{ name: "x", nodes: "t1" }, /field "nodes" must be an array/],
    ];
    for (const [body, want] of cases) {
      const r = await post(nodes[0]!, "/v1/events", body);
      assert.equal(r.status, r.text.includes("request body is larger") ? 413 : 400, r.text);
      if (r.status === 400) assert.match((JSON.parse(r.text) as { error: string }).error, want);
    }
    const q = await post(nodes[0]!, "/v1/queries", { name: "" });
    assert.equal(q.status, 400);
    assert.match((JSON.parse(q.text) as { error: string }).error, /the name is missing/);
    const cli = await runGcheck(["event", "no/slash", "-server", nodes[0]!.cli]);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /is not a name/);
  });
});
