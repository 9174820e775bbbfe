import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, afterEach, describe, it } from "node:test";
import { membersWith } from "../src/cli/commands/members.js";
import { statsWith } from "../src/cli/commands/stats.js";
import type { OutputFormat } from "../src/cli/context.js";
import { type CliError } from "../src/cli/errors.js";
import { LIVE_TIMING, type LiveTiming } from "../src/cli/live_follow.js";
import type { LiveSeams } from "../src/cli/live_run.js";
import type { MemberView, NodeStats } from "../src/control/api_types.js";
import { type CollectedContext, collectingContext } from "./support/cli_context.js";
import { GCHECK_BIN, waitFor } from "./support/proc.js";

/*
 * gcheck members -watch and stats -watch against a fake daemon on loopback
 * that speaks the streams' contract (control/stream_types.ts): a snapshot,
 * changes, then the daemon drops the stream (a restart) and gcheck starts
 * over from the new snapshot; a daemon that stays away makes a pipe exit 2
 * while a terminal keeps saying "reconnecting..."; refusals end at once.
 * What a pipe, -output json and a terminal get, checked as text; and a
 * real gcheck process that Ctrl-C ends with exit 0.
 */

const NOW = Date.parse("2025-06-01T14:03:09Z");
/** Fast retries; a fixed wall clock so the times printed are known (it never gives up: tests that need that use LOSING). */
const FAST: LiveTiming = { ...LIVE_TIMING, firstRetryMs: 20, maxRetryMs: 100, giveUpMs: 600, connectTimeoutMs: 2_000, now: () => NOW };
const LOSING: LiveTiming = { ...FAST, now: () => Date.now() };

function member(name: string, status: MemberView["status"], ageMs = 5_000): MemberView {
  return { name, address: `127.0.0.1:${2000 + name.charCodeAt(0)}`, status, incarnation: 1, tags: { role: "web" }, statusSinceMs: NOW - ageMs, statusAgeMs: ageMs };
}

function nodeStats(node: string, load: number): NodeStats {
  return {
    node,
    sampledMs: NOW,
    cpu: { count: 4, loadAverage: [load, load, load], loadPercent: 25 },
    memory: { totalBytes: 8 * 1024 ** 3, usedBytes: 2 * 1024 ** 3, availableBytes: 6 * 1024 ** 3, swapTotalBytes: 0, swapUsedBytes: 0 },
    disk: { mount: "/", fs: "/dev/sda1", type: "ext4", totalBytes: 100 * 1024 ** 3, usedBytes: 40 * 1024 ** 3, availableBytes: 60 * 1024 ** 3 },
    uptime: { hostMs: 3_600_000, daemonMs: 60_000 },
    process: { pid: 1, rssBytes: 50 * 1024 ** 2, heapUsedBytes: 1, heapTotalBytes: 1 },
    gossipcheck: { version: "0.1.0", membersAlive: 3, members: { alive: 3, suspect: 0, dead: 0, left: 0 } },
    errors: [],
  };
}

/** A daemon's control API reduced to its streams: members answers with the current snapshot; every stream gets what push() sends. */
class FakeDaemon {
  members: MemberView[] = [];
  /** Every stream request's path and query, in order. */
  readonly requests: string[] = [];
  /** Answer every request with this status and error instead (401, 404...). */
  refuse: { status: number; error: string } | undefined;
  /** Accept requests and never answer them (a daemon that hangs). */
  hang = false;
  private readonly streams = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Listens (again, on the same port after stop()). */
  async start(): Promise<this> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(this.port, "127.0.0.1", r));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(req.url ?? "");
    if (this.hang) return;
    if (this.refuse) {
      res.writeHead(this.refuse.status, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: this.refuse.error }));
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
    res.write(": keepalive\n\n");
    this.streams.add(res);
    res.on("close", () => this.streams.delete(res));
    if (req.url === "/v1/streams/members") this.send(res, "snapshot", { node: "a", members: this.members });
  }

  private send(res: ServerResponse, event: string, data: unknown): void {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  get watching(): number {
    return this.streams.size;
  }

  push(event: string, data: unknown): void {
    for (const res of this.streams) this.send(res, event, data);
  }

  /** Ends every open stream, as a daemon that restarts does. */
  drop(): void {
    for (const res of this.streams) res.end();
  }

  /** Goes away: no more connections accepted, every open one cut. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

const daemons: FakeDaemon[] = [];
async function daemon(): Promise<FakeDaemon> {
  const d = await new FakeDaemon().start();
  daemons.push(d);
  return d;
}
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

/** A context whose stdout and stderr are collected; a terminal of 30 x 120 when tty. */
function context(server: string, output: OutputFormat, tty = false): CollectedContext {
  return collectingContext(server, output, { tty });
}

function seams(timing = FAST): LiveSeams & { stop: () => void } {
  const interrupt = new AbortController();
  return { timing, interrupt: interrupt.signal, stop: () => interrupt.abort() };
}

const WAIT_MS = 10_000;

describe("gcheck members -watch", () => {
  it("on a pipe: the snapshot's table, a line per change, and after a dropped stream the new snapshot's table", async () => {
    const d = await daemon();
    d.members = [member("a", "alive"), member("bb", "alive")];
    const c = context(d.address, "table");
    const s = seams();
    const run = membersWith(c.ctx, { watch: true }, s);
    await waitFor(() => c.out().includes("SINCE"), WAIT_MS, "the snapshot's table");
    d.push("member", { change: "suspect", member: member("bb", "suspect", 0) });
    d.push("member", { change: "join", member: member("c", "alive", 0) });
    d.push("member", { change: "reap", member: member("a", "dead", 0) });
    await waitFor(() => c.out().includes("reap"), WAIT_MS, "three change lines");
    d.members = [member("bb", "alive", 1_000), member("c", "alive", 2_000)];
    d.drop();
    await waitFor(() => c.out().split("SINCE").length === 3, WAIT_MS, "the new snapshot's table");
    s.stop();
    assert.equal(await run, 0);
    assert.equal(
      c.out(),
      [
        "NAME  ADDRESS         STATUS  INCARNATION  TAGS      SINCE",
        "a     127.0.0.1:2097  alive   1            role=web  5s ago",
        "bb    127.0.0.1:2098  alive   1            role=web  5s ago",
        "2025-06-01T14:03:09Z  bb  suspect  suspect  127.0.0.1:2098",
        "2025-06-01T14:03:09Z  c   join     alive    127.0.0.1:2099",
        "2025-06-01T14:03:09Z  a   reap     dead     127.0.0.1:2097",
        "",
        "NAME  ADDRESS         STATUS  INCARNATION  TAGS      SINCE",
        "bb    127.0.0.1:2098  alive   1            role=web  1s ago",
        "c     127.0.0.1:2099  alive   1            role=web  2s ago",
        "",
      ].join("\n"),
    );
    assert.match(c.err(), /^gcheck: lost the members stream of gossipcheckd at 127\.0\.0\.1:\d+ \(the members stream .* ended \(the daemon closed it\)\); reconnecting\n/);
    assert.match(c.err(), /gcheck: reconnected to gossipcheckd at 127\.0\.0\.1:\d+; starting over from its snapshot\n$/);
  });

  it("-status: only the members with it, and only the changes into or out of it", async () => {
    const d = await daemon();
    d.members = [member("a", "alive"), member("b", "suspect")];
    const c = context(d.address, "table");
    const s = seams();
    const run = membersWith(c.ctx, { watch: true, status: "suspect" }, s);
    await waitFor(() => c.out().includes("SINCE"), WAIT_MS, "the snapshot's table");
    d.push("member", { change: "update", member: member("a", "alive", 0) });
    d.push("member", { change: "fail", member: member("b", "dead", 0) });
    await waitFor(() => c.out().includes("fail"), WAIT_MS, "the change line");
    s.stop();
    assert.equal(await run, 0);
    assert.doesNotMatch(c.out(), /update|127\.0\.0\.1:2097/);
    assert.match(c.out(), /^b +127\.0\.0\.1:2098 +suspect/m);
    assert.match(c.out(), /b  fail     dead     127\.0\.0\.1:2098\n$/);
  });

  it("-output json: every event of the stream as one NDJSON line, the new snapshot after a reconnect too", async () => {
    const d = await daemon();
    d.members = [member("a", "alive")];
    const c = context(d.address, "json");
    const s = seams();
    const run = membersWith(c.ctx, { watch: true }, s);
    await waitFor(() => c.out().includes("snapshot"), WAIT_MS, "the snapshot line");
    d.push("member", { change: "leave", member: member("a", "left", 0) });
    await waitFor(() => c.out().includes("leave"), WAIT_MS, "the member line");
    d.drop();
    await waitFor(() => c.out().split("snapshot").length === 3, WAIT_MS, "the second snapshot line");
    s.stop();
    assert.equal(await run, 0);
    assert.deepEqual(
      c
        .out()
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as unknown),
      [
        { event: "snapshot", data: { node: "a", members: [member("a", "alive")] } },
        { event: "member", data: { change: "leave", member: member("a", "left", 0) } },
        { event: "snapshot", data: { node: "a", members: [member("a", "alive")] } },
      ],
    );
  });

  it("on a pipe, a daemon that stays away past the give-up time ends gcheck with exit 2 naming it", async () => {
    const d = await daemon();
    const c = context(d.address, "table");
    const run = membersWith(c.ctx, { watch: true }, seams(LOSING));
    await waitFor(() => c.out().includes("SINCE"), WAIT_MS, "the snapshot's table");
    await d.stop();
    await assert.rejects(run, (e: CliError) => {
      assert.equal(e.exitCode, 2);
      assert.match(
        e.message,
        /^lost the members stream of gossipcheckd at 127\.0\.0\.1:\d+ at \S+Z and could not reconnect within 600ms: gossipcheckd not reachable at 127\.0\.0\.1:\d+: is it running\?/,
      );
      return true;
    });
  });

  it("on a terminal: the table redrawn in place with a status line, reconnecting... for as long as the daemon is away, the cursor back at the end", async () => {
    const d = await daemon();
    d.members = [member("a", "alive")];
    const c = context(d.address, "table", true);
    const s = seams(LOSING);
    const run = membersWith(c.ctx, { watch: true }, s);
    await waitFor(() => /updated \S+Z; Ctrl-C quits/.test(c.out()), WAIT_MS, "a frame with its status line");
    assert.ok(c.out().startsWith("\x1b[?25l\x1b[2J"), "the cursor hidden and the screen cleared first");
    assert.match(c.out(), /\x1b\[Ha +127\.0\.0\.1:2097 +alive|\x1b\[HNAME +ADDRESS/);
    assert.match(c.out(), /gossipcheckd at 127\.0\.0\.1:\d+: a sees 1 member \(1 alive\); updated/);
    await d.stop();
    await waitFor(() => c.out().includes("reconnecting... (lost at"), WAIT_MS, "reconnecting... on the status line");
    const lostAt = Date.now();
    // Past the give-up time of a pipe, a terminal still waits for the daemon.
    await waitFor(() => Date.now() > lostAt + 2 * LOSING.giveUpMs, WAIT_MS, "twice the give-up time");
    d.members = [member("a", "alive"), member("b", "alive")];
    await d.start();
    await waitFor(() => /a sees 2 members \(2 alive\); updated/.test(c.out()), WAIT_MS, "the frame after the reconnect");
    s.stop();
    assert.equal(await run, 0);
    assert.ok(c.out().endsWith("\x1b[?25h"), "the cursor shown again at the end");
    assert.equal(c.err(), "");
  });

  it("ends at once with exit 2 when the first connection fails, or the daemon refuses (no /v1/streams, a token)", async () => {
    const d = await daemon();
    await d.stop();
    const c = context(d.address, "table", true);
    await assert.rejects(membersWith(c.ctx, { watch: true }, seams()), /gossipcheckd not reachable at 127\.0\.0\.1:\d+: is it running\?/);
    assert.ok(c.out().endsWith("\x1b[?25h"), "the terminal given back");

    const old = await daemon();
    old.refuse = { status: 404, error: "no such endpoint /v1/streams/members (endpoints: /v1/members)" };
    await assert.rejects(membersWith(context(old.address, "table").ctx, { watch: true }, seams()), (e: CliError) => {
      assert.equal(e.message, `the daemon at ${old.address} has no /v1/streams (older than this gcheck): upgrade it`);
      return e.exitCode === 2;
    });

    // A daemon that comes back refusing the token: no retrying for ever.
    const locked = await daemon();
    const c2 = context(locked.address, "table", true);
    const run = membersWith(c2.ctx, { watch: true }, seams());
    await waitFor(() => c2.out().includes("updated"), WAIT_MS, "the first frame");
    locked.refuse = { status: 401, error: "missing or wrong token" };
    locked.drop();
    await assert.rejects(run, /answered 401: missing or wrong token/);
  });

  it("gives up on a daemon that takes a connection and never answers it", async () => {
    const d = await daemon();
    d.hang = true;
    const timing = { ...FAST, connectTimeoutMs: 200 };
    await assert.rejects(membersWith(context(d.address, "table").ctx, { watch: true }, seams(timing)), /^CliError: no answer from gossipcheckd at 127\.0\.0\.1:\d+ within 200ms$/);
  });

  it("refuses -status with -watch -output json, which prints every event", async () => {
    await assert.rejects(membersWith(context("127.0.0.1:1", "json").ctx, { watch: true, status: "alive" }, seams()), /-status does not apply to -watch -output json/);
  });
});

describe("gcheck stats -watch", () => {
  /** Round n: every node answers but those named unreachable. */
  function round(d: FakeDaemon, n: number, unreachable: string[] = []): void {
    const nodes = ["a", "b", "c"];
    d.push("round", { round: n, intervalMs: 5_000, startedMs: NOW + n * 5_000, expected: nodes.map((x) => ({ name: x, address: `${x}:3505` })) });
    for (const x of nodes) {
      if (unreachable.includes(x)) d.push("unreachable", { round: n, node: x, address: `${x}:3505`, reason: "connection refused" });
      else d.push("stats", { round: n, node: x, address: `${x}:3505`, stats: nodeStats(x, n), elapsedMs: 3 });
    }
    d.push("round-done", { round: n, answered: nodes.length - unreachable.length, expected: nodes.length, missing: unreachable, elapsedMs: 12 });
  }

  it("on a pipe: one table and summary per completed round, separated by a blank line; the targeting and interval in the query", async () => {
    const d = await daemon();
    const c = context(d.address, "table");
    const s = seams();
    const run = statsWith(c.ctx, { watch: true, interval: "5s", node: ["a", "b"], tag: ["role=web"] }, s);
    await waitFor(() => d.watching === 1, WAIT_MS, "gcheck's stream");
    // A round cut short by a lost connection is dropped; the next connection starts with the next round.
    d.push("round", { round: 1, intervalMs: 5_000, startedMs: NOW, expected: [{ name: "a", address: "a:3505" }] });
    d.drop();
    await waitFor(() => d.requests.length === 2 && d.watching === 1, WAIT_MS, "the reconnect");
    round(d, 2, ["c"]);
    round(d, 3);
    await waitFor(() => c.out().includes("round 3"), WAIT_MS, "round 3's table");
    await waitFor(() => /3\/3 nodes answered/.test(c.out()), WAIT_MS, "round 3's summary");
    s.stop();
    assert.equal(await run, 0);
    assert.deepEqual(d.requests, ["/v1/streams/stats?interval=5s&node=a&node=b&tag=role%3Dweb", "/v1/streams/stats?interval=5s&node=a&node=b&tag=role%3Dweb"]);
    const [r2, r3, ...rest] = c.out().split("\n\n");
    assert.deepEqual(rest, []);
    assert.match(r2!, /^round 2 at 2025-06-01T14:03:19Z\nNODE +LOAD 1M +CPU +MEMORY +DISK \/ +UPTIME +RSS +NOTE\na +2\.00 +25% +2\.0\/8\.0 GiB \(25%\) +40\.0\/100 GiB \(40%\) +1h00m +50\.0 MiB\n/);
    assert.match(r2!, /\nc +- +- +- +- +- +- +UNREACHABLE: connection refused\n2\/3 nodes answered; 8 CPUs; memory 4\.0\/16\.0 GiB \(25%\); 12ms; not answered: c \(unreachable\)$/);
    assert.match(r3!, /^round 3 at 2025-06-01T14:03:24Z\n(?:.*\n){4}3\/3 nodes answered; 12 CPUs; memory 6\.0\/24\.0 GiB \(25%\); 12ms\n$/);
  });

  it("-output json: the events as NDJSON lines", async () => {
    const d = await daemon();
    const c = context(d.address, "json");
    const s = seams();
    const run = statsWith(c.ctx, { watch: true }, s);
    await waitFor(() => d.watching === 1, WAIT_MS, "gcheck's stream");
    round(d, 1, ["b"]);
    await waitFor(() => c.out().includes("round-done"), WAIT_MS, "the round-done line");
    s.stop();
    assert.equal(await run, 0);
    assert.equal(d.requests[0], "/v1/streams/stats?interval=2s");
    const events = c
      .out()
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as { event: string }).event);
    assert.deepEqual(events, ["round", "stats", "unreachable", "stats", "round-done"]);
  });

  it("on a terminal: every node's latest row, an unreachable one shown so until it answers again", async () => {
    const d = await daemon();
    const c = context(d.address, "table", true);
    const s = seams();
    const run = statsWith(c.ctx, { watch: true, interval: "5s" }, s);
    await waitFor(() => d.watching === 1, WAIT_MS, "gcheck's stream");
    round(d, 1, ["c"]);
    await waitFor(() => c.out().includes("round 1: 2/3 answered"), WAIT_MS, "round 1 on the status line");
    const frame = c.out().slice(c.out().lastIndexOf("\x1b[H"));
    assert.match(frame, /\nc +- +- +- +- +- +- +UNREACHABLE: connection refused\x1b\[K\n/);
    assert.match(frame, /3 nodes every 5s, round 1: 2\/3 answered; updated 2025-06-01T14:03:09Z; Ctrl-C quits/);
    round(d, 2);
    await waitFor(() => c.out().includes("round 2: 3/3 answered"), WAIT_MS, "round 2 on the status line");
    assert.doesNotMatch(c.out().slice(c.out().lastIndexOf("\x1b[H")), /UNREACHABLE/);
    s.stop();
    assert.equal(await run, 0);
  });

  it("usage errors: -interval without -watch, -timeout with it, an interval out of bounds", async () => {
    const ctx = context("127.0.0.1:1", "table").ctx;
    await assert.rejects(statsWith(ctx, { interval: "5s" }, seams()), /-interval is the period of -watch's rounds: add -watch/);
    await assert.rejects(statsWith(ctx, { watch: true, timeout: "5s" }, seams()), /-timeout does not apply to -watch/);
    await assert.rejects(statsWith(ctx, { watch: true, interval: "100ms" }, seams()), /-interval "100ms": expected a duration from 500ms to 60s, such as 2s/);
    await assert.rejects(statsWith(ctx, { watch: true, interval: "soon" }, seams()), /-interval "soon"/);
  });
});

describe("gcheck members -watch as a process", () => {
  const children = new Set<number>();
  after(() => {
    for (const pid of children) process.kill(pid, "SIGKILL");
  });

  it("Ctrl-C (SIGINT) ends it with exit 0 after the table it printed", async () => {
    const d = await daemon();
    d.members = [member("a", "alive")];
    const child = spawn(process.execPath, [GCHECK_BIN, "-server", d.address, "members", "-watch"], { stdio: ["ignore", "pipe", "pipe"] });
    children.add(child.pid!);
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    await waitFor(() => out.includes("role=web"), WAIT_MS, "the table");
    child.kill("SIGINT");
    assert.equal(await exited, 0, err);
    children.delete(child.pid!);
    assert.match(out, /^NAME +ADDRESS +STATUS +INCARNATION +TAGS +SINCE\na +127\.0\.0\.1:2097 +alive/);
    assert.equal(err, "");
  });
});
