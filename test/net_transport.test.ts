import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import { Channel, TransportError, type Relay } from "../src/net/transport.js";
import { ListenError } from "../src/net/listen.js";
import { NodeTransport } from "../src/net/node_transport.js";
import { generateKey, Keyring } from "../src/net/keyring.js";
import { bytes, Loopback, recordingLogger, text, waitFor } from "./net_helpers.js";

const net = new Loopback();
after(() => net.closeAll());

const echo = (body: Uint8Array) => body;

/** A port nobody listens on: bound once, then released. */
async function deadAddress(): Promise<string> {
  const t = await NodeTransport.listen({ bindHost: "127.0.0.1", port: 0 });
  await t.close();
  return t.address;
}

describe("NodeTransport on loopback", () => {
  it("sends packets both ways on one port, each side seeing the other's listening address", async () => {
    const a = await net.transport();
    const b = await net.transport();
    assert.match(a.address, /^127\.0\.0\.1:\d+$/);
    const gotA: string[] = [];
    const gotB: string[] = [];
    a.onPacket((d, from) => gotA.push(`${text(d)} from ${from}`));
    b.onPacket((d, from) => gotB.push(`${text(d)} from ${from}`));
    a.sendPacket(b.address, bytes("ping"));
    b.sendPacket(a.address, bytes("ack"));
    await waitFor(() => gotA.length === 1 && gotB.length === 1, "both packets");
    assert.deepEqual(gotB, [`ping from ${a.address}`]);
    assert.deepEqual(gotA, [`ack from ${b.address}`]);
    assert.equal(a.counters().packetsOut, 1);
    assert.equal(a.counters().packetsIn, 1);
    assert.equal(a.counters().packetBytesOut, 4);
  });

  it("answers requests both ways, reusing one pooled connection per direction for many requests", async () => {
    const a = await net.transport();
    const b = await net.transport();
    const froms = new Set<string>();
    a.onRequest(Channel.Gossip, (body, from) => (froms.add(from), bytes(`a:${text(body)}`)));
    b.onRequest(Channel.Gossip, (body, from) => (froms.add(from), bytes(`b:${text(body)}`)));
    for (let i = 0; i < 50; i++) {
      assert.equal(text(await a.request(b.address, Channel.Gossip, bytes(`${i}`), 2000)), `b:${i}`);
      assert.equal(text(await b.request(a.address, Channel.Gossip, bytes(`${i}`), 2000)), `a:${i}`);
    }
    assert.deepEqual([...froms].sort(), [a.address, b.address].sort(), "handlers see listening addresses, not ephemeral ports");
    for (const t of [a, b]) {
      const c = t.counters();
      assert.equal(c.connectionsOpened, 1, "one outbound connection carried all 50 requests");
      assert.equal(c.connectionsAccepted, 1);
      assert.equal(c.requestsOut, 50);
      assert.equal(c.requestsIn, 50);
      assert.equal(c.framesOut, 101, "100 requests after the connection's hello");
    }
  });

  it("multiplexes concurrent requests on one connection and matches replies that come back out of order", async () => {
    const a = await net.transport();
    const b = await net.transport();
    // Request i is answered after (200 - i) ms: the last sent is answered first.
    b.onRequest(Channel.Swim, async (body) => {
      const i = Number(text(body));
      await new Promise((r) => setTimeout(r, (200 - i) / 4));
      return bytes(`reply ${i}`);
    });
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => a.request(b.address, Channel.Swim, bytes(`${i}`), 5000)));
    replies.forEach((r, i) => assert.equal(text(r), `reply ${i}`));
    assert.equal(a.counters().connectionsOpened, 1);
    assert.equal(b.counters().connectionsAccepted, 1);
    assert.equal(a.counters().pendingRequests, 0);
  });

  it("rejects a request to a dead port as unreachable, then fails fast during backoff instead of re-dialling", async () => {
    const a = await net.transport();
    const dead = await deadAddress();
    const err = await a.request(dead, Channel.Gossip, bytes("x"), 5000).catch((e: unknown) => e);
    assert.ok(err instanceof TransportError && err.code === "unreachable", String(err));
    assert.match(err.message, new RegExp(`cannot connect to ${dead}.*ECONNREFUSED`));
    // A tight loop of requests right after: all fail, almost none dial.
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => a.request(dead, Channel.Gossip, bytes("x"), 5000)));
    assert.ok(results.every((r) => r.status === "rejected" && (r.reason as TransportError).code === "unreachable"));
    const c = a.counters();
    assert.ok(c.dialFailures <= 2, `dialled ${c.dialFailures} times`);
    assert.ok(c.dialBackoffRejects >= 99);
    const during = results[0]!.status === "rejected" ? String(results[0].reason.message) : "";
    assert.match(during, /last connection attempt failed.*next attempt in \d+ ms/);
  });

  it("dials again once the backoff has passed and the peer is back", async () => {
    const a = await net.transport();
    const b = await net.transport();
    b.onRequest(Channel.Gossip, echo);
    const addr = b.address;
    await b.close();
    await assert.rejects(a.request(addr, Channel.Gossip, bytes("x"), 2000), { code: "unreachable" });
    const port = Number(addr.split(":")[1]);
    const again = await net.transport({ port });
    again.onRequest(Channel.Gossip, echo);
    // Retry as a caller would; the first tries may land in backoff.
    let reply: Uint8Array | null = null;
    const deadline = Date.now() + 5000;
    while (reply === null && Date.now() < deadline) {
      reply = await a.request(addr, Channel.Gossip, bytes("back"), 2000).catch(() => null);
      if (reply === null) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(reply, "a request succeeded after the peer came back");
    assert.equal(text(reply!), "back");
  });

  it("times a request out, counts it, and keeps the connection usable", async () => {
    const a = await net.transport();
    const b = await net.transport();
    b.onRequest(Channel.Gossip, (body) => (text(body) === "hang" ? new Promise<Uint8Array>(() => {}) : body));
    const err = await a.request(b.address, Channel.Gossip, bytes("hang"), 50).catch((e: unknown) => e);
    assert.ok(err instanceof TransportError && err.code === "timeout");
    assert.match(err.message, /timed out after 50 ms/);
    assert.equal(a.counters().requestTimeouts, 1);
    assert.equal(text(await a.request(b.address, Channel.Gossip, bytes("ok"), 2000)), "ok");
    assert.equal(a.counters().connectionsOpened, 1);
  });

  it("turns a handler's error, or a channel with no handler, into a remote error for the requester", async () => {
    const a = await net.transport();
    const b = await net.transport();
    b.onRequest(Channel.Gossip, () => {
      throw new Error("batch rejected: unsigned");
    });
    await assert.rejects(a.request(b.address, Channel.Gossip, bytes("x"), 2000), (e: TransportError) => e.code === "remote" && e.message === `${b.address}: batch rejected: unsigned`);
    await assert.rejects(a.request(b.address, Channel.Swim, bytes("x"), 2000), (e: TransportError) => e.code === "remote" && /no handler for channel 1/.test(e.message));
    assert.equal(a.counters().requestErrors, 2);
  });

  it("rejects requests in flight as unreachable when the connection breaks, long before their timeout", async () => {
    const a = await net.transport();
    const b = await net.transport();
    let arrived = 0;
    b.onRequest(Channel.Gossip, () => (arrived++, new Promise<Uint8Array>(() => {})));
    const inFlight = [1, 2, 3].map(() => a.request(b.address, Channel.Gossip, bytes("x"), 30_000));
    await waitFor(() => arrived === 3, "requests to arrive");
    const started = Date.now();
    await b.close();
    for (const p of inFlight) await assert.rejects(p, (e: TransportError) => e.code === "unreachable" && /broke/.test(e.message));
    assert.ok(Date.now() - started < 30_000);
    assert.equal(a.counters().pendingRequests, 0);
  });

  it("round-trips a 10 MB request body", async () => {
    const a = await net.transport();
    const b = await net.transport();
    b.onRequest(Channel.Gossip, (body) => body.subarray(0, 16));
    const big = new Uint8Array(10 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    big[big.length - 1] = 0x5a;
    let seen: Uint8Array | null = null;
    a.onRequest(Channel.Swim, (body) => ((seen = body), bytes("ok")));
    assert.equal(await b.request(a.address, Channel.Gossip, bytes("x"), 1000).catch(() => null), null, "a has no Gossip handler");
    assert.equal(text(await b.request(a.address, Channel.Swim, big, 10_000)), "ok");
    assert.equal(seen!.length, big.length);
    assert.ok(Buffer.from(seen!).equals(Buffer.from(big)));
    const reply = await a.request(b.address, Channel.Gossip, big, 10_000);
    assert.equal(reply.length, 16);
  });

  it("closes pooled connections after they are idle, and re-dials on the next request", async () => {
    const a = await net.transport({ idleTimeoutMs: 100 });
    const b = await net.transport({ idleTimeoutMs: 100 });
    b.onRequest(Channel.Gossip, echo);
    await a.request(b.address, Channel.Gossip, bytes("1"), 2000);
    assert.equal(a.counters().openConnectionsOut, 1);
    await waitFor(() => a.counters().openConnectionsOut === 0 && b.counters().openConnectionsIn === 0, "idle connections to close");
    assert.equal(text(await a.request(b.address, Channel.Gossip, bytes("2"), 2000)), "2");
    assert.equal(a.counters().connectionsOpened, 2);
  });

  it("rejects requests in flight with 'closed' on close(), and every request after it", async () => {
    const a = await net.transport();
    const b = await net.transport();
    b.onRequest(Channel.Gossip, () => new Promise<Uint8Array>(() => {}));
    const p = a.request(b.address, Channel.Gossip, bytes("x"), 30_000);
    await waitFor(() => b.counters().requestsIn === 1, "the request to arrive");
    await a.close();
    await assert.rejects(p, { code: "closed" });
    await assert.rejects(a.request(b.address, Channel.Gossip, bytes("x"), 1000), { code: "closed" });
  });
});

describe("NodeTransport one-way messages", () => {
  it("deliver to the handler on the pooled connection with no reply frame, and a failing handler is counted only by the receiver", async () => {
    const log = recordingLogger();
    const a = await net.transport();
    const b = await net.transport({ logger: log });
    const got: string[] = [];
    b.onRequest(Channel.Gossip, (body, from) => {
      if (text(body) === "bad") throw new Error("not an envelope");
      got.push(`${text(body)} from ${from}`);
      return new Uint8Array(0);
    });
    for (let i = 0; i < 20; i++) await a.send(b.address, Channel.Gossip, bytes(`m${i}`));
    await a.send(b.address, Channel.Gossip, bytes("bad"));
    await waitFor(() => b.counters().oneWayIn === 21, "all 21 messages to arrive");
    assert.deepEqual(
      got,
      Array.from({ length: 20 }, (_, i) => `m${i} from ${a.address}`),
      "in order, with the sender's listening address",
    );
    assert.equal(b.counters().framesOut, 0, "nothing was answered");
    assert.equal(b.counters().oneWayErrors, 1);
    assert.ok(log.lines.some((l) => l.level === "warn" && /a message from .* failed here: not an envelope/.test(l.msg)));
    const c = a.counters();
    assert.equal(c.oneWayOut, 21);
    assert.equal(c.framesOut, 22, "21 messages after the connection's hello");
    assert.equal(c.connectionsOpened, 1);
    assert.equal(c.pendingRequests, 0);
    assert.equal(text(await a.request(b.address, Channel.Gossip, bytes("still a request"), 2000)), "", "requests share the connection");
  });

  it("reject when the peer cannot be reached, and fail fast during the dial backoff", async () => {
    const a = await net.transport();
    const dead = await deadAddress();
    const err = await a.send(dead, Channel.Gossip, bytes("x")).catch((e: unknown) => e);
    assert.ok(err instanceof TransportError && err.code === "unreachable", String(err));
    const again = await a.send(dead, Channel.Gossip, bytes("x")).catch((e: unknown) => e);
    assert.ok(again instanceof TransportError && again.code === "unreachable" && /next attempt in/.test(again.message), String(again));
    assert.equal(a.counters().dialFailures, 1);
  });

  it("too large for the sender are refused before dialling; too large for the receiver are refused there and logged by the sender", async () => {
    const log = recordingLogger();
    const a = await net.transport({ logger: log, maxFrameBytes: 4 * 1024 * 1024 });
    const b = await net.transport({ maxFrameBytes: 1024 * 1024 });
    b.onRequest(Channel.Gossip, () => new Uint8Array(0));
    const local = await a.send(b.address, Channel.Gossip, new Uint8Array(5 * 1024 * 1024)).catch((e: unknown) => e);
    assert.ok(local instanceof TransportError && local.code === "too_large", String(local));
    assert.equal(a.counters().connectionsOpened, 0);
    await a.send(b.address, Channel.Gossip, new Uint8Array(2 * 1024 * 1024));
    await waitFor(() => log.lines.some((l) => /refused a message of \d+ bytes: frame too large/.test(l.msg)), "the sender to log the refusal");
    assert.equal(b.counters().oversizeFrames, 1);
  });
});

describe("NodeTransport relays", () => {
  for (const mode of ["plain", "keyed"] as const) {
    it(`${mode}: a one-way message with a dedup key is offered for relay and goes on as the very bytes that came; another body is encoded afresh`, async () => {
      const keyring = mode === "keyed" ? new Keyring([generateKey()]) : null;
      const sender = await net.transport({ keyring });
      const relayer = await net.transport({ keyring });
      const relays: (Relay | undefined)[] = [];
      relayer.onRequest(Channel.Gossip, (_body, _from, relay) => {
        relays.push(relay);
        return new Uint8Array(0);
      });
      const seen = await rawListener();
      await Promise.all(sender.sendAll([seen.address, relayer.address], Channel.Gossip, bytes("push"), bytes("envelope-id-0001")));
      await Promise.all(sender.sendAll([relayer.address], Channel.Gossip, bytes("no dedup key")));
      await waitFor(() => relays.length === 2 && seen.received().length > 0, "both messages and the raw copy");
      const relay = relays[0];
      assert.ok(relay, "the pushed message comes with its wire bytes");
      assert.equal(relays[1], undefined, "a message without a dedup key is not offered");
      assert.equal(text(relay.body), "push");
      assert.ok(relay.wire.equals(seen.received().subarray(4)), "the relay holds the frame exactly as the sender wrote it");

      const onward = await Promise.all([0, 1].map(() => rawListener()));
      await Promise.all(relayer.sendAll([onward[0]!.address], Channel.Gossip, relay.body, bytes("envelope-id-0001"), relay));
      await Promise.all(relayer.sendAll([onward[1]!.address], Channel.Gossip, Buffer.from(relay.body), bytes("envelope-id-0001"), relay));
      await waitFor(() => onward.every((o) => o.received().length > 0), "both onward copies");
      assert.ok(onward[0]!.received().equals(seen.received()), "relayed: the same bytes, neither re-encoded nor re-sealed");
      assert.ok(!onward[1]!.received().equals(seen.received()), "another body (even an equal copy): encoded and sealed here");
      assert.equal(relayer.counters().relayed, 1);
      for (const l of [seen, ...onward]) l.close();
    });
  }

  it("keyed: a message opened with a key other than this node's primary is not offered for relay", async () => {
    const [k1, k2] = [generateKey(), generateKey()];
    const sender = await net.transport({ keyring: new Keyring([k1]) });
    const rotated = await net.transport({ keyring: new Keyring([k2, k1]) });
    const relays: (Relay | undefined)[] = [];
    rotated.onRequest(Channel.Gossip, (_body, _from, relay) => {
      relays.push(relay);
      return new Uint8Array(0);
    });
    await Promise.all(sender.sendAll([rotated.address], Channel.Gossip, bytes("push"), bytes("envelope-id-0002")));
    await waitFor(() => relays.length === 1, "the message");
    assert.equal(relays[0], undefined, "sealed with k1, and this node seals with k2: it must seal afresh");
  });
});

describe("NodeTransport replies released together", () => {
  for (const mode of ["plain", "keyed"] as const) {
    it(`${mode}: equal replies ready in one turn go back as one frame that settles every request it names; other replies get a frame each`, async () => {
      const keyring = mode === "keyed" ? new Keyring([generateKey()]) : null;
      const a = await net.transport({ keyring });
      const b = await net.transport({ keyring });
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      b.onRequest(Channel.Gossip, async (body) => {
        await gate;
        return text(body).startsWith("ack") ? bytes("ok") : bytes(`re:${text(body)}`);
      });
      const asked = ["ack 1", "x", "ack 2", "ack 3", "y"].map((s) => a.request(b.address, Channel.Gossip, bytes(s), 5000));
      await waitFor(() => b.counters().requestsIn === 5, "b to hold all five requests");
      const framesBefore = b.counters().framesOut;
      open(); // all five handlers finish in the same turn
      assert.deepEqual((await Promise.all(asked)).map(text), ["ok", "re:x", "ok", "ok", "re:y"]);
      assert.equal(b.counters().framesOut - framesBefore, 3, "one frame answered the three acks, one frame each the others");
      assert.equal(b.counters().coalescedReplies, 2);
      assert.equal(a.counters().pendingRequests, 0);
      assert.equal(a.counters().decryptFailures + a.counters().undecodable, 0);

      // Replies ready in different turns are not held back for each other.
      const first = a.request(b.address, Channel.Gossip, bytes("ack 4"), 5000);
      assert.equal(text(await first), "ok");
      assert.equal(text(await a.request(b.address, Channel.Gossip, bytes("ack 5"), 5000)), "ok");
      assert.equal(b.counters().coalescedReplies, 2);
    });
  }
});

describe("NodeTransport sendAll and dedup keys", () => {
  for (const mode of ["plain", "keyed"] as const) {
    it(`${mode}: one frame, sealed once, goes to every peer; a receiver that knows the dedup key drops it unopened, one that does not gets it`, async () => {
      const keyring = mode === "keyed" ? new Keyring([generateKey()]) : null;
      const a = await net.transport({ keyring });
      // Two raw listeners see exactly the bytes a writes to each connection.
      const wire = await Promise.all([0, 1].map(() => rawListener()));
      const sent = a.sendAll(
        wire.map((w) => w.address),
        Channel.Gossip,
        bytes("push"),
        bytes("envelope-id-0001"),
      );
      await Promise.all(sent);
      await waitFor(() => wire.every((w) => w.received().length > 0), "both listeners to get the frame");
      assert.ok(wire[0]!.received().equals(wire[1]!.received()), "the same bytes (one random nonce) went to both");
      assert.equal(a.counters().oneWayOut, 2);
      for (const w of wire) w.close();

      const b = await net.transport({ keyring });
      const got: string[] = [];
      b.onRequest(Channel.Gossip, (body) => {
        got.push(text(body));
        return new Uint8Array(0);
      });
      const known = new Set(["old"]);
      b.onKnown(Channel.Gossip, (key) => known.has(text(key)));
      await Promise.all(a.sendAll([b.address], Channel.Gossip, bytes("already here"), bytes("old")));
      await Promise.all(a.sendAll([b.address], Channel.Gossip, bytes("news"), bytes("new")));
      await Promise.all(a.sendAll([b.address], Channel.Gossip, bytes("no key"))); // not a push: always opened
      await waitFor(() => got.length === 2, "the two messages whose key is not known");
      assert.deepEqual(got, ["news", "no key"]);
      assert.equal(b.counters().knownSkipped, 1);
      assert.equal(b.counters().oneWayIn, 2);
      assert.equal(b.counters().decryptFailures + b.counters().undecodable, 0);
    });
  }
});

describe("NodeTransport dialling a peer that never completes the handshake", () => {
  it("gives up after connectTimeoutMs, says so, and backs off", async () => {
    // A process that listens with a backlog of 1 and then never runs its event
    // loop again: once its accept queue is full, the kernel drops new SYNs,
    // so a dial neither connects nor is refused.
    const child = spawn(process.execPath, ["-e", STUCK_LISTENER], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.once("data", (b: Buffer) => resolve(Number(b.toString().trim())));
        child.once("exit", (code) => reject(new Error(`the stuck listener exited (${code})`)));
      });
      const fillers: Socket[] = [];
      let full = false;
      for (let i = 0; i < 16 && !full; i++) {
        const s = connect({ host: "127.0.0.1", port });
        s.on("error", () => {});
        fillers.push(s);
        full = !(await new Promise<boolean>((r) => {
          const timer = setTimeout(() => r(false), 300);
          s.once("connect", () => {
            clearTimeout(timer);
            r(true);
          });
        }));
      }
      assert.ok(full, "the listener's accept queue filled up");
      const a = await net.transport({ connectTimeoutMs: 300 });
      const started = Date.now();
      const err = await a.send(`127.0.0.1:${port}`, Channel.Gossip, bytes("x")).catch((e: unknown) => e);
      assert.ok(err instanceof TransportError && err.code === "unreachable", String(err));
      assert.match(err.message, /cannot connect to 127\.0\.0\.1:\d+: connect timed out after 300 ms/);
      assert.ok(Date.now() - started >= 290, "it waited for the timeout");
      assert.equal(a.counters().dialFailures, 1);
      const again = await a.send(`127.0.0.1:${port}`, Channel.Gossip, bytes("x")).catch((e: unknown) => e);
      assert.ok(again instanceof TransportError && /next attempt in/.test(again.message), String(again));
      for (const s of fillers) s.destroy();
    } finally {
      child.kill("SIGKILL");
    }
  });
});

const STUCK_LISTENER = `
const server = require("node:net").createServer();
server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
  process.stdout.write(server.address().port + "\\n", () => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
    process.exit(0);
  });
});
`;

describe("NodeTransport and a peer that stops reading", () => {
  it("closes the connection once more than maxBufferedBytes wait unsent, says why, and dials afresh later", async () => {
    const log = recordingLogger();
    const a = await net.transport({ logger: log, maxFrameBytes: 128 * 1024, maxBufferedBytes: 512 * 1024 });
    // Accepts connections and never reads from them (a stalled process).
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      s.pause();
      sockets.push(s);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const to = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const frame = new Uint8Array(64 * 1024);
      // The kernel's socket buffers take some megabytes first; bounded.
      for (let i = 0; i < 2000 && a.counters().stalledPeers === 0; i++) {
        await a.send(to, Channel.Gossip, frame).catch(() => undefined);
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(a.counters().stalledPeers, 1, "the stalled peer was noticed");
      assert.ok(log.lines.some((l) => l.level === "warn" && /closed the connection to 127\.0\.0\.1:\d+: the peer is not reading: \d+ bytes already wait/.test(l.msg)));
      await waitFor(() => a.counters().openConnectionsOut === 0, "the connection to close");
      await a.send(to, Channel.Gossip, bytes("later"));
      assert.equal(a.counters().connectionsOpened, 2, "the next message dials again");
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});

/** A bare TCP listener on loopback that records every byte it receives. */
/** Every raw listener, closed after the file's tests even when one fails midway (an open server would keep the process alive). */
const rawListeners: { close: () => void }[] = [];
after(() => {
  for (const l of rawListeners) l.close();
});

async function rawListener(): Promise<{ address: string; received: () => Buffer; close: () => void }> {
  const chunks: Buffer[] = [];
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on("data", (c: Buffer) => chunks.push(c));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const listener = {
    address: `127.0.0.1:${port}`,
    // What came after the dialler's hello (its first frame: see OutboundPool).
    received: () => {
      const all = Buffer.concat(chunks);
      return all.length < 4 ? Buffer.alloc(0) : all.subarray(Math.min(all.length, 4 + all.readUInt32BE(0)));
    },
    close: () => {
      for (const s of sockets) s.destroy();
      if (server.listening) server.close();
    },
  };
  rawListeners.push(listener);
  return listener;
}

describe("NodeTransport listen", () => {
  it("says which address is in use and what to do", async () => {
    const a = await net.transport();
    const err = await NodeTransport.listen({ bindHost: "127.0.0.1", port: a.port }).catch((e: unknown) => e);
    assert.ok(err instanceof ListenError && err.code === "in_use");
    assert.equal(err.message, `address ${a.address} is already in use (another gossipcheckd?): pick another -bind port`);
  });

  it("says when the address is not one of this host's", async () => {
    const err = await NodeTransport.listen({ bindHost: "192.0.2.1", port: 0 }).catch((e: unknown) => e);
    assert.ok(err instanceof ListenError && err.code === "not_available", String(err));
    assert.match(err.message, /^cannot bind 192\.0\.2\.1:0: address not available on this host/);
  });

  it("binds UDP and TCP on the same ephemeral port, and advertises a reachable host for a wildcard bind", async () => {
    const w = await net.transport({ bindHost: "0.0.0.0" });
    assert.ok(w.port > 0);
    assert.doesNotMatch(w.address, /^0\.0\.0\.0:/);
    assert.ok(w.address.endsWith(`:${w.port}`));
    const adv = await net.transport({ advertiseHost: "10.1.2.3" });
    assert.equal(adv.address, `10.1.2.3:${adv.port}`);
    // UDP really is on the advertised port number: a packet to 127.0.0.1:port arrives.
    const got: string[] = [];
    adv.onPacket((d) => got.push(text(d)));
    const s = await net.transport();
    s.sendPacket(`127.0.0.1:${adv.port}`, bytes("udp"));
    await waitFor(() => got.length === 1, "the packet on the advertised port");
    // A port mapping (NAT, container): peers are told the mapped port, the socket stays on its own.
    const mapped = await net.transport({ advertiseHost: "10.1.2.3", advertisePort: 40000 });
    assert.equal(mapped.address, "10.1.2.3:40000");
    assert.notEqual(mapped.port, 40000);
  });
});
