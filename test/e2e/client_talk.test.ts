/**
 * The client library's calls that lean on the other issue-17 endpoints,
 * against real daemons: query (answers per node, a node without a handler
 * answers with none), event (delivered to every node, its handler gets the
 * payload), waitFor (resolves once enough members carry the tags, 408 at its
 * timeout), and the coordinator event.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { type ClusterNode, startCluster, stopAll, waitForView } from "../support/daemon_cluster.js";
import { tempDir, waitFor } from "../support/proc.js";
import { type Client, type ClientError, type CoordinatorChange, connect } from "../../src/client/index.js";

let nodes: ClusterNode[] = [];
let client: Client;
const dir = tempDir();
const eventFile = join(dir.path, "event.out");

before(async () => {
  nodes = await startCluster(["ct-a", "ct-b"], (name) =>
    name === "ct-b" ? ["-tag", "role=db", "-weight", "10", "-on", "query:hello=printf hi-from-$GOSSIPCHECK_EVENT_NAME", "-on", `user:ping=cat > ${eventFile}`] : [],
  );
  await waitForView(nodes, ["ct-a:alive", "ct-b:alive"]);
  client = await connect({ server: nodes[0]!.cli });
});
after(async () => {
  client?.close();
  await stopAll(nodes);
  dir.cleanup();
});

test("query: every node answers, with its handlers' output (none where it has no handler)", async () => {
  const q = await client.query("hello", "x", { timeoutMs: 10_000 });
  assert.equal(q.timedOut, false);
  const byNode = new Map(q.answers.map((a) => [a.node, a]));
  assert.deepEqual([...byNode.keys()].sort(), ["ct-a", "ct-b"]);
  assert.equal(byNode.get("ct-a")!.handlers.length, 0);
  assert.equal(byNode.get("ct-b")!.handlers[0]!.text, "hi-from-hello");
});

test("event: delivered to every node, the handler gets the payload on standard input", async () => {
  const e = await client.event("ping", "the payload", { timeoutMs: 10_000 });
  assert.deepEqual(e.delivered.sort(), ["ct-a", "ct-b"]);
  await waitFor(() => existsSync(eventFile) && readFileSync(eventFile, "utf8") === "the payload", 10_000, "the handler to write the payload");
});

test("waitFor resolves once enough members carry the tags, and rejects with 408 at its timeout", async () => {
  const members = await client.waitFor({ tags: { role: "db" }, count: 1, timeoutMs: 5_000 });
  assert.ok(members.some((m) => m.name === "ct-b"));
  await assert.rejects(client.waitFor({ tags: { role: "db" }, count: 2, timeoutMs: 1_000 }), (err: ClientError) => err.status === 408);
});

test("the coordinator event names the heaviest member", async () => {
  const seen: CoordinatorChange[] = [];
  client.on("coordinator", (c) => seen.push(c));
  await waitFor(() => seen.some((c) => c.coordinators[0] === "ct-b"), 10_000, "a coordinator event naming ct-b");
});
