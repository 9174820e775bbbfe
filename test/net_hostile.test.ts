import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { connect, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import { pb } from "../src/proto/index.js";
import { FrameDecoder, lengthPrefix } from "../src/net/framing.js";
import { Channel, TransportError } from "../src/net/transport.js";
import { bytes, helloFrame, Loopback, recordingLogger, text, waitFor } from "./net_helpers.js";

const net = new Loopback();
after(() => net.closeAll());

const MiB = 1024 * 1024;
const echo = (body: Uint8Array) => body;

/** A raw TCP client that collects the frames it receives and notes when the peer closes. */
async function rawClient(address: string): Promise<{ socket: Socket; frames: pb.Frame[]; closed: () => boolean }> {
  const [host, port] = address.split(":");
  const socket = connect({ host: host!, port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const frames: pb.Frame[] = [];
  const decoder = new FrameDecoder(MiB);
  let closed = false;
  socket.on("data", (chunk: Buffer) => decoder.push(chunk).frames.forEach((f) => frames.push(pb.Frame.decode(f))));
  socket.on("error", () => {});
  socket.on("close", () => (closed = true));
  return { socket, frames, closed: () => closed };
}

/** The receiver still serves a normal request after whatever a test threw at it. */
async function stillServes(address: string): Promise<void> {
  const probe = await net.transport();
  assert.equal(text(await probe.request(address, Channel.Gossip, bytes("still here?"), 2000)), "still here?");
}

describe("oversize frames", () => {
  it("are refused by the sender before anything is sent, naming the size and the limit", async () => {
    const a = await net.transport({ maxFrameBytes: MiB });
    const b = await net.transport();
    b.onRequest(Channel.Gossip, echo);
    const err = await a.request(b.address, Channel.Gossip, new Uint8Array(2 * MiB), 2000).catch((e: unknown) => e);
    assert.ok(err instanceof TransportError && err.code === "too_large");
    assert.match(err.message, new RegExp(`^request of \\d+ bytes to ${b.address} exceeds the maximum frame size of ${MiB} bytes`));
    assert.equal(a.counters().connectionsOpened, 0, "nothing was dialled");
    assert.equal(a.counters().oversizeFrames, 1);
  });

  it("are refused by a receiver with a smaller limit, which tells the sender why, closes, and keeps serving", async () => {
    const log = recordingLogger();
    const a = await net.transport();
    const b = await net.transport({ maxFrameBytes: MiB, logger: log });
    b.onRequest(Channel.Gossip, (body) => (text(body) === "hang" ? new Promise<Uint8Array>(() => {}) : body));
    const hanging = a.request(b.address, Channel.Gossip, bytes("hang"), 30_000);
    await waitFor(() => b.counters().requestsIn === 1, "the small request to arrive");
    const err = await a.request(b.address, Channel.Gossip, new Uint8Array(2 * MiB), 5000).catch((e: unknown) => e);
    assert.ok(err instanceof TransportError && err.code === "too_large", String(err));
    assert.match(err.message, new RegExp(`^${b.address} refused the request: frame too large: \\d+ bytes exceeds the maximum of ${MiB} bytes \\(raise -max-frame-size on the receiver\\)$`));
    await assert.rejects(hanging, (e: TransportError) => e.code === "unreachable", "the other request on the refused connection fails as the connection closes");
    assert.equal(b.counters().oversizeFrames, 1);
    assert.ok(log.lines.some((l) => l.level === "warn" && /refused a frame from .*frame too large/.test(l.msg)));
    assert.equal(text(await a.request(b.address, Channel.Gossip, bytes("again"), 2000)), "again", "the sender re-dials and is served");
  });

  it("are not sent as replies: a handler's reply over the responder's limit becomes a too_large error", async () => {
    const a = await net.transport();
    const b = await net.transport({ maxFrameBytes: MiB });
    b.onRequest(Channel.Gossip, (body) => (text(body) === "big" ? new Uint8Array(2 * MiB) : body));
    const err = await a.request(b.address, Channel.Gossip, bytes("big"), 5000).catch((e: unknown) => e);
    assert.ok(err instanceof TransportError && err.code === "too_large", String(err));
    assert.match(err.message, new RegExp(`reply of \\d+ bytes exceeds this node's maximum frame size of ${MiB} bytes`));
    assert.equal(text(await a.request(b.address, Channel.Gossip, bytes("small"), 2000)), "small", "the connection is still fine");
    assert.equal(a.counters().connectionsOpened, 1);
  });

  it("declared by a raw socket (1 GiB) get an error frame and a close, without the receiver allocating it", async () => {
    const b = await net.transport();
    b.onRequest(Channel.Gossip, echo);
    const raw = await rawClient(b.address);
    raw.socket.write(lengthPrefix(1024 * MiB));
    raw.socket.write(Buffer.alloc(64 * 1024));
    await waitFor(() => raw.closed(), "the receiver to close the connection");
    assert.equal(raw.frames.length, 1);
    const f = raw.frames[0]!;
    assert.ok(f.isReply && f.requestId === 0);
    assert.equal(f.rejectedFrameBytes, 1024 * MiB);
    assert.equal(f.error, `frame too large: ${1024 * MiB} bytes exceeds the maximum of ${16 * MiB} bytes (raise -max-frame-size on the receiver)`);
    await stillServes(b.address);
  });
});

describe("garbage on the wire", () => {
  it("an undecodable TCP frame is counted, logged once however many arrive, and closes only its connection", async () => {
    const log = recordingLogger();
    const b = await net.transport({ logger: log });
    b.onRequest(Channel.Gossip, echo);
    const clients = await Promise.all([1, 2, 3].map(() => rawClient(b.address)));
    for (const c of clients) c.socket.write(Buffer.concat([lengthPrefix(8), Buffer.alloc(8, 0xff)]));
    await waitFor(() => clients.every((c) => c.closed()), "every garbage connection to be closed");
    assert.equal(b.counters().undecodable, 3);
    assert.equal(log.lines.filter((l) => /dropped a frame from .*: it does not decode/.test(l.msg)).length, 1, "rate-limited to one line");
    await stillServes(b.address);
  });

  it("a frame of another protocol version is answered with a mismatch error and the connection closed", async () => {
    const b = await net.transport();
    b.onRequest(Channel.Gossip, echo);
    const raw = await rawClient(b.address);
    const frame = pb.Frame.encode({ version: 99, channel: Channel.Gossip, requestId: 7, body: bytes("hi") }).finish();
    raw.socket.write(Buffer.concat([lengthPrefix(frame.length), frame]));
    await waitFor(() => raw.closed(), "the connection to close");
    assert.equal(b.counters().badVersion, 1);
    assert.equal(b.counters().requestsIn, 0, "the request was never handled");
    assert.match(raw.frames[0]?.error ?? "", /protocol version mismatch: got a frame of version 99, this node speaks version 1/);
  });

  it("UDP packets that are oversize, or sealed while we have no key, are dropped and counted; the next good one gets through", async () => {
    const b = await net.transport();
    const got: string[] = [];
    b.onPacket((d) => got.push(text(d)));
    const [, port] = b.address.split(":");
    const sock = createSocket("udp4");
    after(() => sock.close());
    const send = (buf: Buffer) => new Promise<void>((r) => sock.send(buf, Number(port), "127.0.0.1", () => r()));
    await send(Buffer.alloc(3000, 0x41)); // over 1400
    await send(Buffer.concat([Buffer.from([0x01]), Buffer.alloc(40, 0x33)])); // claims to be sealed
    await send(Buffer.from("good"));
    await waitFor(() => got.length === 1, "the good packet");
    assert.deepEqual(got, ["good"]);
    const c = b.counters();
    assert.equal(c.oversizePackets, 1);
    assert.equal(c.undecodable, 1);
    assert.equal(c.packetsIn, 3);
  });

  it("a packet too large to send is not sent, and counted", async () => {
    const a = await net.transport();
    a.sendPacket("127.0.0.1:9", new Uint8Array(1401));
    a.sendPacket("not an address", new Uint8Array(10));
    const c = a.counters();
    assert.equal(c.oversizePackets, 1);
    assert.equal(c.packetSendErrors, 1);
    assert.equal(c.packetsOut, 0);
    assert.equal(a.maxPacketBytes, 1400);
  });

  it("a packet handler that throws is counted and does not take the transport down", async () => {
    const a = await net.transport();
    const b = await net.transport();
    const got: string[] = [];
    b.onPacket((d) => {
      if (text(d) === "boom") throw new Error("bug in the layer above");
      got.push(text(d));
    });
    a.sendPacket(b.address, bytes("boom"));
    a.sendPacket(b.address, bytes("fine"));
    await waitFor(() => got.length === 1, "the packet after the throwing one");
    assert.equal(b.counters().handlerErrors, 1);
  });
});

describe("inbound connection limit", () => {
  it("closes connections beyond the maximum on arrival when all are authenticated and none idle long enough to give way, counts and logs them, and serves the others", async () => {
    const log = recordingLogger();
    const b = await net.transport({ maxInboundConnections: 2, minIdleToEvictMs: 3_600_000, logger: log });
    b.onRequest(Channel.Gossip, echo);
    const first = await rawClient(b.address);
    const second = await rawClient(b.address);
    // Members' connections: their hellos authenticate them, so neither may be evicted.
    first.socket.write(helloFrame());
    second.socket.write(helloFrame());
    await waitFor(() => b.counters().openConnectionsIn === 2 && b.counters().framesIn === 2, "two accepted, authenticated connections");
    const third = await rawClient(b.address);
    await waitFor(() => third.closed(), "the third connection to be closed");
    assert.equal(b.counters().connectionsRefused, 1);
    assert.ok(!first.closed() && !second.closed());
    assert.ok(log.lines.some((l) => /2 inbound connections are open, the maximum, all authenticated and busy within the last 3600000 ms/.test(l.msg)));
    first.socket.destroy();
    await waitFor(() => b.counters().openConnectionsIn === 1, "a slot to free up");
    await stillServes(b.address);
    second.socket.destroy();
  });

  it("in a cluster of more members than the limit, a member's new connection takes the place of the one idle the longest, and every request is answered", async () => {
    const b = await net.transport({ maxInboundConnections: 3, minIdleToEvictMs: 0 });
    b.onRequest(Channel.Gossip, echo);
    // Seven members each ask once (as every node answers a batch's origin), then each asks again.
    const members = await Promise.all(Array.from({ length: 7 }, () => net.transport()));
    for (const round of [1, 2]) {
      for (const [i, m] of members.entries()) {
        assert.equal(text(await m.request(b.address, Channel.Gossip, bytes(`m${i} round ${round}`), 2000)), `m${i} round ${round}`);
        assert.ok(b.counters().openConnectionsIn <= 3, `${b.counters().openConnectionsIn} open`);
      }
    }
    assert.equal(b.counters().connectionsRefused, 0);
    // Each of the 14 connections past the first 3 took an idle one's place.
    assert.equal(b.counters().idleConnectionsEvicted, 11);
  });

  it("never closes a member's connection with a request in flight to make room", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const b = await net.transport({ maxInboundConnections: 1, minIdleToEvictMs: 0 });
    b.onRequest(Channel.Gossip, async (body) => {
      if (text(body) === "slow") await held;
      return body;
    });
    const [slow, other] = await Promise.all([net.transport(), net.transport()]);
    const pending = slow.request(b.address, Channel.Gossip, bytes("slow"), 5000);
    await waitFor(() => b.counters().requestsIn === 1, "the slow request to arrive");
    await assert.rejects(other.request(b.address, Channel.Gossip, bytes("no room"), 2000), TransportError);
    assert.equal(b.counters().connectionsRefused, 1);
    assert.equal(b.counters().idleConnectionsEvicted, 0);
    release();
    assert.equal(text(await pending), "slow");
  });
});
