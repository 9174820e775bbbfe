/**
 * The live view's cost (issue 16), on 40 real daemons (lan profile):
 *
 * - Stats streams: what one node pays per interval while a stats stream is
 *   read somewhere (CPU, bytes on the wire, samples taken), against the
 *   same cluster with nobody watching; then three watchers on three
 *   daemons (three loops), to show a node still samples about once per
 *   interval. Bytes are the transport's counters (UDP packets and TCP
 *   frames, in and out) from /v1/info; CPU from /proc.
 * - The web view's footprint: a daemon's RSS before any /ui/ or stream
 *   request, and after the page's assets were served and a members stream
 *   read (what an operator who opens the page adds), against one that was
 *   never asked.
 */
import { type Cluster, type ClusterNode, allAlive, startCluster, waitForViews } from "../test/support/cluster.js";
import { CLK_TCK, Neighbours, cpuTicks, sleep } from "./cluster_cpu.js";
import type { BenchSection } from "./report.js";
import { rssBytes } from "../test/support/proc.js";

const rssMiB = (pid: number) => rssBytes(pid) / 2 ** 20;

const N = 40;
const INTERVAL_MS = 2000;
/** Intervals per measurement window. */
const ROUNDS = 15;

interface Totals {
  cpuMs: number;
  bytes: number;
  samples: number;
}

async function counters(n: ClusterNode): Promise<Record<string, number>> {
  const info = (await (await fetch(`http://${n.cliAddress}/v1/info`)).json()) as { counters: Record<string, number> };
  return info.counters;
}

async function totals(nodes: readonly ClusterNode[]): Promise<Totals[]> {
  return Promise.all(
    nodes.map(async (n) => {
      const c = await counters(n);
      return {
        cpuMs: (cpuTicks(n.pid) * 1000) / CLK_TCK,
        bytes: (c.net_packetBytesIn ?? 0) + (c.net_packetBytesOut ?? 0) + (c.net_frameBytesIn ?? 0) + (c.net_frameBytesOut ?? 0),
        samples: c.stats_samples ?? 0,
      };
    }),
  );
}

/** Per node and per interval over a window of ROUNDS intervals: [mean of the others, the first node (an origin)]. */
async function window(cluster: Cluster, neighbours: Neighbours): Promise<{ others: Totals; first: Totals }> {
  const nodes = cluster.nodes;
  await neighbours.quiet(nodes);
  const before = await totals(nodes);
  const close = neighbours.open();
  const t0 = performance.now();
  await sleep(ROUNDS * INTERVAL_MS);
  const after = await totals(nodes);
  const intervals = (performance.now() - t0) / INTERVAL_MS;
  close(after.reduce((a, t) => a + t.cpuMs, 0) - before.reduce((a, t) => a + t.cpuMs, 0));
  const d = after.map((t, i) => ({ cpuMs: t.cpuMs - before[i]!.cpuMs, bytes: t.bytes - before[i]!.bytes, samples: t.samples - before[i]!.samples }));
  const per = (list: Totals[]): Totals => ({
    cpuMs: list.reduce((a, t) => a + t.cpuMs, 0) / list.length / intervals,
    bytes: list.reduce((a, t) => a + t.bytes, 0) / list.length / intervals,
    samples: list.reduce((a, t) => a + t.samples, 0) / list.length / intervals,
  });
  return { first: per(d.slice(0, 1)), others: per(d.slice(1)) };
}

/** Opens a stats stream on node and resolves once its first round is done; returns the closer. */
async function watchStats(node: ClusterNode): Promise<() => void> {
  const ac = new AbortController();
  const res = await fetch(`http://${node.cliAddress}/v1/streams/stats?interval=${INTERVAL_MS}ms`, { signal: ac.signal });
  const reader = res.body!.getReader();
  let text = "";
  const first = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += new TextDecoder().decode(value);
      if (text.includes("event: round-done")) return;
    }
  })();
  await first;
  // Keep reading (a stream that is not read is dropped at 1 MiB).
  void (async () => {
    try {
      for (;;) if ((await reader.read()).done) return;
    } catch {
      // closed
    }
  })();
  return () => ac.abort();
}

async function uiFootprint(cluster: Cluster): Promise<BenchSection> {
  // Two daemons of the same cluster, alike in all but the page: one is asked for it, one never.
  const [asked, untouched] = [cluster.nodes[10]!, cluster.nodes[11]!];
  await sleep(5000);
  const before = [rssMiB(asked.pid), rssMiB(untouched.pid)];
  const base = `http://${asked.cliAddress}`;
  for (const path of ["/ui/", "/ui/app.js", "/ui/app.css", "/ui/favicon.svg"]) await (await fetch(base + path, { headers: { "accept-encoding": "gzip" } })).arrayBuffer();
  const ac = new AbortController();
  const res = await fetch(`${base}/v1/streams/members`, { signal: ac.signal });
  const reader = res.body!.getReader();
  await reader.read();
  await sleep(10_000);
  const during = [rssMiB(asked.pid), rssMiB(untouched.pid)];
  ac.abort();
  await sleep(5000);
  const after = [rssMiB(asked.pid), rssMiB(untouched.pid)];
  const f = (v: number) => v.toFixed(1);
  return {
    title: `Web view: a daemon's RSS (MiB) before and after its page is opened, N=${N}`,
    columns: ["daemon", "before any /ui/ request", "page served + members stream open 10 s", "5 s after the stream closed"],
    rows: [
      ["asked for the page", f(before[0]!), f(during[0]!), f(after[0]!)],
      ["never asked (same cluster)", f(before[1]!), f(during[1]!), f(after[1]!)],
    ],
    notes: [
      "The streams and the asset server are imported by the first /ui/ or /v1/streams/ request (src/daemon/api/server.ts), the assets read from dist/ui on first use; a daemon never asked carries none of it, so its start-up and RSS are those of a daemon without the view.",
      "The difference between the two rows after the page was served is what opening the page costs a daemon: the two modules, the cached assets (about 60 KB with their gzip twins) and the stream's buffers.",
    ],
  };
}

export async function run(): Promise<BenchSection[]> {
  const cluster = await startCluster(N, { profile: "lan", namePrefix: "v-" });
  try {
    await waitForViews(cluster.nodes, allAlive(cluster.names), { timeoutMs: 120_000, what: `all ${N} daemons list each other alive` });
    const neighbours = new Neighbours();
    const idle = await window(cluster, neighbours);
    const close1 = await watchStats(cluster.nodes[0]!);
    const one = await window(cluster, neighbours);
    const closers = [close1, await watchStats(cluster.nodes[1]!), await watchStats(cluster.nodes[2]!)];
    const three = await window(cluster, neighbours);
    for (const c of closers) c();
    const footprint = await uiFootprint(cluster);
    const row = (what: string, w: { others: Totals; first: Totals }, base?: { others: Totals; first: Totals }) => [
      what,
      w.others.cpuMs.toFixed(2),
      base ? (w.others.cpuMs - base.others.cpuMs).toFixed(2) : "",
      (w.others.bytes / 1024).toFixed(2),
      base ? ((w.others.bytes - base.others.bytes) / 1024).toFixed(2) : "",
      w.others.samples.toFixed(2),
      w.first.cpuMs.toFixed(2),
      (w.first.bytes / 1024).toFixed(2),
    ];
    return [
      {
        title: `Stats streams: cost per node per ${INTERVAL_MS / 1000} s interval, N=${N} daemons (lan profile)`,
        columns: ["watching", "CPU ms/node", "added by the stream", "KiB/node", "added by the stream", "samples/node", "origin CPU ms", "origin KiB"],
        rows: [row("nobody", idle), row("1 stats stream (on v-1)", one, idle), row("3 stats streams on 3 daemons", three, idle)],
        notes: [
          `Method: ${N} gossipcheckd on this host, converged; for each row a window of ${ROUNDS} intervals (${(ROUNDS * INTERVAL_MS) / 1000} s) after a quiet second; per node = the mean over the ${N - 1} nodes that are not v-1 (v-1 is an origin, shown apart). CPU from /proc/<pid>/stat, bytes = the transport's UDP packet and TCP frame bytes in and out (/v1/info counters), samples = the stats collector's samples taken (stats_samples).`,
          "With 3 watchers on 3 daemons every node is asked 3 times per interval but samples about once: rounds start on the wall clock's grid, and the request lets a node reuse a sample up to half an interval old. Samples per node without a watcher is 0: no watcher, no traffic.",
          neighbours.note(),
        ],
      },
      footprint,
    ];
  } finally {
    await cluster.close("SIGTERM");
  }
}
