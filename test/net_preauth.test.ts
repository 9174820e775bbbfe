import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import { lengthPrefix } from "../src/net/framing.js";
import { generateKey, Keyring } from "../src/net/keyring.js";
import { Channel } from "../src/net/transport.js";
import { bytes, helloFrame, Loopback, recordingLogger, text, waitFor } from "./net_helpers.js";

/*
 * What a peer can make a node hold before it has proved it has the key
 * (issue: 40 connections that each declared a 16 MiB frame and trickled its
 * bytes took a daemon from 65 MB to 754 MB): small first frames, a deadline
 * per frame, a shared budget for incomplete frames, and connection caps that
 * never lock out the members.
 */

const net = new Loopback();
const sockets: Socket[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  await net.closeAll();
});

const MiB = 1024 * 1024;
const echo = (body: Uint8Array) => body;

/** A raw TCP connection that notes when the node closes it. */
async function raw(address: string): Promise<{ socket: Socket; closed: () => boolean }> {
  const [host, port] = address.split(":");
  const socket = connect({ host: host!, port: Number(port) });
  sockets.push(socket);
  let closed = false;
  socket.on("error", () => {});
  socket.on("close", () => (closed = true));
  socket.resume(); // read (and drop) what the node sends, so its close is seen
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  return { socket, closed: () => closed };
}

describe("before a connection authenticates", () => {
  it("a keyed node refuses a first frame over the small limit at once: 40 connections declaring 16 MiB hold nothing", async () => {
    const b = await net.transport({ keyring: new Keyring([generateKey()]) });
    const conns = await Promise.all(Array.from({ length: 40 }, () => raw(b.address)));
    for (const c of conns) c.socket.write(Buffer.concat([lengthPrefix(16 * MiB), Buffer.alloc(1000, 7)]));
    await waitFor(() => conns.every((c) => c.closed()), "every attacking connection to be closed");
    assert.equal(b.counters().firstFrameRefused, 40);
    assert.equal(b.counters().pendingFrameBytesIn, 0);
  });

  it("a connection whose frame trickles in is closed at the frame deadline, authenticated or not", async () => {
    const log = recordingLogger();
    const key = generateKey();
    const b = await net.transport({ keyring: new Keyring([key]), frameTimeoutMs: 300, logger: log });
    const c = await raw(b.address);
    // A member's hello first: only the frame deadline can stop what follows.
    c.socket.write(Buffer.concat([helloFrame(new Keyring([key])), lengthPrefix(2 * MiB), Buffer.alloc(10)]));
    const started = Date.now();
    const trickle = setInterval(() => c.socket.write(Buffer.alloc(1)), 20);
    try {
      await waitFor(() => c.closed(), "the trickling connection to be closed", 5000);
    } finally {
      clearInterval(trickle);
    }
    assert.ok(Date.now() - started >= 300, "not before the deadline");
    assert.equal(b.counters().frameTimeouts, 1);
    assert.ok(
      log.lines.some((l) => /took longer than 300 ms to arrive/.test(l.msg)),
      "logged with the reason",
    );
  });

  it("a connection that never sends a frame that opens is closed at the deadline", async () => {
    const b = await net.transport({ keyring: new Keyring([generateKey()]), frameTimeoutMs: 200 });
    const silent = await raw(b.address);
    await waitFor(() => silent.closed(), "the silent connection to be closed", 5000);
    assert.equal(b.counters().frameTimeouts, 1);
  });

  it("a legitimate peer's 10 MB request on a fresh keyed connection works: its hello opens first", async () => {
    const key = generateKey();
    const a = await net.transport({ keyring: new Keyring([key]) });
    const b = await net.transport({ keyring: new Keyring([key]) });
    b.onRequest(Channel.Gossip, (body) => bytes(String(body.length)));
    const reply = await a.request(b.address, Channel.Gossip, new Uint8Array(10_000_000), 10_000);
    assert.equal(text(reply), "10000000");
    assert.equal(b.counters().firstFrameRefused, 0);
  });

  it("a node with the other key is refused at its hello and never gets to declare a large frame", async () => {
    const a = await net.transport({ keyring: new Keyring([generateKey()]) });
    const b = await net.transport({ keyring: new Keyring([generateKey()]) });
    b.onRequest(Channel.Gossip, echo);
    await assert.rejects(a.request(b.address, Channel.Gossip, new Uint8Array(5 * MiB), 5000));
    assert.equal(b.counters().decryptFailures, 1, "the hello failed to open; the connection ended there");
  });
});

describe("after authentication (or with no key, where anyone can)", () => {
  it("incomplete frames across all connections stay under the budget; the one that passes it is closed", async () => {
    const b = await net.transport({ maxPendingBytes: MiB });
    b.onRequest(Channel.Gossip, echo);
    // A genuine peer dials (its hello authenticates): 512 KiB incomplete each.
    const conns = await Promise.all(Array.from({ length: 4 }, () => raw(b.address)));
    const hello = helloFrame();
    for (const c of conns) c.socket.write(Buffer.concat([hello, lengthPrefix(8 * MiB), Buffer.alloc(512 * 1024)]));
    await waitFor(() => conns.filter((c) => c.closed()).length >= 2, "connections past the budget to be closed");
    assert.ok(b.counters().pendingBudgetClosed >= 2);
    assert.ok(b.counters().pendingFrameBytesIn <= MiB, `pending ${b.counters().pendingFrameBytesIn} <= budget`);
    for (const c of conns) c.socket.destroy();
    await waitFor(() => b.counters().pendingFrameBytesIn === 0, "closed connections to release their bytes");
  });
});

describe("connection caps", () => {
  it("at the connection limit, a member's new connection evicts the oldest one that never authenticated", async () => {
    const b = await net.transport({ maxInboundConnections: 4 });
    b.onRequest(Channel.Gossip, echo);
    const idle = await Promise.all(Array.from({ length: 4 }, () => raw(b.address)));
    await waitFor(() => b.counters().openConnectionsIn === 4, "four idle connections");
    const a = await net.transport();
    assert.equal(text(await a.request(b.address, Channel.Gossip, bytes("let me in"), 2000)), "let me in");
    assert.equal(b.counters().connectionsEvicted, 1);
    await waitFor(() => idle.filter((c) => c.closed()).length === 1, "one idle connection evicted");
  });

  it("one address may hold only so many connections waiting to authenticate", async () => {
    const b = await net.transport({ maxUnauthenticatedPerAddress: 3 });
    const conns = await Promise.all(Array.from({ length: 5 }, () => raw(b.address)));
    await waitFor(() => conns.filter((c) => c.closed()).length === 2, "the two past the per-address cap to be refused");
    assert.equal(b.counters().connectionsRefusedPerAddress, 2);
  });
});
