/*
 * Zero-config discovery (src/net/hello.ts, src/net/discovery.ts) on a fake
 * segment and a virtual clock: the hello's seal and label, every way a
 * datagram is refused (each counted, none answered), the join rate limits,
 * the announcement schedule, and a fuzz of the decoder.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { VirtualClock } from "../src/base/clock.js";
import { SeededRandom } from "../src/base/random.js";
import { Discovery, defaultDiscoveryConfig, type DiscoveryConfig, type DiscoverySocket } from "../src/net/discovery.js";
import { PayloadGuard } from "../src/net/guard.js";
import { decodeHello, encodeHello, HELLO_NONCE_BYTES, MAX_HELLO_BYTES, type Hello } from "../src/net/hello.js";
import { generateKey, Keyring } from "../src/net/keyring.js";
import { pb } from "../src/proto/index.js";
import { FUZZ_RUNS, mutatedFrom } from "./support/fuzz.js";

const key = generateKey();
const keyed = (label = "A", k = key) => new PayloadGuard(new Keyring([k]), label);

let nonceSeq = 0;
function hello(over: Partial<Hello> = {}, nowMs = 1_700_000_000_000): Hello {
  const nonce = Buffer.alloc(HELLO_NONCE_BYTES);
  nonce.writeUInt32BE(++nonceSeq);
  return { label: "A", node: "peer-1", address: "10.0.0.2:3505", nonce, sentMs: nowMs, ...over };
}

/** A segment of one: what the node sent, and a way to hand it datagrams. */
class FakeSocket implements DiscoverySocket {
  sent: Buffer[] = [];
  handler: ((data: Buffer) => void) | null = null;
  closed = false;
  send(data: Buffer): void {
    this.sent.push(data);
  }
  onMessage(h: (data: Buffer) => void): void {
    this.handler = h;
  }
  deliver(data: Buffer): void {
    this.handler!(data);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

interface Rig {
  clock: VirtualClock;
  socket: FakeSocket;
  discovery: Discovery;
  joins: string[];
  guard: PayloadGuard;
  /** Settles every join in flight (they stay pending until then). */
  settle(ok: boolean): void;
  setAlone(a: boolean): void;
  setKnown(names: string[]): void;
}

function rig(config: Partial<DiscoveryConfig> = {}, guard = keyed()): Rig {
  const clock = new VirtualClock();
  const socket = new FakeSocket();
  const joins: string[] = [];
  let waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  let alone = true;
  let known = new Set<string>();
  const discovery = new Discovery({
    socket,
    clock,
    random: new SeededRandom(7),
    guard,
    name: "self",
    address: "10.0.0.1:3505",
    config: { ...defaultDiscoveryConfig(), ...config },
    alone: () => alone,
    known: (name) => known.has(name),
    join: (address) => {
      joins.push(address);
      return new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
    },
  });
  return {
    clock,
    socket,
    discovery,
    joins,
    guard,
    settle(ok) {
      for (const w of waiting) ok ? w.resolve() : w.reject(new Error("connection refused"));
      waiting = [];
    },
    setAlone: (a) => void (alone = a),
    setKnown: (names) => void (known = new Set(names)),
  };
}

const dropped = (r: Rig) => r.discovery.counters().dropped;

describe("discovery hello", () => {
  it("round-trips sealed under the key with the label bound, labelled without a key, and bare without either", () => {
    for (const guard of [keyed(), new PayloadGuard(null, "A"), new PayloadGuard(null, "")]) {
      const h = hello({ label: guard.label });
      const wire = encodeHello(guard, h);
      assert.ok(wire.length < 200, `a hello is small (${wire.length} bytes)`);
      const d = decodeHello(guard, wire);
      assert.ok(d.ok, d.ok ? "" : d.reason);
      assert.deepEqual({ ...d.hello, nonce: Buffer.from(d.hello.nonce) }, { ...h, nonce: Buffer.from(h.nonce) });
    }
    // Sealed: neither the label nor the node name is readable on the wire.
    const wire = encodeHello(keyed("cluster-secret-label"), hello({ label: "cluster-secret-label", node: "web-17" }));
    assert.ok(!wire.includes("cluster-secret-label") && !wire.includes("web-17"));
  });

  it("does not open under another key or another label, nor as another message sealed with the same key", () => {
    const wire = encodeHello(keyed("A"), hello());
    assert.deepEqual(pick(decodeHello(keyed("A", generateKey()), wire)), "unopened");
    assert.deepEqual(pick(decodeHello(keyed("B"), wire)), "unopened");
    // A SWIM packet or frame sealed with the same key and label is not a hello (the seal binds the hello's domain).
    assert.equal(
      pick(decodeHello(keyed("A"), keyed("A").wrap(pb.DiscoveryHello.encode({ version: 1, label: "A", node: "x", address: "10.0.0.9:1", nonce: Buffer.alloc(16), sentMs: 1 }).finish()))),
      "unopened",
    );
    // Keyless (loopback) clusters are told apart by the label alone.
    assert.equal(pick(decodeHello(new PayloadGuard(null, "B"), encodeHello(new PayloadGuard(null, "A"), hello()))), "label");
    assert.equal(pick(decodeHello(new PayloadGuard(null, "A"), encodeHello(new PayloadGuard(null, "A"), hello({ label: "B" })))), "label");
    // A keyed node refuses a plaintext hello, and a keyless one a sealed hello.
    assert.equal(pick(decodeHello(keyed("A"), encodeHello(new PayloadGuard(null, "A"), hello()))), "unopened");
    assert.equal(pick(decodeHello(new PayloadGuard(null, "A"), wire)), "unopened");
  });

  it("refuses oversized, malformed and other-version hellos", () => {
    const g = keyed();
    assert.equal(pick(decodeHello(g, Buffer.alloc(MAX_HELLO_BYTES + 1, 1))), "oversize");
    assert.throws(() => encodeHello(g, hello({ node: "n".repeat(600) })), /exceeds 512/);
    const sealedPayload = (p: Uint8Array) => g.wrap(p, Buffer.from("gossipcheck discovery hello"));
    assert.equal(pick(decodeHello(g, sealedPayload(Buffer.from([0xff, 0xff, 0xff])))), "malformed");
    const msg = (over: Record<string, unknown>) =>
      sealedPayload(pb.DiscoveryHello.encode({ version: 1, label: "A", node: "p", address: "10.0.0.2:3505", nonce: Buffer.alloc(16), sentMs: 5, ...over }).finish());
    assert.equal(pick(decodeHello(g, msg({}))), null);
    assert.equal(pick(decodeHello(g, msg({ version: 2 }))), "version");
    assert.equal(pick(decodeHello(g, msg({ node: "" }))), "malformed");
    assert.equal(pick(decodeHello(g, msg({ node: "two words" }))), "malformed");
    assert.equal(pick(decodeHello(g, msg({ address: "10.0.0.2" }))), "malformed");
    assert.equal(pick(decodeHello(g, msg({ address: "10.0.0.2:0" }))), "malformed");
    assert.equal(pick(decodeHello(g, msg({ nonce: Buffer.alloc(3) }))), "malformed");
    assert.equal(pick(decodeHello(g, msg({ sentMs: Number.NaN }))), "malformed");
  });

  it("decoding never throws, and an altered sealed hello never opens (fuzz)", () => {
    const guards = [keyed(), new PayloadGuard(null, "A"), new PayloadGuard(null, "")];
    const valid = guards.map((g) => encodeHello(g, hello({ label: g.label })));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 700 }), mutatedFrom(valid)), (bytes) => {
        for (const g of guards) decodeHello(g, Buffer.from(bytes)); // throws = failure
        const d = decodeHello(guards[0]!, Buffer.from(bytes));
        if (d.ok) assert.ok(Buffer.from(bytes).equals(valid[0]!), "only the genuine sealed hello opens");
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("discovery: hearing hellos", () => {
  it("joins a node of its cluster it hears, once, and never answers", () => {
    const r = rig();
    r.discovery.start();
    const sentAtStart = r.socket.sent.length;
    r.socket.deliver(encodeHello(r.guard, hello({ sentMs: r.clock.now() })));
    assert.deepEqual(r.joins, ["10.0.0.2:3505"]);
    for (let i = 0; i < 100; i++) r.socket.deliver(encodeHello(r.guard, hello({ sentMs: r.clock.now() })));
    assert.equal(r.joins.length, 1, "one attempt per address per peerRetryMs");
    assert.equal(r.socket.sent.length, sentAtStart, "hellos are never answered");
    assert.equal(dropped(r).rate_limited, 100);
  });

  it("drops, counts and does not join on its own hellos, members it knows, replays and stale hellos", async () => {
    const r = rig();
    r.discovery.start();
    r.socket.deliver(r.socket.sent[0]!); // multicast loopback: our own
    r.socket.deliver(encodeHello(r.guard, hello({ node: "self", address: "10.0.0.9:1", sentMs: r.clock.now() })));
    r.setKnown(["peer-1"]);
    r.socket.deliver(encodeHello(r.guard, hello({ sentMs: r.clock.now() })));
    r.setKnown([]);
    const captured = encodeHello(r.guard, hello({ node: "peer-2", address: "10.0.0.3:3505", sentMs: r.clock.now() }));
    r.socket.deliver(captured);
    r.settle(true);
    r.socket.deliver(captured); // the same bytes again: a replay
    r.socket.deliver(encodeHello(r.guard, hello({ node: "peer-3", address: "10.0.0.4:3505", sentMs: r.clock.now() - 61_000 })));
    r.socket.deliver(encodeHello(r.guard, hello({ node: "peer-3", address: "10.0.0.4:3505", sentMs: r.clock.now() + 61_000 })));
    r.socket.deliver(encodeHello(keyed("B"), hello({ label: "B", node: "other", address: "10.0.0.5:3505", sentMs: r.clock.now() })));
    r.socket.deliver(encodeHello(keyed("A", generateKey()), hello({ node: "stranger", address: "10.0.0.6:3505", sentMs: r.clock.now() })));
    r.socket.deliver(Buffer.from("garbage"));
    await r.clock.advance(0);
    assert.deepEqual(r.joins, ["10.0.0.3:3505"]);
    const d = dropped(r);
    assert.deepEqual({ self: d.self, known: d.known, replayed: d.replayed, stale: d.stale, unopened: d.unopened }, { self: 2, known: 1, replayed: 1, stale: 2, unopened: 3 });
    const c = r.discovery.counters();
    assert.equal(c.hellosReceived, 10);
    assert.deepEqual([c.joinsStarted, c.joinsSucceeded, c.joinsFailed], [1, 1, 0]);
  });

  it("a replay is caught while the nonce can still be in the skew window, whatever the cap of remembered nonces", async () => {
    const r = rig({ maxNonces: 8 });
    r.discovery.start();
    r.setKnown(["peer-1"]); // known: nothing is joined, only the nonce matters
    const captured = encodeHello(r.guard, hello({ sentMs: r.clock.now() }));
    r.socket.deliver(captured);
    await r.clock.advance(59_000);
    r.socket.deliver(captured);
    assert.equal(dropped(r).replayed, 1);
    await r.clock.advance(2_000); // now too old: stale, whether or not the nonce is still remembered
    r.socket.deliver(captured);
    assert.equal(dropped(r).stale, 1);
  });

  it("retries a peer after peerRetryMs, and caps joins in flight", async () => {
    const r = rig({ peerRetryMs: 30_000, maxPendingJoins: 4 });
    r.discovery.start();
    for (let i = 0; i < 10; i++) r.socket.deliver(encodeHello(r.guard, hello({ node: `p${i}`, address: `10.0.1.${i}:3505`, sentMs: r.clock.now() })));
    assert.equal(r.joins.length, 4, "at most maxPendingJoins at a time");
    assert.equal(dropped(r).rate_limited, 6);
    r.settle(false);
    await r.clock.advance(0);
    assert.equal(r.discovery.counters().joinsFailed, 4);
    r.socket.deliver(encodeHello(r.guard, hello({ node: "p0", address: "10.0.1.0:3505", sentMs: r.clock.now() })));
    assert.equal(r.joins.length, 4, "the same peer again within peerRetryMs: not retried");
    r.socket.deliver(encodeHello(r.guard, hello({ node: "p5", address: "10.0.1.5:3505", sentMs: r.clock.now() })));
    assert.equal(r.joins.length, 5, "a new peer once a slot is free");
    await r.clock.advance(30_000);
    r.socket.deliver(encodeHello(r.guard, hello({ node: "p0", address: "10.0.1.0:3505", sentMs: r.clock.now() })));
    assert.deepEqual(r.joins.at(-1), "10.0.1.0:3505", "retried after peerRetryMs");
  });

  it("remembers at most maxPeers addresses: a flood of new addresses is dropped, not remembered", () => {
    const r = rig({ maxPeers: 16, maxPendingJoins: 1000 });
    r.discovery.start();
    for (let i = 0; i < 200; i++) r.socket.deliver(encodeHello(r.guard, hello({ node: `p${i}`, address: `10.9.${i >> 8}.${i & 255}:3505`, sentMs: r.clock.now() })));
    assert.equal(r.joins.length, 16);
    assert.equal(dropped(r).rate_limited, 184);
  });
});

describe("discovery: announcing", () => {
  it("announces at once, every ~5 s for the first minute, then every ~60 s unless alone", async () => {
    const r = rig();
    r.discovery.start();
    assert.equal(r.socket.sent.length, 1, "a hello at start");
    await r.clock.advance(60_000);
    const fast = r.socket.sent.length - 1;
    assert.ok(fast >= 10 && fast <= 15, `${fast} hellos in the first minute at 5 s ± 20%`);
    r.setAlone(false);
    const before = r.socket.sent.length;
    await r.clock.advance(10 * 60_000);
    const slow = r.socket.sent.length - before;
    assert.ok(slow >= 8 && slow <= 13, `${slow} hellos in 10 minutes at 60 s ± 20%`);
    r.setAlone(true);
    await r.clock.advance(75_000); // the slow wait already scheduled, then fast again
    const alone = r.socket.sent.length - before - slow;
    assert.ok(alone >= 3, `fast again while alone (${alone} in 75 s)`);
    for (const wire of r.socket.sent) assert.ok(decodeHello(r.guard, wire).ok);
  });

  it("stops announcing and closes its socket on stop()", async () => {
    const r = rig();
    r.discovery.start();
    await r.discovery.stop();
    await r.clock.advance(60_000);
    assert.equal(r.socket.sent.length, 1);
    assert.ok(r.socket.closed);
    r.socket.deliver(encodeHello(r.guard, hello({ sentMs: r.clock.now() })));
    assert.deepEqual(r.joins, []);
  });
});

function pick(d: ReturnType<typeof decodeHello>): string | null {
  return d.ok ? null : d.refusal;
}
