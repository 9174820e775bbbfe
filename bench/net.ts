/**
 * The cost of the real transport and of the cluster key, on loopback:
 * - how many sealed packets per second one transport opens: in a tight loop
 *   (the CPU cost of AES-256-GCM alone) and end to end (a worker thread
 *   floods UDP, the transport receives, opens and hands them up);
 * - request/reply round trips over a pooled TCP connection, p50/p99, with
 *   and without a key, one at a time (latency) and 64 in flight (throughput).
 */
import { Worker } from "node:worker_threads";
import { PayloadGuard } from "../src/net/guard.js";
import { generateKey, Keyring } from "../src/net/keyring.js";
import { NodeTransport } from "../src/net/node_transport.js";
import { Channel } from "../src/net/transport.js";
import { percentile, type BenchSection } from "./report.js";

// Typical SWIM packets: a bare ping, and a full one with piggybacked updates.
const PACKET_SIZES = [120, 1400];

export async function run(): Promise<BenchSection[]> {
  return [await openRate(), await roundTrips()];
}

async function openRate(): Promise<BenchSection> {
  const rows: (string | number)[][] = [];
  for (const size of PACKET_SIZES) {
    const ring = new Keyring([generateKey()]);
    const guard = new PayloadGuard(ring, "bench");
    const sealed = guard.wrap(payload(size));
    rows.push([`open() in a loop, 1 key`, size, Math.round(loopRate(() => guard.unwrap(sealed)))]);
    // During a rotation the new primary is tried first and fails: the worst case is one extra attempt.
    const rotating = new Keyring([generateKey()]);
    rotating.install(ring.list()[0]!);
    const twoKeys = new PayloadGuard(rotating, "bench");
    rows.push([`open() in a loop, 2 keys, sealed with the 2nd`, size, Math.round(loopRate(() => twoKeys.unwrap(sealed)))]);
    rows.push([`UDP end to end (transport receives, opens, hands up)`, size, Math.round(await udpRate(ring, sealed))]);
  }
  return {
    title: "net: sealed packets opened per second (AES-256-GCM)",
    columns: ["path", "packet bytes", "packets/s"],
    rows,
    notes: [
      "One core. End to end, a worker thread floods pre-sealed datagrams at the transport for 2 s; the rate counts packets the handler received (the kernel drops the excess).",
      "Issue 5 asks for packets per second one daemon can decrypt: this is that ceiling for the transport; SWIM needs a few hundred per second at N=1000.",
    ],
  };
}

function payload(size: number): Uint8Array {
  const p = new Uint8Array(size).fill(0x42);
  p[0] = 0x08; // a protobuf message starts with field 1 (version)
  return p;
}

/** Calls fn in a loop for about 1 s; returns calls per second. */
function loopRate(fn: () => unknown): number {
  for (let i = 0; i < 2000; i++) fn(); // warm up
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + 1_000_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 500; i++) fn();
    n += 500;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

const FLOOD_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const dgram = require("node:dgram");
const sock = dgram.createSocket("udp4");
const buf = Buffer.from(workerData.packet);
let stop = false, sent = 0;
parentPort.on("message", () => { stop = true; });
function burst() {
  if (stop) { sock.close(); parentPort.postMessage(sent); return; }
  let inFlight = 0;
  for (let i = 0; i < 64; i++) {
    inFlight++;
    sock.send(buf, workerData.port, "127.0.0.1", () => { if (--inFlight === 0) setImmediate(burst); });
    sent++;
  }
}
burst();
`;

async function udpRate(ring: Keyring, sealed: Buffer): Promise<number> {
  const t = await NodeTransport.listen({ bindHost: "127.0.0.1", port: 0, keyring: ring, label: "bench", maxPacketBytes: 2000 });
  let received = 0;
  t.onPacket(() => received++);
  const worker = new Worker(FLOOD_WORKER, { eval: true, workerData: { packet: sealed, port: t.port } });
  await sleep(300); // warm up
  const r0 = received;
  const start = performance.now();
  await sleep(2000);
  const rate = (received - r0) / ((performance.now() - start) / 1000);
  worker.postMessage("stop");
  await new Promise((resolve) => worker.once("message", resolve));
  await worker.terminate();
  if (t.counters().decryptFailures > 0) throw new Error("bench: sealed packets failed to open");
  await t.close();
  return rate;
}

async function roundTrips(): Promise<BenchSection> {
  const rows: (string | number)[][] = [];
  for (const keyed of [false, true]) {
    const key = generateKey();
    const opts = (k: boolean) => ({ bindHost: "127.0.0.1", port: 0, keyring: k ? new Keyring([key]) : null });
    const a = await NodeTransport.listen(opts(keyed));
    const b = await NodeTransport.listen(opts(keyed));
    b.onRequest(Channel.Gossip, () => new Uint8Array(16));
    for (const size of [100, 64 * 1024, 1024 * 1024]) {
      const body = payload(size);
      const count = size >= 1024 * 1024 ? 100 : 2000;
      for (let i = 0; i < Math.min(200, count); i++) await a.request(b.address, Channel.Gossip, body, 10_000);
      const times: number[] = [];
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        await a.request(b.address, Channel.Gossip, body, 10_000);
        times.push(performance.now() - t0);
      }
      const conc = size >= 1024 * 1024 ? 16 : 64;
      const batches = Math.max(1, Math.floor(count / conc));
      const start = performance.now();
      for (let i = 0; i < batches; i++) {
        await Promise.all(Array.from({ length: conc }, () => a.request(b.address, Channel.Gossip, body, 10_000)));
      }
      const perSec = (batches * conc) / ((performance.now() - start) / 1000);
      rows.push([keyed ? "AES-256-GCM" : "plaintext", size, count, ms(percentile(times, 50)), ms(percentile(times, 99)), `${Math.round(perSec)} (${conc} in flight)`]);
    }
    if (a.counters().connectionsOpened !== 1) throw new Error("bench: expected one pooled connection");
    await a.close();
    await b.close();
  }
  return {
    title: "net: request/reply round trip on loopback (one pooled TCP connection)",
    columns: ["mode", "request bytes", "requests", "p50 ms", "p99 ms", "requests/s"],
    rows,
    notes: [
      "Sequential requests measure latency; requests/s keeps a fixed number in flight on the same connection.",
      "Replies are 16 bytes. Both transports run in this one process, so each round trip pays both sides' CPU.",
    ],
  };
}

const ms = (x: number) => x.toFixed(3);
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));
