/*
 * What an idle daemon costs, fresh and after a run of batches (issue 18,
 * target 2): CPU per daemon, bytes per second per node, and the
 * anti-entropy traffic behind them, on N real daemons (lan profile).
 *
 * A fresh cluster idles for a window; then it runs a burst of batches (each
 * stays live, and so advertised, for its TTL); then it idles for the same
 * window again while those envelopes are still live. Both windows are
 * measured from /proc (CPU) and the daemons' own counters (bytes, frames,
 * advertisements), so what a batch history adds to idle cost shows as the
 * difference of the two rows.
 */
import { postBatch, startCluster, type Cluster } from "../test/support/cluster.js";
import { CLK_TCK, Neighbours, cpuTicks, sleep } from "./cluster_cpu.js";
import { median, waitForAliveCount } from "./cluster_membership.js";
import type { BenchSection } from "./report.js";

const NODES = Number(process.env.BENCH_IDLE_NODES ?? 40);
const WINDOW_MS = Number(process.env.BENCH_IDLE_WINDOW_S ?? 30) * 1000;
/** Batches between the windows: about five minutes of one batch a second, all still live in the later windows. */
const BATCHES = Number(process.env.BENCH_IDLE_BATCHES ?? 300);
/** Batches in flight at once while the history is built (the round trips are not what is measured here). */
const IN_FLIGHT = 4;
/** Wait (ms) between the first window after the batches and the settled one. */
const SETTLE_MS = 30_000;

/** A TTL (ms) that keeps every batch live through all the windows, however long the bench waits for a quiet host. */
const TTL_MS = 30 * 60_000;
const BODY = { checks: { hostname_file_exists: { type: "file_exists", path: "/etc/hostname" } }, timeoutMs: 10_000, ttlMs: TTL_MS };

interface Sample {
  ticks: number[];
  counters: Record<string, number>[];
  at: number;
}

async function sample(cluster: Cluster): Promise<Sample> {
  const infos = await Promise.all(cluster.nodes.map((n) => n.info()));
  return { ticks: cluster.nodes.map((n) => cpuTicks(n.pid)), counters: infos.map((i) => i.counters), at: performance.now() };
}

interface Window {
  cpuPct: number[];
  /** Per node per second. */
  bytesOut: number;
  framesOut: number;
  packetsOut: number;
  advertisedIds: number;
  advertisements: number;
  liveEnvelopes: number;
}

function windowOf(a: Sample, b: Sample): Window {
  const s = (b.at - a.at) / 1000;
  const n = a.ticks.length;
  const rate = (key: string) => b.counters.reduce((acc, c, i) => acc + ((c[key] ?? 0) - (a.counters[i]![key] ?? 0)), 0) / n / s;
  return {
    cpuPct: a.ticks.map((t, i) => ((b.ticks[i]! - t) / CLK_TCK / s) * 100),
    bytesOut: rate("net_frameBytesOut") + rate("net_packetBytesOut"),
    framesOut: rate("net_framesOut"),
    packetsOut: rate("net_packetsOut"),
    advertisedIds: rate("gossip_advertisedIds"),
    advertisements: rate("gossip_advertisements"),
    liveEnvelopes: median(b.counters.map((c) => c.gossip_liveEnvelopes ?? 0)),
  };
}

async function idleWindow(cluster: Cluster, neighbours: Neighbours): Promise<Window> {
  await neighbours.quiet(cluster.nodes);
  const window = neighbours.open();
  const a = await sample(cluster);
  await sleep(WINDOW_MS);
  const b = await sample(cluster);
  window(((b.ticks.reduce((x, y) => x + y, 0) - a.ticks.reduce((x, y) => x + y, 0)) * 1000) / CLK_TCK);
  return windowOf(a, b);
}

/** Submits `count` batches, IN_FLIGHT at a time, to nodes in turn; throws if one misses a node. */
async function runBatches(cluster: Cluster, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) {
        const node = cluster.nodes[next++ % cluster.nodes.length]!;
        const r = await postBatch(node.cliAddress, BODY, 30_000);
        const done = r.events.find((e) => e.type === "done");
        if (!done) throw new Error(`bench idle_cost: a batch on ${node.name} ended without a done event`);
      }
    }),
  );
}

function row(label: string, w: Window): (string | number)[] {
  const mean = w.cpuPct.reduce((a, b) => a + b, 0) / w.cpuPct.length;
  return [
    label,
    median(w.cpuPct).toFixed(3),
    mean.toFixed(3),
    Math.max(...w.cpuPct).toFixed(2),
    Math.round(w.bytesOut),
    w.framesOut.toFixed(2),
    w.packetsOut.toFixed(2),
    w.advertisements.toFixed(2),
    Math.round(w.advertisedIds),
    w.liveEnvelopes,
  ];
}

export async function run(): Promise<BenchSection[]> {
  const neighbours = new Neighbours();
  const cluster = await startCluster(NODES, { profile: "lan", namePrefix: "idle-" });
  try {
    await waitForAliveCount(cluster.nodes, NODES, 120_000);
    // Let the join's push-pulls and the start-up's one-off work settle.
    await sleep(5000);
    const fresh = await idleWindow(cluster, neighbours);
    const t0 = performance.now();
    await runBatches(cluster, BATCHES);
    const batchSeconds = (performance.now() - t0) / 1000;
    // Replies, acknowledgements and repairs of the last batches finish well within this.
    await sleep(3000);
    const after = await idleWindow(cluster, neighbours);
    // The advertise interval backs off while nothing happens; this window shows where it settles.
    await sleep(SETTLE_MS);
    const settled = await idleWindow(cluster, neighbours);
    return [
      {
        title: `idle cost: N=${NODES} real daemons, fresh and after ${BATCHES} batches (lan profile)`,
        columns: [
          "window",
          "CPU/daemon median (% core)",
          "mean",
          "max",
          "bytes out/node/s",
          "frames out/node/s",
          "packets out/node/s",
          "advertisements/node/s",
          "advertised IDs/node/s",
          "live envelopes/node",
        ],
        rows: [row("fresh", fresh), row(`after ${BATCHES} batches, first ${WINDOW_MS / 1000} s`, after), row(`after ${BATCHES} batches, from ${(WINDOW_MS + SETTLE_MS) / 1000 + 3} s`, settled)],
        notes: [
          `Each window is ${WINDOW_MS / 1000} s with nothing asked of the daemons; CPU from /proc/<pid>/stat (10 ms ticks: the mean over ${NODES} daemons is the steadier figure), traffic from each daemon's counters (TCP frame bytes + UDP packet bytes sent, wire bytes after sealing).`,
          `The batches (one file_exists check each, ${IN_FLIGHT} in flight, sent to the nodes in turn) took ${batchSeconds.toFixed(1)} s; they carry a ${TTL_MS / 60_000}-minute TTL (the default is 5), so the windows after them idle with all of them live. The first starts 3 s after the last batch; the settled one ${SETTLE_MS / 1000} s after the first ends.`,
          "Target (issue 18): at most 0.25% of a core per daemon at N=40, whatever the batch history (Serf here: 0.23% fresh, 0.27% after batches).",
          neighbours.note(),
        ],
      },
    ];
  } finally {
    await cluster.close("SIGKILL");
  }
}
