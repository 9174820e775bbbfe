#!/usr/bin/env node
// A stand-in daemon for working on the web view without a cluster: serves
// dist/ui under /ui/ and fake streams shaped as src/control/stream_types.ts
// says, for N made-up nodes (members change status, stats wander, a
// submitted batch fills in node by node). Not part of the product; the web
// view's test at 1,000 members (test/e2e/web_ui.test.ts) uses it, since 1,000
// real daemons do not fit on one test host.
// Usage: npm run build:ui && node web/dev/fake-daemon.mjs [--port 5999 (0: any)] [--nodes 1000] [--locked]
import { readFileSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string", default: "5999" }, nodes: { type: "string", default: "40" }, locked: { type: "boolean", default: false } } });
const N = Number(values.nodes);
const ui = join(dirname(fileURLToPath(import.meta.url)), "../../dist/ui");
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".map": "application/json" };
const STATUSES = ["alive", "suspect", "dead", "left"];

const members = Array.from({ length: N }, (_, i) => ({
  name: `node-${String(i).padStart(4, "0")}`,
  address: `10.0.${i >> 8}.${i & 255}:2000`,
  status: "alive",
  incarnation: 1,
  tags: { role: i % 3 ? "web" : "db", dc: i % 2 ? "eu" : "us" },
  statusSinceMs: Date.now() - 60_000,
}));
const view = (m) => ({ ...m, statusAgeMs: Date.now() - m.statusSinceMs });
const batches = new Map();
const streams = new Set();

function sse(res) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
  const send = (event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const timers = [];
  streams.add(timers);
  res.on("close", () => {
    for (const t of timers) clearInterval(t);
    streams.delete(timers);
  });
  return { send, every: (ms, fn) => timers.push(setInterval(fn, ms)), end: () => res.end() };
}

function stats(m, round) {
  const t = Date.now() / 10_000 + members.indexOf(m);
  return {
    node: m.name,
    sampledMs: Date.now(),
    cpu: { count: 8, loadAverage: [1 + Math.sin(t), 1.2, 1.1], loadPercent: 50 + 40 * Math.sin(t + round / 10) },
    memory: { totalBytes: 16 * 2 ** 30, usedBytes: (6 + 2 * Math.sin(t)) * 2 ** 30, availableBytes: 8 * 2 ** 30, swapTotalBytes: 0, swapUsedBytes: 0 },
    disk: { mount: "/", fs: "/dev/sda1", type: "ext4", totalBytes: 500 * 2 ** 30, usedBytes: 200 * 2 ** 30, availableBytes: 300 * 2 ** 30 },
    uptime: { hostMs: 1e9, daemonMs: 1e6 },
    process: { pid: 100, rssBytes: 80 * 2 ** 20, heapUsedBytes: 1, heapTotalBytes: 2 },
    gossipcheck: { version: "0.1.0", membersAlive: N, members: { alive: N, suspect: 0, dead: 0, left: 0 } },
    errors: [],
  };
}

function runBatch(body) {
  const batchId = Array.from({ length: 32 }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");
  const expected = members.filter((m) => m.status === "alive" || m.status === "suspect").map((m) => ({ name: m.name, address: m.address }));
  const names = Object.keys(JSON.parse(body.checkFile));
  const b = {
    item: {
      batchId,
      origin: "fake-0",
      createdMs: Date.now(),
      ttlMs: 300000,
      checks: names.length,
      dryRun: !!body.dryRun,
      expected: expected.length,
      answered: 0,
      state: "running",
      source: "origin",
      counts: { pass: 0, fail: 0, fixed: 0, error: 0 },
    },
    events: [{ type: "accepted", batchId, origin: "fake-0", createdMs: Date.now(), ttlMs: 300000, expected }],
    listeners: new Set(),
  };
  batches.set(batchId, b);
  const emit = (e) => {
    b.events.push(e);
    for (const l of b.listeners) l(e);
  };
  let i = 0;
  const t = setInterval(() => {
    for (let k = 0; k < Math.max(1, expected.length / 20) && i < expected.length; k++, i++) {
      const n = expected[i];
      if (i % 17 === 5) {
        emit({ type: "unreachable", node: n.name, address: n.address, reason: "no answer within 30000 ms" });
        continue;
      }
      const results = names.map((name, j) => {
        const status = (i + j) % 11 === 3 ? "fail" : (i + j) % 13 === 4 ? "fixed" : (i + j) % 23 === 7 ? "error" : "pass";
        b.item.counts[status]++;
        return {
          name,
          type: "file_contains",
          status,
          message: `${name} on ${n.name}: ${status}`,
          durationMs: 3,
          ...(status === "fixed" || status === "fail"
            ? {
                action: {
                  command: "echo fix",
                  exitCode: status === "fixed" ? 0 : 1,
                  signal: null,
                  timedOut: false,
                  output: "fixing\nline 2\n",
                  outputTruncated: false,
                  durationMs: 12,
                  leftoversKilled: 0,
                },
              }
            : {}),
        };
      });
      b.item.answered++;
      emit({ type: "result", node: n.name, address: n.address, results, elapsedMs: Date.now() - b.item.createdMs });
    }
    if (i >= expected.length) {
      clearInterval(t);
      b.item.state = "done";
      emit({ type: "done", elapsedMs: Date.now() - b.item.createdMs, timedOut: false });
    }
  }, 150);
  return b;
}

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  const p = url.pathname;
  res.setHeader("content-security-policy", "default-src 'self'");
  if (p === "/") return res.writeHead(302, { location: "/ui/" }).end();
  if (p.startsWith("/ui/") && req.method === "GET") {
    const f = join(ui, p === "/ui/" ? "index.html" : p.slice(4));
    if (!f.startsWith(ui) || !existsSync(f)) return res.writeHead(404).end("not found");
    return res.writeHead(200, { "content-type": TYPES[extname(f)] ?? "application/octet-stream" }).end(readFileSync(f));
  }
  // --locked: as a daemon with a token and a browser without a session.
  if (values.locked && p.startsWith("/v1/")) return res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "sign in: this daemon needs its token" }));
  if (p === "/ui/login" || p === "/ui/logout") return res.writeHead(303, { location: "/ui/" }).end();
  if (p === "/v1/info") return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ name: "fake-0", version: "0.1.0" }));
  if (p === "/v1/streams/members") {
    const s = sse(res);
    s.send("snapshot", { node: "fake-0", members: members.map(view) });
    s.every(700, () => {
      const m = members[1 + Math.floor(Math.random() * (N - 1))];
      m.status = STATUSES[Math.floor(Math.random() * 3)];
      m.incarnation++;
      m.statusSinceMs = Date.now();
      s.send("member", { change: m.status === "dead" ? "fail" : m.status === "suspect" ? "suspect" : "update", member: view(m) });
    });
    return;
  }
  if (p === "/v1/streams/stats") {
    const s = sse(res);
    let round = 0;
    const intervalMs = 2000;
    const go = () => {
      round++;
      const expected = members.filter((m) => m.status !== "dead" && m.status !== "left");
      s.send("round", { round, intervalMs, startedMs: Date.now(), expected: expected.map((m) => ({ name: m.name, address: m.address })) });
      const missing = [];
      for (const m of expected) {
        if (Math.random() < 0.02) {
          missing.push(m.name);
          s.send("unreachable", { round, node: m.name, address: m.address, reason: "no answer" });
        } else s.send("stats", { round, node: m.name, address: m.address, stats: stats(m, round), elapsedMs: 5 });
      }
      s.send("round-done", { round, answered: expected.length - missing.length, expected: expected.length, missing, elapsedMs: 40 });
    };
    go();
    s.every(intervalMs, go);
    return;
  }
  if (p === "/v1/streams/batches") {
    const s = sse(res);
    s.send("snapshot", { node: "fake-0", batches: [...batches.values()].map((b) => b.item) });
    const seen = new Map();
    s.every(300, () => {
      for (const b of batches.values()) {
        const k = `${b.item.answered}/${b.item.state}`;
        if (seen.get(b.item.batchId) !== k) s.send("batch", b.item);
        seen.set(b.item.batchId, k);
      }
    });
    return;
  }
  if (p.startsWith("/v1/streams/batches/")) {
    const b = batches.get(p.split("/").pop());
    if (!b) return res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "no such batch" }));
    const s = sse(res);
    const on = (e) => {
      s.send(e.type, e);
      if (e.type === "done") s.end();
    };
    for (const e of b.events) on(e);
    b.listeners.add(on);
    res.on("close", () => b.listeners.delete(on));
    return;
  }
  if (p === "/v1/streams/checks") {
    const s = sse(res);
    let round = 0;
    const go = () => {
      round++;
      for (const m of members.slice(0, Math.min(N, 50)))
        s.send("checks", {
          round,
          node: m.name,
          address: m.address,
          states: ["nginx", "disk"].map((check, j) => ({
            schedule: "base",
            check,
            status: (round + j + m.name.length) % 5 ? "pass" : "fail",
            message: `${check} ok`,
            sinceMs: Date.now() - 5000,
            lastRunMs: Date.now(),
            intervalMs: 30000,
            suppressed: 0,
          })),
        });
      s.send("round-done", { round, answered: Math.min(N, 50), expected: Math.min(N, 50) });
    };
    go();
    s.every(5000, go);
    return;
  }
  if (p === "/v1/check" && req.method === "POST") {
    if (req.headers["x-gossipcheck-ui"] !== "1") return res.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ error: "missing x-gossipcheck-ui" }));
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      let body;
      try {
        body = JSON.parse(text);
        JSON.parse(body.checkFile);
      } catch (e) {
        return res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: `check file: ${e.message}` }));
      }
      const b = runBatch(body);
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      const on = (e) => {
        res.write(JSON.stringify(e) + "\n");
        if (e.type === "done") res.end();
      };
      for (const e of b.events) on(e);
      b.listeners.add(on);
    });
    return;
  }
  res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: `no route ${p}` }));
});
server.listen(Number(values.port), "127.0.0.1", () => console.log(`fake daemon: http://127.0.0.1:${server.address().port}/ui/ (${N} nodes)`));
