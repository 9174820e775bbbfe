import assert from "node:assert/strict";
import { type Socket, connect } from "node:net";
import { describe, it } from "node:test";
import { DEFAULT_API_LIMITS } from "../../src/daemon/api/limits.js";
import { parseDaemonFlags } from "../../src/daemon/flags.js";
import { getJson } from "../support/cluster.js";
import { type DaemonProc, spawnDaemon, waitFor } from "../support/proc.js";

/*
 * The control API's limits on a real daemon (src/daemon/api/limits.ts): half-open
 * connections are closed within the headers timeout and never lock out a
 * real client, a body trickled slower than the request timeout is cut, and a
 * result stream may outlast the request timeout. All on loopback; every
 * socket opened here is destroyed before its test ends.
 */

/** A client that sent the start of a request (maybe nothing), then fell silent. */
interface Silent {
  socket: Socket;
  /** Set when the server ended or reset the connection (this side never closes first). */
  closedByServer: boolean;
  received: string;
}

/** Nothing, part of a request line, part of the headers. */
const PARTIALS = ["", "GET /v1/in", "GET /v1/info HTTP/1.1\r\nHost: gossipcheck\r\n"];

function hostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

/** Opens n silent connections, 100 at a time (the listen backlog is finite), each connected and its bytes written. */
async function openSilent(address: string, n: number, opened: Silent[]): Promise<void> {
  const { host, port } = hostPort(address);
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, (_, j) => {
      const c: Silent = { socket: connect({ host, port }), closedByServer: false, received: "" };
      opened.push(c);
      c.socket.setEncoding("utf8").on("data", (s: string) => (c.received += s));
      c.socket.on("end", () => (c.closedByServer = true));
      c.socket.on("error", () => (c.closedByServer = true));
      return new Promise<void>((resolve, reject) => {
        c.socket.once("error", reject);
        c.socket.once("connect", () => {
          const partial = PARTIALS[(i + j) % PARTIALS.length]!;
          if (partial) c.socket.write(partial, () => resolve());
          else resolve();
        });
      });
    });
    await Promise.all(batch);
  }
}

function closeAll(sockets: Silent[]): void {
  for (const c of sockets) c.socket.destroy();
}

async function info(d: DaemonProc): Promise<{ status: number; counters: Record<string, number> }> {
  const res = await fetch(`http://${d.cliAddress}/v1/info`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { counters: Record<string, number> };
  return { status: res.status, counters: body.counters };
}

/** POST /v1/check for one check whose action sleeps: its result stream lasts about sleepS seconds. */
async function slowStream(d: DaemonProc, sleepS: number): Promise<{ firstEvent: Promise<void>; events: Promise<Array<{ type: string }>> }> {
  const checks = { slow: { type: "file_exists", path: "/nonexistent/gossipcheck-limits-test", action: `sleep ${sleepS}`, timeout: "30s" } };
  const res = await fetch(`http://${d.cliAddress}/v1/check`, { method: "POST", body: JSON.stringify({ checks }) });
  assert.equal(res.status, 200);
  let first!: () => void;
  const firstEvent = new Promise<void>((r) => (first = r));
  const events = (async () => {
    let text = "";
    for await (const chunk of res.body!) {
      text += Buffer.from(chunk).toString("utf8");
      if (text.includes("\n")) first();
    }
    return text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string });
  })();
  return { firstEvent, events };
}

const warnings = (d: DaemonProc, text: string) => d.logLines().filter((l) => typeof l.msg === "string" && l.msg.includes(text));

describe("control API limits", () => {
  it("800 half-open connections never block GET /v1/info, and all are closed by the server within the headers timeout", async () => {
    const headersTimeoutMs = 4_000;
    const d = await spawnDaemon(["-cli-headers-timeout", `${headersTimeoutMs}ms`, "-cli-max-connections", "1000"]);
    const silent: Silent[] = [];
    try {
      const openedAt = Date.now();
      await openSilent(d.cliAddress!, 800, silent);
      const fresh = await info(d);
      assert.equal(fresh.status, 200);
      assert.equal(silent.filter((c) => c.closedByServer).length, 0, `all 800 still open when /v1/info answered (${Date.now() - openedAt} ms after the first connect)`);

      // The timeout, plus Node's checking interval (1 s at most), plus slack for a loaded host.
      await waitFor(() => silent.every((c) => c.closedByServer), headersTimeoutMs + 1_000 + 5_000, "the server to close all 800 half-open connections");
      assert.ok(Date.now() - openedAt >= headersTimeoutMs - 100, "closed by the timeout, not before it");
      assert.equal(silent.filter((c) => c.received.startsWith("HTTP/1.1 408 ")).length, 800, "each was told 408 before the close");

      const after = await info(d);
      assert.equal(after.counters.api_headersTimeouts, 800);
      assert.equal(after.counters.api_connectionsEvicted, 0);
      const logged = warnings(d, "request headers did not arrive");
      assert.ok(logged.length >= 1 && logged.length <= 2, `rate-limited: ${logged.length} log lines for 800 timeouts`);
    } finally {
      closeAll(silent);
      await d.stop();
    }
  });

  it("at the connection cap, the oldest half-open connections make room for a fresh client, and a running result stream is never cut", async () => {
    const cap = 64;
    const d = await spawnDaemon(["-cli-max-connections", String(cap)]);
    const silent: Silent[] = [];
    try {
      const stream = await slowStream(d, 2);
      await stream.firstEvent;
      await openSilent(d.cliAddress!, 200, silent);
      // The stream keeps its slot; the other cap - 1 slots hold the newest silent connections.
      await waitFor(() => silent.filter((c) => c.closedByServer).length === 200 - (cap - 1), 5_000, "the oldest silent connections to be evicted");
      assert.ok(
        silent.slice(0, 200 - (cap - 1)).every((c) => c.closedByServer),
        "the oldest went first",
      );
      assert.ok(
        silent.slice(200 - (cap - 1)).every((c) => !c.closedByServer),
        "the newest are still open",
      );

      const fresh = await info(d);
      assert.equal(fresh.status, 200);
      assert.equal(fresh.counters.api_connectionsEvicted, 200 - (cap - 1) + 1, "the fresh client evicted one more");
      assert.equal(fresh.counters.api_connectionsRefused, 0);

      const events = await stream.events;
      assert.deepEqual(
        events.map((e) => e.type).filter((t) => t !== "accepted"),
        ["result", "done"],
      );
      assert.ok(warnings(d, "at the cap of 64 connections").length >= 1, "the eviction is logged");
    } finally {
      closeAll(silent);
      await d.stop();
    }
  });

  it("when every connection is being answered, a new one is refused with a 503 that names the flag, and nothing runs for it", async () => {
    const d = await spawnDaemon(["-cli-max-connections", "1"]);
    const { host, port } = hostPort(d.cliAddress!);
    let late: Socket | undefined;
    try {
      const stream = await slowStream(d, 1);
      await stream.firstEvent;
      late = connect({ host, port });
      let received = "";
      let closed = false;
      late.setEncoding("utf8").on("data", (s: string) => (received += s));
      late.on("close", () => (closed = true));
      late.on("error", () => {});
      late.write(`POST /v1/check HTTP/1.1\r\nHost: gossipcheck\r\ncontent-length: 2\r\n\r\n{}`);
      await waitFor(() => closed, 5_000, "the server to refuse the connection");
      assert.match(received, /^HTTP\/1\.1 503 /);
      assert.match(received, /control API has \d+ connections busy \(-cli-max-connections\)/);

      assert.deepEqual(
        (await stream.events).map((e) => e.type).filter((t) => t !== "accepted"),
        ["result", "done"],
      );
      // With one connection allowed, the daemon closes an idle keep-alive connection to admit the next one, and a
      // client may send on it just as it closes: getJson sends such a request again, as a client should.
      const after = await getJson<{ counters: Record<string, number> }>(d.cliAddress!, "/v1/info");
      assert.equal(after.counters.api_connectionsRefused, 1);
      const batches = await getJson<{ batches: unknown[] }>(d.cliAddress!, "/v1/batches");
      assert.equal(batches.batches.length, 1, "only the stream's batch ran");
    } finally {
      late?.destroy();
      await d.stop();
    }
  });

  it("a body trickled slower than the request timeout is cut with a 408, while a result stream outlasts that timeout", async () => {
    // Timeouts long enough that a loaded host (CI runs four Node versions'
    // suites on 2 cores) does not starve the stream's own request into them.
    const requestTimeoutMs = 2_000;
    const d = await spawnDaemon(["-cli-headers-timeout", "1s", "-cli-request-timeout", `${requestTimeoutMs}ms`]);
    const { host, port } = hostPort(d.cliAddress!);
    const trickle = connect({ host, port });
    let received = "";
    let closed = false;
    trickle.setEncoding("utf8").on("data", (s: string) => (received += s));
    trickle.on("close", () => (closed = true));
    trickle.on("error", () => {});
    // The body's bytes, one every 100 ms, once the request's head is written
    // (started earlier, a space before the request line is malformed HTTP: a
    // 400 at once instead of the 408, which a loaded host made happen).
    let ticker: NodeJS.Timeout | undefined;
    try {
      const streamStarted = Date.now();
      const stream = await slowStream(d, 5);

      const started = Date.now();
      trickle.write("POST /v1/local-check HTTP/1.1\r\nHost: gossipcheck\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{");
      ticker = setInterval(() => trickle.writable && trickle.write(" "), 100);
      await waitFor(() => closed, requestTimeoutMs + 250 + 5_000, "the server to cut the trickled body");
      assert.ok(Date.now() - started >= requestTimeoutMs - 100, "cut by the timeout, not before it");
      assert.match(received, /^HTTP\/1\.1 408 /);
      assert.match(received, /the request body did not arrive within 2000 ms \(-cli-request-timeout\)/);

      const events = await stream.events;
      assert.ok(Date.now() - streamStarted > 2 * requestTimeoutMs, "the stream lasted longer than the request timeout");
      assert.deepEqual(
        events.map((e) => e.type).filter((t) => t !== "accepted"),
        ["result", "done"],
      );

      const after = await info(d);
      assert.equal(after.counters.api_bodyTimeouts, 1);
      assert.equal(after.counters.api_headersTimeouts, 0);
      const metrics = await (await fetch(`http://${d.cliAddress}/metrics`)).text();
      assert.match(metrics, /^gossipcheck_control_limit_closes_total\{limit="request_timeout"\} 1$/m);
      assert.deepEqual(
        d.logLines().filter((l) => l.level === "error" || l.level === "fatal"),
        [],
        "a cut body is not logged as a handler failure",
      );
    } finally {
      if (ticker) clearInterval(ticker);
      trickle.destroy();
      await d.stop();
    }
  });
});

describe("control API limit flags", () => {
  const parse = (args: string[]) => parseDaemonFlags(args, { hostname: "h", homeDir: "/home/h", isRoot: false, externalIPv4: ["10.0.0.9"] });

  it("default to DEFAULT_API_LIMITS and take durations and a count", () => {
    const d = parse([]);
    assert.ok(d.kind === "run");
    assert.deepEqual(d.options.cliLimits, DEFAULT_API_LIMITS);
    const o = parse(["-cli-headers-timeout", "2s", "-cli-request-timeout", "1m30s", "-cli-max-connections", "32"]);
    assert.ok(o.kind === "run");
    assert.deepEqual(o.options.cliLimits, { ...DEFAULT_API_LIMITS, headersTimeoutMs: 2_000, requestTimeoutMs: 90_000, maxConnections: 32 });
  });

  it("refuse values that would cut real clients or that Node refuses, naming the flag", () => {
    const refusal = (args: string[]) => {
      const r = parse(args);
      assert.ok(r.kind === "exit" && r.code === 2, args.join(" "));
      return r.stderr;
    };
    assert.match(refusal(["-cli-headers-timeout", "50ms"]), /^-cli-headers-timeout "50ms": expected a duration from 100ms to 1h/);
    assert.match(refusal(["-cli-request-timeout", "soon"]), /^-cli-request-timeout "soon": expected a duration/);
    assert.match(refusal(["-cli-headers-timeout", "2m", "-cli-request-timeout", "1m"]), /is longer than -cli-request-timeout 1m: the request timeout covers the headers too/);
    assert.match(refusal(["-cli-max-connections", "0"]), /^-cli-max-connections "0": expected a whole number from 1 to 100000/);
  });
});
