/**
 * Batches through real gossipcheckd processes on loopback (lan profile): the
 * round trip from submission to the last result for N = 10, 40, 80, gcheck's
 * own wall time, the TCP frames and bytes and the daemon CPU one batch
 * costs; and the cost of the cluster key at N = 40.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BatchRun, type Cluster, type ClusterNode, postBatch, startCluster } from "../test/support/cluster.js";
import { runGcheck, tempDir } from "../test/support/proc.js";
import { Neighbours, clusterCpuMs, sleep } from "./cluster_cpu.js";
import { median, ms, waitForAliveCount } from "./cluster_membership.js";
import { percentile, type BenchSection } from "./report.js";

const QUICK = process.env.BENCH_CLUSTER_QUICK === "1";
const BATCH_SIZES = [10, 40, 80];
const BATCHES = QUICK ? 10 : 50;
/** Batches right after the cluster formed, before the "fresh" sample (the first run of the code path, module loading). */
const STARTUP_BATCHES = 3;
/**
 * Batches run (not counted) before the measured ones. V8 optimizes a
 * function only once it has run often enough: a daemon that has handled a
 * few hundred batches runs the batch path as optimized code, one just
 * started runs it in the interpreter and baseline tiers while TurboFan
 * compiles it piece by piece, which on a host where 40 daemons share 2
 * cores doubles the cost of a batch. The measured batches are those of a
 * daemon that has been up a while; the "fresh" row shows a new cluster.
 */
const WARMUP_BATCHES = QUICK ? 20 : 200;
const GCHECK_RUNS = QUICK ? 3 : 10;
/** Batches each of the two clusters runs in the key-cost comparison (more than BATCHES: its point is a difference of a few percent). */
const KEY_BATCHES = QUICK ? 10 : 150;

/** A small batch of passing checks, like examples/checks (process_running is measured apart: see the notes). */
export const BATCH_CHECKS = {
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
    // Lets the join's gossip settle, and outlasts the lan profile's 1 s history-start
    // allowance (a node skips batches created within 1 s of its first start).
    await sleep(1000);
    for (let i = 0; i < STARTUP_BATCHES; i++) await postBatch(cluster.seed.cliAddress, body, 20_000);
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
    const r = judgeBatch(await postBatch(this.c.cluster.seed.cliAddress, body, 20_000), this.c.n);
    if (!r.complete) this.missing++;
    this.totalsMs.push(r.totalMs);
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

/**
 * Whether a batch's stream ended with a result from each of n expected
 * nodes, and its round trip: writing the POST -> the done event (ms; to
 * now when the stream ended without one).
 */
export function judgeBatch(r: BatchRun, n: number): { complete: boolean; answered: number; totalMs: number } {
  const accepted = r.events.find((e) => e.type === "accepted");
  const answered = new Set(r.events.flatMap((e) => (e.type === "result" ? [e.node] : [])));
  const done = r.events.findIndex((e) => e.type === "done");
  const complete = done >= 0 && accepted?.type === "accepted" && accepted.expected.length === n && accepted.expected.every((e) => answered.has(e.name));
  return { complete, answered: answered.size, totalMs: (done >= 0 ? r.arrivals[done]! : performance.now()) - r.sentAt };
}

async function netTotals(nodes: readonly ClusterNode[]): Promise<{ frames: number; bytes: number }> {
  const infos = await Promise.all(nodes.map((n) => n.info()));
  return {
    frames: infos.reduce((a, i) => a + (i.counters.net_framesOut ?? NaN), 0),
    bytes: infos.reduce((a, i) => a + (i.counters.net_frameBytesOut ?? NaN), 0),
  };
}

/** Measures `batches` batches one after another on a cluster (a quiet host first). */
async function measure(bc: BatchCluster, body: object, batches: number, neighbours: Neighbours): Promise<Trips> {
  const trips = new Trips(bc);
  await neighbours.quiet(bc.cluster.nodes);
  const window = neighbours.open();
  await trips.start();
  for (let i = 0; i < batches; i++) await trips.batch(body);
  window(await trips.stop());
  return trips;
}

async function warmUp(bc: BatchCluster, body: object, batches: number): Promise<void> {
  for (let i = 0; i < batches; i++) await postBatch(bc.cluster.seed.cliAddress, body, 20_000);
}

/**
 * One cluster of n daemons: optionally the batches of the fresh cluster,
 * then the warm-up, then the measured batches, then gcheck runs.
 */
async function roundTrips(
  n: number,
  neighbours: Neighbours,
  o: { withProcess?: boolean; batches?: number; gcheckRuns?: number; fresh?: boolean; keyed?: boolean } = {},
): Promise<{ warm: Trips; fresh?: Trips }> {
  const checks = o.withProcess ? { ...BATCH_CHECKS, ...PROCESS_CHECK } : BATCH_CHECKS;
  const body = { checks, timeoutMs: 10_000 };
  const batches = o.batches ?? BATCHES;
  const bc = await batchCluster(n, o.keyed ?? false, body);
  try {
    const fresh = o.fresh ? await measure(bc, body, batches, neighbours) : undefined;
    await warmUp(bc, body, Math.max(0, WARMUP_BATCHES - (fresh ? batches : 0)));
    const warm = await measure(bc, body, batches, neighbours);
    if (o.gcheckRuns !== 0) await warm.gcheck(checks, o.gcheckRuns ?? GCHECK_RUNS);
    return { warm, ...(fresh ? { fresh } : {}) };
  } finally {
    await bc.close();
  }
}

/**
 * Two 40-node clusters up at once, measured in alternation: warmed up
 * together, then batch pairs in A B, B A, A B ... order, so that a drift of
 * the host's load, and whatever the order itself costs, weighs on both
 * alike. (One cluster after the other, runs of the same configuration
 * differed by up to 20% on this host: more than the difference sought.)
 * Each cluster's CPU is counted over the whole window and divided by its
 * own batches, so its background and deferred work (probes,
 * advertisements, acknowledgements released in rounds) count wherever they
 * fell.
 */
async function paired(n: number, keyedA: boolean, keyedB: boolean, neighbours: Neighbours): Promise<[Trips, Trips]> {
  const body = { checks: BATCH_CHECKS, timeoutMs: 10_000 };
  const a = await batchCluster(n, keyedA, body);
  let b: BatchCluster | undefined;
  try {
    b = await batchCluster(n, keyedB, body);
    for (let i = 0; i < WARMUP_BATCHES; i++) {
      await postBatch(a.cluster.seed.cliAddress, body, 20_000);
      await postBatch(b.cluster.seed.cliAddress, body, 20_000);
    }
    const [ta, tb] = [new Trips(a), new Trips(b)];
    await neighbours.quiet([...a.cluster.nodes, ...b.cluster.nodes]);
    const window = neighbours.open();
    await ta.start();
    await tb.start();
    for (let i = 0; i < KEY_BATCHES; i++) {
      for (const t of i % 2 === 0 ? [ta, tb] : [tb, ta]) await t.batch(body);
    }
    window((await ta.stop()) + (await tb.stop()));
    return [ta, tb];
  } finally {
    await a.close();
    await b?.close();
  }
}

/** "p50 / max / CPU" of one measured run, for the notes. */
function runSummary(t: Trips): string {
  return `${ms(percentile(t.totalsMs, 50))} / ${ms(Math.max(...t.totalsMs))} ms, ${ms(t.cpuMsPerBatch)} ms CPU`;
}

const TRIP_COLUMNS = [
  "cluster",
  "batches",
  "p50 ms",
  "p99 ms",
  "max ms",
  "runs missing a node",
  "gcheck check wall ms (median)",
  "TCP frames / batch",
  "TCP KiB / batch",
  "daemon CPU ms / batch (all nodes)",
];

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
  const plain: { label: string; trips: Trips }[] = [];
  for (const n of BATCH_SIZES) {
    const r = await roundTrips(n, tripNeighbours, { fresh: n === 40 });
    if (r.fresh) plain.push({ label: `N=${n}, fresh cluster (first ${r.fresh.totalsMs.length} batches)`, trips: r.fresh });
    plain.push({ label: `N=${n}`, trips: r.warm });
  }
  const proc40 = (await roundTrips(40, tripNeighbours, { withProcess: true, batches: QUICK ? 5 : 20, gcheckRuns: QUICK ? 1 : 3 })).warm;
  const [side, keyed] = await paired(40, false, true, keyNeighbours);
  const [calA, calB] = await paired(40, false, false, keyNeighbours);
  const warm40 = plain.find((r) => r.label === "N=40")?.trips;
  const diff = (a: number, b: number) => `${a >= b ? "+" : ""}${(((a - b) / b) * 100).toFixed(0)}%`;
  const keyColumns = TRIP_COLUMNS.filter((c) => !c.startsWith("gcheck"));
  return [
    {
      title: "cluster: batch round trip, real daemons on loopback (lan profile, gossip-group 5)",
      columns: TRIP_COLUMNS,
      rows: [...plain.map((r) => tripRow(r.label, r.trips)), tripRow("N=40, + a process_running check", proc40)],
      notes: [
        `A batch of ${Object.keys(BATCH_CHECKS).length} passing checks (file_exists x2, file_contains) is POSTed to /v1/check on the seed, one batch at a time; the time runs from writing the request until the stream's done event (every expected node's result is back at the origin).`,
        `Warm-up: ${WARMUP_BATCHES} batches, not counted, before the measured ${BATCHES}: V8 compiles a function to optimized code only after it has run often enough, so a daemon that has handled a few hundred batches runs the batch path several times cheaper than one just started (on this host, where the daemons share 2 cores, that is most of the round trip). The "fresh cluster" row is the first ${BATCHES} batches after the cluster formed (and ${STARTUP_BATCHES} start-up batches), with the same warm-up counted in.`,
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
      rows: [tripRow("no key", side, keyColumns), tripRow("-key-file", keyed, keyColumns), tripRow("calibration: no key (A)", calA, keyColumns), tripRow("calibration: no key (B)", calB, keyColumns)],
      notes: [
        `Two 40-node clusters up at once, one without a key and one with -key-file (a key from gcheck keygen), each warmed up with ${WARMUP_BATCHES} batches, then ${KEY_BATCHES} batches each in alternation (A B, B A, ...), so the host's drift weighs on both alike. Keyed vs plain: p50 ${diff(percentile(keyed.totalsMs, 50), percentile(side.totalsMs, 50))}, p99 ${diff(percentile(keyed.totalsMs, 99), percentile(side.totalsMs, 99))}, max ${diff(Math.max(...keyed.totalsMs), Math.max(...side.totalsMs))}, daemon CPU ${diff(keyed.cpuMsPerBatch, side.cpuMsPerBatch)}.`,
        "daemon CPU / batch: each cluster's daemons over the whole alternating window, divided by that cluster's own batches, so its background and deferred work (probes, advertisements, acknowledgements released in rounds) count wherever they fell. TCP frames and bytes likewise. The round trips are not separated so cleanly: each cluster's background runs during the other's batches too, which evens them out a little; the CPU comparison is free of that.",
        `Calibration: the same measurement with two clusters without a key (A vs B): p50 ${diff(percentile(calB.totalsMs, 50), percentile(calA.totalsMs, 50))}, p99 ${diff(percentile(calB.totalsMs, 99), percentile(calA.totalsMs, 99))}, daemon CPU ${diff(calB.cpuMsPerBatch, calA.cpuMsPerBatch)}: what the method reads where there is no difference, to weigh the key's cost against. The round-trip section above measures one cluster alone: ${warm40 ? runSummary(warm40) : "-"} at N=40 there.`,
        "Target (issue 5): within 10% of each other.",
        keyNeighbours.note(),
      ],
    },
  ];
}
