/**
 * Channels between processes on different nodes (issue 17), through the
 * client library against three real daemons: a publisher's messages reach
 * subscribers on the other nodes once each and in order; a direct message
 * reaches only its node; a 10 MB message arrives intact; a subscriber that
 * never reads is disconnected without the daemon's memory growing; reserved
 * and invalid names are refused.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { type IncomingMessage, request } from "node:http";
import { type ClusterNode, startCluster, metricTotal, stopAll, waitForView } from "../support/daemon_cluster.js";
import { rssBytes, waitFor } from "../support/proc.js";
import { type ChannelMessage, type Client, type ClientError, connect } from "../../src/client/index.js";

let nodes: ClusterNode[] = [];
let clients: Client[] = [];

before(async () => {
  nodes = await startCluster(["ch-a", "ch-b", "ch-c"]);
  await waitForView(nodes, ["ch-a:alive", "ch-b:alive", "ch-c:alive"]);
  clients = await Promise.all(nodes.map((n) => connect({ server: n.cli })));
});
after(async () => {
  for (const c of clients) c.close();
  await stopAll(nodes);
});

test("1,000 messages from one publisher reach the subscribers on two other nodes once each, in order", { timeout: 60_000 }, async () => {
  const [a, b, c] = clients as [Client, Client, Client];
  const got: Record<string, ChannelMessage[]> = { b: [], c: [] };
  const subs = [b.subscribe("orders", (m) => got.b!.push(m)), c.subscribe("orders", (m) => got.c!.push(m))];
  await Promise.all(subs.map((s) => s.ready));
  for (let i = 1; i <= 1000; i++) {
    const r = await a.publish("orders", `order ${i}`);
    assert.equal(r.seq, i);
  }
  await waitFor(() => got.b!.length >= 1000 && got.c!.length >= 1000, 30_000, "1,000 messages on ch-b and ch-c");
  for (const who of ["b", "c"]) {
    const msgs = got[who]!;
    assert.equal(msgs.length, 1000, `ch-${who} got each message once`);
    msgs.forEach((m, i) => {
      assert.equal(m.seq, i + 1);
      assert.equal(m.text, `order ${i + 1}`);
      assert.equal(m.from, "ch-a");
      assert.equal(m.missed, undefined);
    });
  }
  for (const s of subs) s();
});

test("a direct message reaches only its node: the others never receive it", { timeout: 30_000 }, async () => {
  const [a, b, c] = clients as [Client, Client, Client];
  const got: Record<string, ChannelMessage[]> = { a: [], b: [], c: [] };
  const subs = [a.subscribe("direct", (m) => got.a!.push(m)), b.subscribe("direct", (m) => got.b!.push(m)), c.subscribe("direct", (m) => got.c!.push(m))];
  await Promise.all(subs.map((s) => s.ready));
  const receivedOnC = async () => ((await (await fetch(`http://${nodes[2]!.cli}/v1/info`)).json()) as { counters: Record<string, number> }).counters.gossip_received ?? 0;
  const before = await receivedOnC();
  const sent = await a.send("ch-b", "direct", "for ch-b only");
  assert.equal(sent.seq, 1, "direct messages count per (channel, sender, node)");
  await a.publish("direct", "everyone");
  await waitFor(() => got.a!.length >= 1 && got.b!.length >= 2 && got.c!.length >= 1, 10_000, "the messages on every node");
  assert.deepEqual(got.b!.map((m) => [m.seq, m.text, m.direct ?? false]).sort(), [
    [1, "everyone", false],
    [1, "for ch-b only", true],
  ]);
  for (const who of ["a", "c"])
    assert.deepEqual(
      got[who]!.map((m) => [m.seq, m.text, m.direct ?? false]),
      [[1, "everyone", false]],
      who,
    );
  assert.equal((await receivedOnC()) - before, 1, "ch-c received the broadcast only, never the direct message");
  await assert.rejects(a.send("nobody", "direct", "x"), (e: ClientError) => e.status === 404 && /not a running member/.test(e.message));
  for (const s of subs) s();
});

test("a 10 MB message arrives intact on another node", { timeout: 60_000 }, async () => {
  const [a, , c] = clients as [Client, Client, Client];
  const body = randomBytes(10 * 1000 * 1000);
  const got: ChannelMessage[] = [];
  const sub = c.subscribe("big", (m) => got.push(m));
  await sub.ready;
  await a.publish("big", body);
  await waitFor(() => got.length === 1, 30_000, "the 10 MB message on ch-c");
  const data = Buffer.from(got[0]!.data, "base64");
  assert.equal(data.length, body.length);
  assert.equal(createHash("sha256").update(data).digest("hex"), createHash("sha256").update(body).digest("hex"));
  assert.equal(got[0]!.text, undefined, "random bytes are not UTF-8: no text");
  sub();
});

test("a subscriber that never reads is disconnected, and the daemon's memory stays bounded", { timeout: 90_000 }, async () => {
  const [a] = clients as [Client];
  const b = nodes[1]!;
  const baseline = rssBytes(b.proc.pid);
  // A raw subscriber that reads its headers and nothing more.
  const [host, port] = b.cli.split(":");
  const req = request({ host, port: Number(port), path: "/v1/channels/slow", method: "GET" });
  const res = await new Promise<IncomingMessage>((resolve, reject) => req.on("response", resolve).on("error", reject).end());
  res.pause();
  await waitFor(async () => (await metricTotal(b, "gossipcheck_channel_subscribers ")) === 1, 5_000, "the slow subscriber on ch-b");
  const dropped = await metricTotal(b, 'gossipcheck_channel_subscriptions_total{outcome="dropped"}');
  const chunk = randomBytes(512 * 1024);
  // 64 MiB in all: far more than the socket buffers and the 1 MiB bound.
  for (let i = 0; i < 128 && (await metricTotal(b, "gossipcheck_channel_subscribers ")) > 0; i++) await a.publish("slow", chunk);
  await waitFor(async () => (await metricTotal(b, 'gossipcheck_channel_subscriptions_total{outcome="dropped"}')) === dropped + 1, 10_000, "ch-b to drop the subscriber that does not read");
  assert.equal(await metricTotal(b, "gossipcheck_channel_subscribers "), 0);
  // What it held for the gone subscriber is released; the messages' bodies leave with their TTL (10 s).
  await waitFor(() => rssBytes(b.proc.pid) < baseline + 64 * 1024 * 1024, 40_000, `ch-b's RSS back within 64 MiB of ${Math.round(baseline / 2 ** 20)} MiB`);
  req.destroy();
});

test("reserved and invalid channel names are refused with a 400 naming the rule", async () => {
  const cli = nodes[0]!.cli;
  for (const [name, why] of [
    ["gossipcheck.internal", /reserved/],
    ["_private", /reserved/],
    ["has%20space", /is not 1 to 128/],
    ["x".repeat(129), /is not 1 to 128/],
  ] as const) {
    for (const method of ["GET", "POST"]) {
      const res = await fetch(`http://${cli}/v1/channels/${name}`, { method, ...(method === "POST" && { body: "x" }) });
      assert.equal(res.status, 400, `${method} ${name}`);
      assert.match(((await res.json()) as { error: string }).error, why);
    }
  }
  assert.equal((await fetch(`http://${cli}/v1/channels/a/b`, { method: "POST", body: "x" })).status, 404);
  assert.equal((await fetch(`http://${cli}/v1/channels/ok`, { method: "PUT", body: "x" })).status, 405);
  await assert.rejects(clients[0]!.publish("_x", "y"), (e: ClientError) => e.status === 400 && /reserved/.test(e.message));
  assert.throws(() => clients[0]!.subscribe("bad name", () => {}), /is not 1 to 128/);
});
