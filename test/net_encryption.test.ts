import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { after, describe, it } from "node:test";
import { encodeFrame, readFrame, type ConnectionContext } from "../src/net/connection.js";
import { PayloadGuard } from "../src/net/guard.js";
import { generateKey, Keyring } from "../src/net/keyring.js";
import type { NodeTransport } from "../src/net/node_transport.js";
import { SEAL_OVERHEAD_BYTES } from "../src/net/seal.js";
import { Channel, TransportError } from "../src/net/transport.js";
import { bytes, Loopback, recordingLogger, text, waitFor } from "./net_helpers.js";

const net = new Loopback();
after(() => net.closeAll());

/** Wires a and b to echo requests and collect packets. */
function listen(...ts: NodeTransport[]): Map<NodeTransport, string[]> {
  const got = new Map<NodeTransport, string[]>();
  for (const t of ts) {
    const list: string[] = [];
    got.set(t, list);
    t.onPacket((d) => list.push(text(d)));
    t.onRequest(Channel.Gossip, (body) => bytes(`echo ${text(body)}`));
  }
  return got;
}

/** a cannot reach b: b's packets and requests from a are refused and b counts them under `counter`. */
async function cannotTalk(a: NodeTransport, b: NodeTransport, got: string[], counter: "decryptFailures" | "labelMismatches" | "undecodable"): Promise<void> {
  const before = b.counters()[counter];
  const handled = b.counters().requestsIn;
  a.sendPacket(b.address, bytes("sneaky packet"));
  await waitFor(() => b.counters()[counter] === before + 1, `${b.address} to count the refused packet as ${counter}`);
  const err = await a.request(b.address, Channel.Gossip, bytes("sneaky request"), 2000).catch((e: unknown) => e);
  assert.ok(err instanceof TransportError && err.code === "unreachable", `request refused: ${String(err)}`);
  assert.equal(b.counters()[counter], before + 2, "the frame was counted too");
  assert.equal(b.counters().requestsIn, handled, "no request reached a handler");
  assert.ok(!got.includes("sneaky packet"), "no packet reached the handler");
}

describe("dedup headers on sealed frames", () => {
  it("are authenticated with the frame: an altered key or channel makes it fail to open; a known key drops it unopened", () => {
    const guard = new PayloadGuard(new Keyring([generateKey()]), "prod");
    const ctx = { guard } as ConnectionContext;
    const frame = encodeFrame(ctx, { channel: Channel.Gossip, oneWay: true, body: bytes("push"), from: "10.0.0.1:1" }, bytes("id-1"));
    assert.deepEqual([...frame.subarray(0, 7)], [0x03, Channel.Gossip, 4, ...bytes("id-1")], "the header goes in the clear");
    const good = readFrame(guard, frame);
    assert.ok(good.ok && good.frame && text(good.frame.body) === "push");
    for (const at of [1, 3, 6]) {
      const tampered = Buffer.from(frame);
      tampered[at]! ^= 0x01;
      const r = readFrame(guard, tampered);
      assert.ok(!r.ok && r.failure === "decrypt", `byte ${at} altered: ${JSON.stringify(r)}`);
    }
    const skipped = readFrame(guard, frame, (channel, key) => channel === Channel.Gossip && text(key) === "id-1");
    assert.deepEqual(skipped, { ok: true, frame: null });
    assert.throws(() => encodeFrame(ctx, { channel: Channel.Gossip, requestId: 7, body: bytes("x") }, bytes("id")), /only on a one-way frame/);
  });
});

describe("encrypted transports", () => {
  it("with the same key exchange sealed packets and requests", async () => {
    const key = generateKey();
    const a = await net.transport({ keyring: new Keyring([key]), label: "prod" });
    const b = await net.transport({ keyring: new Keyring([key]), label: "prod" });
    const got = listen(a, b);
    a.sendPacket(b.address, bytes("hello"));
    await waitFor(() => got.get(b)!.length === 1, "the sealed packet");
    assert.deepEqual(got.get(b), ["hello"]);
    assert.equal(a.counters().packetBytesOut, 5 + SEAL_OVERHEAD_BYTES, "the packet went sealed");
    assert.equal(a.maxPacketBytes, 1400 + SEAL_OVERHEAD_BYTES, "SWIM's 1400-byte packets still fit once sealed");
    assert.equal(text(await a.request(b.address, Channel.Gossip, bytes("hi"), 2000)), "echo hi");
    assert.equal(text(await b.request(a.address, Channel.Gossip, bytes("yo"), 2000)), "echo yo");
  });

  it("drop a packet with one flipped bit, and deliver the same packet unflipped", async () => {
    const key = generateKey();
    const b = await net.transport({ keyring: new Keyring([key]) });
    const got = listen(b).get(b)!;
    const sealed = new PayloadGuard(new Keyring([key]), "").wrap(bytes("genuine"));
    const tampered = Buffer.from(sealed);
    tampered[20]! ^= 0x04;
    const sock = createSocket("udp4");
    after(() => sock.close());
    const send = (buf: Buffer) => new Promise<void>((r) => sock.send(buf, b.port, "127.0.0.1", () => r()));
    await send(tampered);
    await send(Buffer.from("plaintext garbage"));
    await send(sealed);
    await waitFor(() => got.length === 1, "the genuine packet");
    assert.deepEqual(got, ["genuine"]);
    assert.equal(b.counters().decryptFailures, 2);
  });

  it("with different keys cannot exchange anything, and the receiver counts and logs (rate-limited) what it dropped", async () => {
    const log = recordingLogger();
    const a = await net.transport({ keyring: new Keyring([generateKey()]) });
    const b = await net.transport({ keyring: new Keyring([generateKey()]), logger: log });
    const got = listen(a, b);
    await cannotTalk(a, b, got.get(b)!, "decryptFailures");
    const packetLines = log.lines.filter((l) => /dropped a packet from .*failed to decrypt with any of the 1 installed key/.test(l.msg));
    assert.equal(packetLines.length, 1);
    for (let i = 0; i < 20; i++) a.sendPacket(b.address, bytes("flood"));
    await waitFor(() => b.counters().decryptFailures === 22, "the flood to be counted");
    assert.equal(log.lines.filter((l) => /dropped a packet/.test(l.msg)).length, 1, "the flood adds no log lines");
  });

  it("keyed and plaintext nodes cannot exchange anything, either way", async () => {
    const keyed = await net.transport({ keyring: new Keyring([generateKey()]) });
    const plain = await net.transport();
    const got = listen(keyed, plain);
    await cannotTalk(plain, keyed, got.get(keyed)!, "decryptFailures");
    await cannotTalk(keyed, plain, got.get(plain)!, "undecodable");
  });

  it("with the same key but different cluster labels cannot exchange anything; nor can plaintext nodes with different labels", async () => {
    const key = generateKey();
    const prod = await net.transport({ keyring: new Keyring([key]), label: "prod" });
    const staging = await net.transport({ keyring: new Keyring([key]), label: "staging" });
    const got = listen(prod, staging);
    await cannotTalk(prod, staging, got.get(staging)!, "decryptFailures");
    const p1 = await net.transport({ label: "blue" });
    const p2 = await net.transport({ label: "green" });
    const got2 = listen(p1, p2);
    await cannotTalk(p1, p2, got2.get(p2)!, "labelMismatches");
  });

  it("keep talking throughout a key rotation (install B everywhere, use B, remove A), after which the old key is shut out", async () => {
    const oldKey = generateKey();
    const newKey = generateKey();
    const ringA = new Keyring([oldKey]);
    const ringB = new Keyring([oldKey]);
    const a = await net.transport({ keyring: ringA });
    const b = await net.transport({ keyring: ringB });
    const got = listen(a, b);
    let round = 0;
    let failures = 0;
    // One round of traffic each way: a request and a packet, each of which must arrive.
    const traffic = async () => {
      const r = round++;
      const [x, y] = await Promise.all([
        a.request(b.address, Channel.Gossip, bytes(`a${r}`), 2000).catch(() => (failures++, null)),
        b.request(a.address, Channel.Gossip, bytes(`b${r}`), 2000).catch(() => (failures++, null)),
      ]);
      assert.equal(x && text(x), `echo a${r}`);
      assert.equal(y && text(y), `echo b${r}`);
      a.sendPacket(b.address, bytes(`pa${r}`));
      b.sendPacket(a.address, bytes(`pb${r}`));
      await waitFor(() => got.get(b)!.includes(`pa${r}`) && got.get(a)!.includes(`pb${r}`), `round ${r} packets`);
    };
    const steps: (() => void)[] = [
      () => (ringA.install(newKey), ringB.install(newKey)),
      () => ringA.use(newKey), // a seals with the new key, b opens it as a secondary
      () => ringB.use(newKey),
      () => (ringA.remove(oldKey), ringB.remove(oldKey)),
    ];
    await traffic();
    for (const step of steps) {
      step();
      // Requests in flight across the step, and rounds after it.
      await Promise.all([traffic(), traffic()]);
      await traffic();
    }
    assert.equal(failures, 0);
    assert.equal(a.counters().decryptFailures + b.counters().decryptFailures, 0);
    assert.deepEqual(ringA.list(), [newKey]);
    const straggler = await net.transport({ keyring: new Keyring([oldKey]) });
    await cannotTalk(straggler, a, got.get(a)!, "decryptFailures");
  });
});
