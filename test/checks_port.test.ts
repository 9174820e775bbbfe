import assert from "node:assert/strict";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type AddressInfo, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { parseCheckObject, runBatch } from "../src/checks/index.js";
import type { CheckResult } from "../src/checks/types.js";

/*
 * The `port` check type (src/checks/port.ts) against this machine's own
 * /proc/net tables: a TCP listener and a bound UDP socket this test opens on
 * 127.0.0.1 port 0 (and on ::1 where the host has IPv6), and a port nothing
 * listens on (one a listener held and gave back).
 */

async function run(fields: Record<string, unknown>): Promise<CheckResult> {
  const parsed = parseCheckObject({ c: { type: "port", ...fields } }, "test");
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.errors.join("; "));
  const [r] = await runBatch(parsed.checks, { batchId: "b", node: "n", runActions: true });
  return r!;
}

function listen(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => resolve(s));
  });
}

const portOf = (s: Server) => (s.address() as AddressInfo).port;

describe("port checks", () => {
  let tcp: Server;
  let udp: UdpSocket;
  let udpPort: number;
  let freePort: number;
  let tcp6: Server | undefined;
  before(async () => {
    tcp = await listen("127.0.0.1");
    udp = createSocket("udp4");
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
    udpPort = udp.address().port;
    const gone = await listen("127.0.0.1");
    freePort = portOf(gone);
    await new Promise((resolve) => gone.close(resolve));
    tcp6 = await listen("::1").catch(() => undefined);
  });
  after(async () => {
    await new Promise((resolve) => tcp.close(resolve));
    await new Promise<void>((resolve) => udp.close(resolve));
    if (tcp6) await new Promise((resolve) => tcp6!.close(resolve));
  });

  it("port: a TCP listener passes, found in /proc/net/tcp; tcp looks at both families, tcp6 only at IPv6", async () => {
    const r = await run({ port: `tcp:${portOf(tcp)}` });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, new RegExp(`listening \\(tcp 127\\.0\\.0\\.1:${portOf(tcp)}\\)`));
    assert.equal((await run({ port: `tcp4:${portOf(tcp)}` })).status, "pass");
    const v6 = await run({ port: `tcp6:${portOf(tcp)}` });
    assert.equal(v6.status, "fail");
    assert.match(v6.message, /nothing listening in \/proc\/net\/tcp6/);
  });

  it("port: a port nothing listens on fails, naming the tables it read", async () => {
    const r = await run({ port: `tcp:${freePort}` });
    assert.equal(r.status, "fail");
    assert.match(r.message, new RegExp(`port tcp:${freePort}: nothing listening in /proc/net/tcp, /proc/net/tcp6`));
  });

  it("port: a bound UDP socket passes for udp, found in /proc/net/udp", async () => {
    const r = await run({ port: `udp:${udpPort}` });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /bound \(udp 127\.0\.0\.1:\d+\)/);
  });

  it("ip: the socket must be bound to that address (or the wildcard); otherwise the message says where it is", async () => {
    assert.equal((await run({ port: `tcp:${portOf(tcp)}`, ip: "127.0.0.1" })).status, "pass");
    const r = await run({ port: `tcp:${portOf(tcp)}`, ip: "127.0.0.2" });
    assert.equal(r.status, "fail");
    assert.match(r.message, /on 127\.0\.0\.2: nothing listening .*\(bound on other addresses: tcp 127\.0\.0\.1:\d+\)/);
  });

  it("port and ip over IPv6: a listener on ::1 is found in /proc/net/tcp6", async (t) => {
    if (!tcp6) return t.skip("this host cannot listen on ::1 (no IPv6 loopback)");
    const r = await run({ port: `tcp6:${portOf(tcp6)}`, ip: "::1" });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /tcp6 \[::1\]:\d+/);
  });

  it("listening: false passes when nothing listens and fails when something does", async () => {
    assert.equal((await run({ port: `tcp:${freePort}`, listening: false })).status, "pass");
    const r = await run({ port: `tcp:${portOf(tcp)}`, listening: false });
    assert.equal(r.status, "fail");
    assert.match(r.message, /expected nothing listening/);
  });

  it("validation names each field and what it expects", () => {
    const p = parseCheckObject({ a: { type: "port", port: "tcp:70000", ip: "localhost", listening: "yes" }, b: { type: "port", port: "tcp4:22", ip: "::1" }, c: { type: "port" } }, "f.json");
    const errors = p.ok ? [] : p.errors;
    assert.ok(
      errors.some((e) => /f\.json: check "a": field "listening": expected true or false/.test(e)),
      errors.join("\n"),
    );
    const p2 = parseCheckObject({ a: { type: "port", port: "tcp:70000", ip: "localhost" } }, "f.json");
    const e2 = p2.ok ? [] : p2.errors;
    assert.ok(
      e2.some((e) => /check "a": field "port": expected PROTOCOL:PORT such as "tcp:22".* got "tcp:70000"/.test(e)),
      e2.join("\n"),
    );
    assert.ok(e2.some((e) => /field "ip": expected an IPv4 or IPv6 address .* got "localhost"/.test(e)));
    assert.ok(errors.some((e) => /check "b": field "ip": "::1" is an IPv6 address but "port" says tcp4/.test(e)));
    assert.ok(errors.some((e) => /check "c": field "port" is missing/.test(e)));
  });
});
