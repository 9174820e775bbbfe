import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import WebSocket from "ws";
import type { NodeStats, StatsEvent } from "../src/control/api_types.js";
import { nullLogger } from "../src/base/logger.js";
import { ok } from "../src/base/result.js";
import { LazyMetrics } from "../src/daemon/api/lazy_metrics.js";
import { type NodnodLimits, type NodnodServer, startNodnodServer } from "../src/daemon/nodnod/server.js";
import { type NodnodAnswer, type NodnodStatsSource, clusterStatsSource } from "../src/daemon/nodnod/source.js";
import { waitFor } from "./support/proc.js";

/*
 * The NodNod websocket server in one process, on loopback, with a stats
 * source of its own: many requests on one connection answered in order,
 * an unknown type not answered, a malformed or oversized request closing
 * the connection, STATALLs in flight shared, the token (header or ?token=),
 * gorilla's Origin rule, the connection cap, and a client that never reads
 * dropped once its backlog passes the limit. And the daemon's source: a
 * cluster stats request read to its end, every member listed.
 */

const TOKEN = "0123456789abcdef0123";

function stats(node: string): NodeStats {
  return {
    node,
    sampledMs: 1,
    cpu: { count: 2, loadAverage: [0, 0, 0], loadPercent: 50 },
    memory: { totalBytes: 1000, usedBytes: 250, availableBytes: 750, swapTotalBytes: 0, swapUsedBytes: 0 },
    disk: { mount: "/", fs: "x", type: "ext4", totalBytes: 2000, usedBytes: 500, availableBytes: 1500 },
    uptime: { hostMs: 1, daemonMs: 1 },
    process: { pid: 1, rssBytes: 1, heapUsedBytes: 1, heapTotalBytes: 1 },
    gossipcheck: { version: "0", membersAlive: 2, members: { alive: 2, suspect: 0, dead: 1, left: 0 } },
    errors: [],
  };
}

/** A source whose STATALL waits for `release` when held, and counts its calls. */
function fakeSource() {
  let hold: Promise<void> | null = null;
  let release = () => {};
  const source = {
    node: "n1",
    calls: 0,
    local: () => Promise.resolve(stats("n1")),
    async all(): Promise<{ ok: true; value: NodnodAnswer[] }> {
      source.calls++;
      if (hold) await hold;
      return ok([
        { node: "n1", stats: stats("n1") },
        { node: "n2", stats: stats("n2") },
        { node: "n3", error: "declared dead by the membership" },
      ]);
    },
    hold() {
      hold = new Promise((r) => (release = r));
    },
    release() {
      hold = null;
      release();
    },
  };
  return source satisfies NodnodStatsSource;
}

const servers: NodnodServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function start(o: { token?: string; limits?: Partial<NodnodLimits>; source?: NodnodStatsSource; metrics?: LazyMetrics } = {}) {
  const source = o.source ?? fakeSource();
  const r = await startNodnodServer({ bind: { host: "127.0.0.1", port: 0 }, source, log: nullLogger, ...o });
  assert.ok(r.ok, r.ok ? "" : r.error);
  servers.push(r.server);
  return r.server.address;
}

/** A connected client that collects what it receives. */
async function client(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const received: string[] = [];
  let closed: { code: number; reason: string } | null = null;
  ws.on("message", (d) => received.push(d.toString()));
  ws.on("close", (code, reason) => (closed = { code, reason: reason.toString() }));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return { ws, received, closed: () => closed as { code: number; reason: string } | null };
}

/** The status an upgrade is refused with. */
function refusedWith(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("open", () => reject(new Error(`${url}: the upgrade was accepted`)));
    ws.on("error", () => {});
  });
}

describe("NodNod websocket server", () => {
  it("answers many requests on one connection, in order, on any path; STAT is this node, STATALL every node, with a lost one's error set", async () => {
    const address = await start();
    const c = await client(`ws://${address}/anything/at/all`);
    for (const type of [0, 1, 0]) c.ws.send(JSON.stringify({ type, statType: 0 }));
    await waitFor(() => c.received.length === 3, 5000, "three answers");
    const [stat, all, again] = c.received.map((t) => JSON.parse(t) as { host: string; nodes: Record<string, { cpuUsed: number; memoryUsedPercent: number; error: string }>; error: string });
    assert.equal(stat!.host, "n1");
    assert.deepEqual(Object.keys(stat!.nodes), ["n1"]);
    assert.equal(stat!.nodes["n1"]!.memoryUsedPercent, 25);
    assert.deepEqual(Object.keys(all!.nodes), ["n1", "n2", "n3"]);
    assert.equal(all!.nodes["n2"]!.cpuUsed, 50);
    assert.equal(all!.nodes["n3"]!.error, "declared dead by the membership");
    assert.equal(all!.error, "");
    assert.deepEqual(Object.keys(again!.nodes), ["n1"]);
    c.ws.close();
  });

  it("an unknown type gets no answer and the connection stays; a malformed request closes it (1007), after what came before it is answered", async () => {
    const address = await start();
    const c = await client(`ws://${address}/`);
    c.ws.send('{"type": 5}');
    c.ws.send('{"type": 0}');
    c.ws.send('{"type": "1"}');
    await waitFor(() => c.closed() !== null, 5000, "the close");
    assert.equal(c.received.length, 1, "only the STAT is answered");
    assert.equal(c.closed()!.code, 1007);
    assert.match(c.closed()!.reason, /"type" must be a whole number/);
  });

  it("a request over 4 KiB closes the connection (1009) without being read whole", async () => {
    const address = await start();
    const c = await client(`ws://${address}/`);
    c.ws.send(JSON.stringify({ type: 1, pad: "x".repeat(64 * 1024) }));
    await waitFor(() => c.closed() !== null, 5000, "the close");
    assert.equal(c.closed()!.code, 1009);
  });

  it("STATALL requests that arrive while one is answered join it: one cluster request for all", async () => {
    const source = fakeSource();
    const metrics = new LazyMetrics();
    const address = await start({ source, metrics });
    const clients = await Promise.all([1, 2, 3].map(() => client(`ws://${address}/`)));
    source.hold();
    for (const c of clients) c.ws.send('{"type": 1, "statType": 0}');
    await waitFor(async () => /gossipcheck_nodnod_requests_total\{kind="statall"\} 3/.test(await metrics.text()), 5000, "the three STATALLs to arrive");
    source.release();
    await waitFor(() => clients.every((c) => c.received.length === 1), 5000, "every client's answer");
    assert.equal(source.calls, 1);
    for (const c of clients) c.ws.close();
  });

  it("with a token, refuses an upgrade without it (401) and takes it in the Authorization header or in ?token=", async () => {
    const address = await start({ token: TOKEN });
    assert.equal(await refusedWith(`ws://${address}/`), 401);
    assert.equal(await refusedWith(`ws://${address}/?token=wrong-token-wrong-token`), 401);
    assert.equal(await refusedWith(`ws://${address}/`, { authorization: "Bearer nope" }), 401);
    for (const c of [await client(`ws://${address}/`, { authorization: `Bearer ${TOKEN}` }), await client(`ws://${address}/?token=${TOKEN}`)]) {
      c.ws.send('{"type": 0}');
      await waitFor(() => c.received.length === 1, 5000, "the answer");
      c.ws.close();
    }
  });

  it("refuses a page of another origin (403), as gorilla's default CheckOrigin does, and takes its own host", async () => {
    const address = await start();
    assert.equal(await refusedWith(`ws://${address}/`, { origin: "http://evil.example" }), 403);
    const c = await client(`ws://${address}/`, { origin: `http://${address}` });
    c.ws.close();
  });

  it("refuses a connection past the cap (503), and counts connections, requests and refusals", async () => {
    const metrics = new LazyMetrics();
    const address = await start({ limits: { maxConnections: 2 }, metrics });
    const open = [await client(`ws://${address}/`), await client(`ws://${address}/`)];
    assert.equal(await refusedWith(`ws://${address}/`), 503);
    open[0]!.ws.send('{"type": 0}');
    await waitFor(() => open[0]!.received.length === 1, 5000, "the answer");
    const text = await metrics.text();
    assert.match(text, /gossipcheck_nodnod_connections_total 2/);
    assert.match(text, /gossipcheck_nodnod_requests_total\{kind="stat"\} 1/);
    assert.match(text, /gossipcheck_nodnod_refused_total\{reason="over_cap"\} 1/);
    for (const c of open) c.ws.close();
  });

  it("drops a client that sends but never reads once its backlog passes maxBufferedBytes", async () => {
    const metrics = new LazyMetrics();
    const address = await start({ limits: { maxBufferedBytes: 64 * 1024 }, metrics });
    const c = await client(`ws://${address}/`);
    // Stop reading: the kernel buffers fill, then the daemon's; then it lets go.
    c.ws.pause();
    const request = '{"type": 1}';
    let sent = 0;
    const pump = setInterval(() => {
      for (let i = 0; i < 200 && c.ws.readyState === WebSocket.OPEN && c.ws.bufferedAmount < 1e6; i++, sent++) c.ws.send(request);
    }, 5);
    try {
      await waitFor(async () => /gossipcheck_nodnod_dropped_total\{reason="slow_reader"\} 1/.test(await metrics.text()), 15_000, "the slow reader to be dropped").catch(async (e: Error) => {
        throw new Error(
          `${e.message}: ${sent} sent, ${(await metrics.text())
            .split("\n")
            .filter((l) => l.startsWith("gossipcheck_nodnod"))
            .join(", ")}`,
        );
      });
    } finally {
      clearInterval(pump);
      c.ws.terminate();
    }
    assert.ok(sent > 100, `${sent} requests sent`);
  });
});

describe("the daemon's NodNod stats source", () => {
  const member = (name: string, status: "alive" | "suspect" | "dead" | "left") => ({ name, address: `${name}:1`, status, incarnation: 1, tags: {}, statusSinceMs: 0 });
  const backend = (events: StatsEvent[], members = [member("a", "alive")]) => ({
    localStats: () => Promise.resolve(stats("a")),
    clusterStats: () => ({
      ok: true as const,
      events: (async function* () {
        yield* events;
      })(),
    }),
    members: () => members,
  });

  it("lists answers with figures, a silent expected member as 'no answer within N ms', refusals and dead or left members with their reason", async () => {
    const expected = ["a", "b", "c", "d"].map((name) => ({ name, address: `${name}:1` }));
    const source = clusterStatsSource(
      "a",
      backend(
        [
          { type: "accepted", id: "x", origin: "a", createdMs: 0, expected },
          { type: "result", node: "a", address: "a:1", stats: stats("a"), elapsedMs: 1 },
          { type: "rejected", node: "c", reason: "refused by c" },
          { type: "unreachable", node: "d", reason: "declared dead by the membership" },
          { type: "done", elapsedMs: 5000, timedOut: true },
        ],
        [member("a", "alive"), member("b", "suspect"), member("e", "dead"), member("f", "left")],
      ),
    );
    const r = await source.all(5000, new AbortController().signal);
    assert.ok(r.ok);
    const byNode = Object.fromEntries(r.value.map((a) => [a.node, a.stats ? "stats" : a.error]));
    assert.deepEqual(byNode, { a: "stats", b: "no answer within 5000 ms", c: "refused by c", d: "declared dead by the membership", e: "declared dead by the membership", f: "left the cluster" });
  });

  it("a request that cannot start, or fails midway, is an error value", async () => {
    const failing = { ...backend([]), clusterStats: () => ({ ok: false as const, error: "not published" }) };
    assert.deepEqual(await clusterStatsSource("a", failing).all(1000, new AbortController().signal), { ok: false, error: "not published" });
    const r = await clusterStatsSource("a", backend([{ type: "error", error: "boom" }])).all(1000, new AbortController().signal);
    assert.deepEqual(r, { ok: false, error: "boom" });
  });
});
