/**
 * Channels between two real daemons (issue 17; ClusterTalk's and
 * node-discovery's use): a publisher POSTs to node A's control API through
 * the client library, a subscriber reads node B's SSE stream through it, on
 * one host (loopback, lan profile, no cluster key).
 *
 * - latency: one message at a time (the next is sent once the last
 *   arrived), from the POST's start to the subscriber's event, both timed
 *   in this process; p50 and p99;
 * - throughput: WINDOW publishes in flight at once, from the first POST to
 *   the last message delivered; messages and MB per second, and each
 *   message's latency under that load.
 *
 * Every run checks that the subscriber got every message once, in order.
 * Skipped when many daemons already run on the host (another benchmark).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { type Cluster, allAlive, startCluster, waitForViews } from "../test/support/cluster.js";
import { type ChannelMessage, type Client, connect } from "../src/client/index.js";
import { percentile, type BenchSection } from "./report.js";
import { rssBytes } from "../test/support/proc.js";

const rssMiB = (pid: number) => Math.round(rssBytes(pid) / 2 ** 20);

/**
 * Publishes in flight during the throughput run. At 1 MB more than a couple
 * outrun this process's own SSE reading (1.33 MB of JSON per event on a
 * shared 2-core host), and the daemon disconnects a subscriber 1 MiB behind,
 * as designed: the run would measure the disconnect, not the channel.
 */
const SIZES = [
  { label: "100 B", bytes: 100, latencyN: 300, throughputN: 5000, window: 16 },
  { label: "1 MB", bytes: 1_000_000, latencyN: 50, throughputN: 200, window: 2 },
];
/** Longest wait for a run's messages (ms): past it the run reports what was lost instead of hanging. */
const RUN_DEADLINE_MS = 60_000;

function daemonsRunning(): number {
  try {
    return Number(execFileSync("pgrep", ["-fc", "daemon/bin.js"], { encoding: "utf8" }).trim());
  } catch {
    return 0;
  }
}

/** A body of `bytes` whose first 8 bytes are its index (the subscriber tells messages apart by it). */
function body(bytes: number, i: number, filler: Buffer): Uint8Array {
  const b = Buffer.allocUnsafe(Math.max(8, bytes));
  filler.copy(b, 0, 0, b.length);
  b.writeDoubleBE(i, 0);
  return b;
}

function indexOf(m: ChannelMessage): number {
  return Buffer.from(m.data.slice(0, 12), "base64").readDoubleBE(0);
}

interface Run {
  latencies: number[];
  seconds: number;
}

class Receiver {
  private readonly arrived = new Map<number, number>();
  private readonly waiters = new Map<number, () => void>();
  lastSeq = 0;
  outOfOrder = 0;
  count = 0;

  onMessage(m: ChannelMessage): void {
    const i = indexOf(m);
    if (m.seq <= this.lastSeq) this.outOfOrder++;
    this.lastSeq = m.seq;
    this.count++;
    this.arrived.set(i, performance.now());
    this.waiters.get(i)?.();
    this.waiters.delete(i);
  }

  at(i: number): number | undefined {
    return this.arrived.get(i);
  }

  /** Resolves when message i arrived, or at RUN_DEADLINE_MS (then at(i) is undefined: lost). */
  wait(i: number): Promise<void> {
    if (this.arrived.has(i)) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, RUN_DEADLINE_MS);
      this.waiters.set(i, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  reset(): void {
    this.arrived.clear();
    this.count = 0;
  }
}

async function latencyRun(pub: Client, rx: Receiver, channel: string, bytes: number, n: number, filler: Buffer): Promise<Run> {
  rx.reset();
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const sent = performance.now();
    await pub.publish(channel, body(bytes, i, filler));
    await rx.wait(i);
    const at = rx.at(i);
    if (at === undefined) throw new Error(`channels bench: message ${i} never arrived (the subscriber was disconnected?)`);
    latencies.push(at - sent);
  }
  return { latencies, seconds: (performance.now() - t0) / 1000 };
}

async function throughputRun(pub: Client, rx: Receiver, channel: string, bytes: number, n: number, window: number, filler: Buffer): Promise<Run & { lost: number }> {
  rx.reset();
  const sentAt: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) {
      const i = next++;
      sentAt[i] = performance.now();
      await pub.publish(channel, body(bytes, i, filler));
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  await Promise.all(Array.from({ length: n }, (_, i) => rx.wait(i)));
  const end = Math.max(...sentAt.map((_, i) => rx.at(i) ?? 0));
  const arrived = sentAt.flatMap((s, i) => (rx.at(i) === undefined ? [] : [rx.at(i)! - s]));
  return { latencies: arrived, seconds: (end - t0) / 1000, lost: n - arrived.length };
}

export async function run(): Promise<BenchSection[]> {
  const others = daemonsRunning();
  const title = "channels: throughput and latency between two daemons";
  if (others >= 10) return [{ title, columns: ["skipped"], rows: [[`${others} daemons already run on this host (another benchmark?): run again when it is quiet`]] }];
  let cluster: Cluster | null = null;
  const clients: Client[] = [];
  try {
    cluster = await startCluster(2, { profile: "lan", namePrefix: "chan-" });
    await waitForViews(cluster.nodes, allAlive(cluster.names), { timeoutMs: 20_000, what: "both daemons alive" });
    const [a, b] = cluster.nodes as [Cluster["nodes"][0], Cluster["nodes"][0]];
    const pub = await connect({ server: a.cliAddress });
    const sub = await connect({ server: b.cliAddress });
    clients.push(pub, sub);
    const rows: (string | number)[][] = [];
    for (const size of SIZES) {
      const channel = `bench-${size.bytes}`;
      const rx = new Receiver();
      const s = sub.subscribe(channel, (m) => rx.onMessage(m));
      await s.ready;
      const filler = randomBytes(size.bytes);
      // Warm up: the connection, the JIT, the pools.
      await latencyRun(pub, rx, channel, size.bytes, 20, filler);
      const lat = await latencyRun(pub, rx, channel, size.bytes, size.latencyN, filler);
      const thr = await throughputRun(pub, rx, channel, size.bytes, size.throughputN, size.window, filler);
      const f = (ms: number) => ms.toFixed(1);
      rows.push([
        size.label,
        f(percentile(lat.latencies, 50)),
        f(percentile(lat.latencies, 99)),
        Math.round(size.throughputN / thr.seconds),
        ((size.throughputN * size.bytes) / thr.seconds / 1e6).toFixed(1),
        size.window,
        f(percentile(thr.latencies, 50)),
        f(percentile(thr.latencies, 99)),
        rx.outOfOrder === 0 && thr.lost === 0 ? "yes" : `NO (${rx.outOfOrder} out of order, ${thr.lost} lost)`,
        `${rssMiB(a.pid)} / ${rssMiB(b.pid)}`,
      ]);
      s();
    }
    return [
      {
        title,
        columns: ["message", "latency p50 ms", "p99 ms", "msgs/s", "MB/s", "in flight", "under load p50 ms", "p99 ms", "all, in order", "RSS A / B MiB"],
        rows,
        notes: [
          `two daemons (lan profile, no key) on loopback; the publisher POSTs to A through gossipcheck/client, the subscriber reads B's SSE stream through it`,
          `latency: one message at a time, POST start to the subscriber's event; throughput: "in flight" POSTs at once, first POST to last delivery (${SIZES.map((s) => `${s.throughputN} x ${s.label}`).join(", ")})`,
          `a 1 MB message travels as a 1.33 MB base64 SSE event; random bytes, so without a text copy`,
        ],
      },
    ];
  } finally {
    for (const c of clients) c.close();
    await cluster?.close();
  }
}
