/**
 * Batches through real gossipcheckd processes on loopback (lan profile): the
 * round trip from submission to the last result for N = 10, 40, 80, gcheck's
 * own wall time, the TCP frames and bytes and the daemon CPU one batch
 * costs; and the cost of the cluster key at N = 40.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Cluster, type ClusterNode, postBatch, startCluster } from "../test/support/cluster.js";
import { runGcheck, tempDir } from "../test/support/proc.js";
import { Neighbours, clusterCpuMs, sleep } from "./cluster_cpu.js";
import { median, ms, waitForAliveCount } from "./cluster_membership.js";
import { percentile, type BenchSection } from "./report.js";

const QUICK = process.env.BENCH_CLUSTER_QUICK === "1";
const BATCH_SIZES = [10, 40, 80];
const BATCHES = QUICK ? 10 : 50;
const WARMUP_BATCHES = 3;
const GCHECK_RUNS = QUICK ? 3 : 10;

/** A small batch of passing checks, like examples/checks (process_running is measured apart: see the notes). */
const BATCH_CHECKS = {
  hostname_file_exists: { type: "file_exists", path: "/etc/hostname" },
  tmp_exists: { type: "file_exists", path: "/tmp" },
  os_release_has_id: { type: "file_contains", path: "/etc/os-release", check: "ID=" },
};
const PROCESS_CHECK = { node_is_running: { type: "process_running", path: "node" } };

/** A converged lan cluster of n daemons (with a fresh cluster key when keyed), warmed up with a few batches. */
interface BatchCluster {
  n: number;
  cluster: Cluster;
  dir: string;
  close(): Promise<void>;
}

async function batchCluster(n: number, keyed: boolean, body: object): Promise<BatchCluster> {
  const dir = tempDir("gc-bench-");
  let cluster: Cluster | undefined;
  try {
    const args: string[] = [];
    if (keyed) {
      const key = await runGcheck(["keygen"]);
      if (key.code !== 0) throw new Error(`gcheck keygen failed: ${key.stderr}`);
      writeFileSync(join(dir.path, "cluster.key"), key.stdout, { mode: 0o600 });
      args.push("-key-file", join(dir.path, "cluster.key"));
    }
    cluster = await startCluster(n, { profile: "lan", namePrefix: keyed ? "k-" : "b-", args });
    await waitForAliveCount(cluster.nodes, n, 60_000);
    await sleep(1000); // let the join's gossip settle
    for (let i = 0; i < WARMUP_BATCHES; i++) await postBatch(cluster.seed.cliAddress, body, 20_000);
    const c = cluster;
    return { n, cluster: c, dir: dir.path, close: async () => (await c.close("SIGKILL"), dir.cleanup()) };
  } catch (e) {
    await cluster?.close("SIGKILL");
    dir.cleanup();
    throw e;
  }
}

/** Measured batches of one cluster: round trips, stragglers, traffic and CPU. */
class Trips {
  readonly totalsMs: number[] = [];
  /** Runs where the origin expected fewer than n nodes or ended without a result from one of them. */
  missing = 0;
  private frames0 = 0;
  private bytes0 = 0;
  private cpu0 = 0;
  framesPerBatch = NaN;
  frameBytesPerBatch = NaN;
  /** CPU time of all daemons together per batch (ms). */
  cpuMsPerBatch = NaN;
  gcheckMs: number[] = [];

  constructor(readonly c: BatchCluster) {}

  async start(): Promise<void> {
    const t = await netTotals(this.c.cluster.nodes);
    [this.frames0, this.bytes0, this.cpu0] = [t.frames, t.bytes, clusterCpuMs(this.c.cluster.nodes)];
  }

  /** Submits one batch to the seed; times writing the POST -> the stream's done event. */
  async batch(body: object): Promise<void> {
    const r = await postBatch(this.c.cluster.seed.cliAddress, body, 20_000);
    const accepted = r.events.find((e) => e.type === "accepted");
    const answered = new Set(r.events.flatMap((e) => (e.type === "result" ? [e.node] : [])));
    const done = r.events.findIndex((e) => e.type === "done");
    const complete = accepted?.type === "accepted" && accepted.expected.length === this.c.n && accepted.expected.every((e) => answered.has(e.name));
    if (!complete || done < 0) this.missing++;
    this.totalsMs.push((done >= 0 ? r.arrivals[done]! : performance.now()) - r.sentAt);
  }

  /** Ends the measured window; returns the daemons' CPU inside it (ms). */
  async stop(): Promise<number> {
    const cpu = clusterCpuMs(this.c.cluster.nodes) - this.cpu0;
    const t = await netTotals(this.c.cluster.nodes);
    const k = this.totalsMs.length;
    this.framesPerBatch = (t.frames - this.frames0) / k;
    this.frameBytesPerBatch = (t.bytes - this.bytes0) / k;
    this.cpuMsPerBatch = cpu / k;
    return cpu;
  }

  /** Wall time of whole `gcheck check` processes against the seed. */
  async gcheck(checks: object, runs: number): Promise<void> {
    const file = join(this.c.dir, "checks.json");
    writeFileSync(file, JSON.stringify(checks));
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = await runGcheck(["-server", this.c.cluster.seed.cliAddress, "-file", file, "check"], { timeoutMs: 30_000 });
      this.gcheckMs.push(performance.now() - t0);
      if (r.code !== 0) throw new Error(`gcheck check at N=${this.c.n} exited ${r.code}: ${r.stderr}${r.stdout.slice(-2000)}`);
    }
  }
}

async function netTotals(nodes: readonly ClusterNode[]): Promise<{ frames: number; bytes: number }> {
  const infos = await Promise.all(nodes.map((n) => n.info()));
  return {
    frames: infos.reduce((a, i) => a + (i.counters.net_framesOut ?? NaN), 0),
    bytes: infos.reduce((a, i) => a + (i.counters.net_frameBytesOut ?? NaN), 0),
  };
}

/** One cluster of n daemons: `batches` batches one after another, then gcheck runs. */
async function roundTrips(n: number, neighbours: Neighbours, o: { withProcess?: boolean; batches?: number; gcheckRuns?: number } = {}): Promise<Trips> {
  const checks = o.withProcess ? { ...BATCH_CHECKS, ...PROCESS_CHECK } : BATCH_CHECKS;
  const body = { checks, timeoutMs: 10_000 };
  const bc = await batchCluster(n, false, body);
  try {
    const trips = new Trips(bc);
    await neighbours.quiet(bc.cluster.nodes);
    const window = neighbours.open();
    await trips.start();
    for (let i = 0; i < (o.batches ?? BATCHES); i++) await trips.batch(body);
    window(await trips.stop());
    await trips.gcheck(checks, o.gcheckRuns ?? GCHECK_RUNS);
    return trips;
  } finally {
    await bc.close();
  }
}

/**
 * The cost of the cluster key: a plain and a keyed 40-node cluster run side
 * by side, and batches alternate between them, so both see the same
 * neighbours and the same idle load of the other cluster.
 */
async function keyCost(neighbours: Neighbours): Promise<[plain: Trips, keyed: Trips]> {
  const body = { checks: BATCH_CHECKS, timeoutMs: 10_000 };
  const plain = await batchCluster(40, false, body);
  let keyed: BatchCluster | undefined;
  try {
    keyed = await batchCluster(40, true, body);
    const trips = [new Trips(plain), new Trips(keyed)] as const;
    const all = [...plain.cluster.nodes, ...keyed.cluster.nodes];
    await neighbours.quiet(all);
    const window = neighbours.open();
    for (const t of trips) await t.start();
    for (let i = 0; i < BATCHES; i++) for (const t of trips) await t.batch(body);
    window((await trips[0].stop()) + (await trips[1].stop()));
    return [trips[0], trips[1]];
  } finally {
    await plain.close();
    await keyed?.close();
  }
}

const TRIP_COLUMNS = ["cluster", "batches", "p50 ms", "p99 ms", "max ms", "runs missing a node", "gcheck check wall ms (median)", "TCP frames / batch", "TCP KiB / batch", "daemon CPU ms / batch (all nodes)"];

function tripRow(label: string, r: Trips, columns = TRIP_COLUMNS): (string | number)[] {
  const t = r.totalsMs;
  const cells: Record<string, string | number> = {
    cluster: label,
    batches: t.length,
    "p50 ms": ms(percentile(t, 50)),
    "p99 ms": ms(percentile(t, 99)),
    "max ms": ms(Math.max(...t)),
    "runs missing a node": r.missing,
    "gcheck check wall ms (median)": ms(median(r.gcheckMs)),
    "TCP frames / batch": Math.round(r.framesPerBatch),
    "TCP KiB / batch": (r.frameBytesPerBatch / 1024).toFixed(1),
    "daemon CPU ms / batch (all nodes)": ms(r.cpuMsPerBatch),
  };
  return columns.map((c) => cells[c]!);
}

export async function batchSections(): Promise<BenchSection[]> {
  const tripNeighbours = new Neighbours();
  const keyNeighbours = new Neighbours();
  const plain: Trips[] = [];
  for (const n of BATCH_SIZES) plain.push(await roundTrips(n, tripNeighbours));
  const proc40 = await roundTrips(40, tripNeighbours, { withProcess: true, batches: QUICK ? 5 : 20, gcheckRuns: QUICK ? 1 : 3 });
  const [side, keyed] = await keyCost(keyNeighbours);
  const diff = (a: number, b: number) => `${a >= b ? "+" : ""}${(((a - b) / b) * 100).toFixed(0)}%`;
  const keyColumns = TRIP_COLUMNS.filter((c) => !c.startsWith("gcheck"));
  return [
    {
      title: "cluster: batch round trip, real daemons on loopback (lan profile, gossip-group 5)",
      columns: TRIP_COLUMNS,
      rows: [...plain.map((r) => tripRow(`N=${r.c.n}`, r)), tripRow("N=40, + a process_running check", proc40)],
      notes: [
        `A batch of ${Object.keys(BATCH_CHECKS).length} passing checks (file_exists x2, file_contains) is POSTed to /v1/check on the seed, one batch at a time; the time runs from writing the request until the stream's done event (every expected node's result is back at the origin). ${WARMUP_BATCHES} warm-up batches first, not counted.`,
        "runs missing a node: the origin expected fewer than N nodes, or ended without a result from one of them. Must be 0.",
        `gcheck check wall: the whole gcheck process (node start-up, file parsing, submission, waiting, table), run ${GCHECK_RUNS} times after the batches (3 times for the process_running row).`,
        "TCP frames / bytes: the sum over all nodes of net_framesOut / net_frameBytesOut (GET /v1/info) across the measured batches, divided by their number: burst forwards, anti-entropy, results and their acks, plus the little periodic push-pull traffic of the same window.",
        "daemon CPU / batch: user+system time of all daemons over the measured batches (/proc/<pid>/stat), divided by their number. With every daemon on this host's cores, it bounds the round trip from below: CPU ms / cores.",
        "process_running row: every node scans /proc for each batch; with N daemons on one 2-core host that is N full scans of this host's processes competing for 2 cores, a cost a real fleet (one daemon per host) spreads over N machines.",
        "Targets (issue 4) for N=40: p50 <= 50 ms, max <= 150 ms, no stragglers. Serf query: 518 ms median, 918 ms max, always waits out its 5 s timeout.",
        tripNeighbours.note(),
      ],
    },
    {
      title: "cluster: cost of the cluster key at N=40 (AES-256-GCM on every packet and frame)",
      columns: keyColumns,
      rows: [tripRow("no key", side, keyColumns), tripRow("-key-file", keyed, keyColumns)],
      notes: [
        `Two 40-node clusters run side by side, one started with -key-file (a key from gcheck keygen), one without; ${BATCHES} batches each, alternating between them, measured as above. Keyed vs plain: p50 ${diff(percentile(keyed.totalsMs, 50), percentile(side.totalsMs, 50))}, max ${diff(Math.max(...keyed.totalsMs), Math.max(...side.totalsMs))}, daemon CPU ${diff(keyed.cpuMsPerBatch, side.cpuMsPerBatch)}.`,
        "Each cluster's CPU per batch here includes its idle protocol work while the other cluster's batch ran (about the same for both).",
        "Target (issue 5): within 10% of each other.",
        keyNeighbours.note(),
      ],
    },
  ];
}
