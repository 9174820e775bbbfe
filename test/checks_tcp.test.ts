import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { decodeCheckBatch, encodeCheckBatch } from "../src/checks/codec.js";
import { parseCheckObject } from "../src/checks/index.js";
import type { CheckResult, CheckSpec } from "../src/checks/types.js";
import { checkSpec, runOneCheck } from "./support/checks.js";

/*
 * The `tcp` check type (src/checks/tcp.ts) against a listener this test
 * starts on loopback, a port it has just closed, and, for the timeout, a
 * listener whose accept queue is full (backlog 0, never accepting), so that
 * a further connect hangs in SYN retries.
 */

const spec = (fields: Record<string, unknown>): CheckSpec => checkSpec({ type: "tcp", ...fields });

const run = (fields: Record<string, unknown>): Promise<CheckResult> => runOneCheck(spec(fields));

describe("tcp checks", () => {
  const server = createServer((s) => {
    s.on("error", () => {});
    s.destroy();
  });
  let open = "";
  let closed = "";
  before(async () => {
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    open = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const gone = createServer();
    await new Promise<void>((ok) => gone.listen(0, "127.0.0.1", ok));
    closed = `127.0.0.1:${(gone.address() as AddressInfo).port}`;
    await new Promise((ok) => gone.close(ok));
  });
  after(() => server.close());

  it("pass when the address accepts a connection, and fail when it refuses, saying why", async () => {
    const r = await run({ address: open });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /^connected to 127\.0\.0\.1:\d+ in \d+ ms$/);
    const c = await run({ address: closed });
    assert.equal(c.status, "fail");
    assert.match(c.message, /^cannot connect to 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/);
  });

  it("reachable: false passes on a closed port and fails on an open one", async () => {
    const r = await run({ address: closed, reachable: false });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /is not reachable, as expected: connection refused/);
    assert.match((await run({ address: open, reachable: false })).message, /connected to .* expected it to be unreachable/);
  });

  it("a connected probe ends with a reset: no TIME_WAIT socket is left on either side", async () => {
    // A listener that keeps what it accepts open, so that the probe closes first.
    const held = new Set<Socket>();
    const probePorts: number[] = [];
    const keeper = createServer((s) => {
      held.add(s);
      probePorts.push(s.remotePort!);
      s.on("error", () => {});
      s.on("close", () => held.delete(s));
    });
    await new Promise<void>((ok) => keeper.listen(0, "127.0.0.1", ok));
    const port = (keeper.address() as AddressInfo).port;
    try {
      for (let i = 0; i < 5; i++) assert.equal((await run({ address: `127.0.0.1:${port}` })).status, "pass");
      assert.equal(probePorts.length, 5);
      // Exactly these connections (the port numbers may have been used before by other tests' sockets).
      const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, "0");
      const pairs = new Set(probePorts.flatMap((p) => [`${hex(p)} ${hex(port)}`, `${hex(port)} ${hex(p)}`]));
      const timeWait = readFileSync("/proc/net/tcp", "utf8")
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter((c) => c[3] === "06" && pairs.has(`${c[1]?.split(":")[1]} ${c[2]?.split(":")[1]}`));
      assert.deepEqual(timeWait, [], "TIME_WAIT sockets of the probes");
    } finally {
      for (const s of held) s.destroy();
      await new Promise((ok) => keeper.close(ok));
    }
  });

  it("takes a host name ([::1] and localhost alike)", async () => {
    const port = open.split(":")[1];
    const r = await run({ address: `localhost:${port}` });
    // localhost may resolve to ::1 first: the connection falls back to 127.0.0.1.
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /connected to localhost:\d+ \(127\.0\.0\.1:\d+\)/);
  });

  it("a name that does not resolve fails a reachable check, and is an error for reachable: false", async () => {
    const r = await run({ address: "no-such-host.invalid:80" });
    assert.equal(r.status, "fail");
    assert.match(r.message, /cannot connect to no-such-host\.invalid:80: /);
    const u = await run({ address: "no-such-host.invalid:80", reachable: false });
    assert.equal(u.status, "error");
    assert.match(u.message, /cannot tell whether no-such-host\.invalid:80 is reachable/);
  });

  const python = spawnSync("python3", ["-c", "pass"]).status === 0;
  it("connect_timeout bounds the attempt (a listener whose queue is full)", { skip: python ? false : "python3 is not installed" }, async (t) => {
    // Node cannot listen without accepting; python can: backlog 0, no accept().
    const child: ChildProcess = spawn("python3", ["-c", 'import socket,sys\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()'], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const fillers: Socket[] = [];
    t.after(() => {
      for (const s of fillers) s.destroy();
      child.kill();
    });
    const port = await new Promise<number>((ok) => child.stdout!.once("data", (d) => ok(Number(String(d)))));
    // Fill the accept queue: connect until one attempt does not complete within 200 ms.
    for (let i = 0; i < 8; i++) {
      const s = connect(port, "127.0.0.1");
      fillers.push(s);
      const made = await new Promise<boolean>((ok) => {
        s.once("connect", () => ok(true));
        s.once("error", () => ok(true));
        setTimeout(() => ok(false), 200);
      });
      if (!made) break;
    }
    const started = Date.now();
    const r = await run({ address: `127.0.0.1:${port}`, connect_timeout: "300ms" });
    assert.equal(r.status, "fail", r.message);
    assert.match(r.message, /no connection within 300 ms/);
    assert.ok(Date.now() - started < 5_000);
    assert.equal((await run({ address: `127.0.0.1:${port}`, connect_timeout: "300ms", reachable: false })).status, "pass");
  });

  it("its fields cross the wire and are validated again on receipt", () => {
    const c = spec({ address: "[::1]:22", reachable: false, connect_timeout: "1.5s" });
    const decoded = decodeCheckBatch(encodeCheckBatch({ checks: [c], dryRun: false, targetNodes: [], targetTags: {} }));
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.batch.checks[0], c);
  });

  it("validation names each field and what it expects", () => {
    const p = parseCheckObject(
      {
        a: { type: "tcp", address: "db1" },
        b: { type: "tcp", address: "db1:70000" },
        c: { type: "tcp", address: "::1:22", reachable: "no", connect_timeout: 0 },
        d: { type: "tcp" },
      },
      "f.json",
    );
    const errors = p.ok ? [] : p.errors;
    const has = (re: RegExp) =>
      assert.ok(
        errors.some((e) => re.test(e)),
        `${re} not in:\n${errors.join("\n")}`,
      );
    has(/f\.json: check "a": field "address": expected host:port or \[IPv6\]:port with a port from 1 to 65535 .*got "db1"/);
    has(/check "b": field "address": .*got "db1:70000"/);
    has(/check "c": field "reachable": expected true or false .*got the string "no"/);
    has(/check "c": field "connect_timeout": expected a duration/);
    has(/check "d": field "address" is missing: the host:port to connect to/);
  });
});
