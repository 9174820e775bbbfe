/*
 * Issue 18, target 1: does a daemon's memory stay flat? A real cluster (lan
 * profile, N = BENCH_FLAT_NODES, 10 by default) runs BENCH_FLAT_BATCHES
 * batches (10,000 by default), paced evenly over the whole load (at most
 * BENCH_FLAT_IN_FLIGHT at once, submitted through the control API of the
 * stable nodes in turn), while a few nodes are killed or leave and come
 * back, over and over. The load has two parts with the same rate and the
 * same churn: a warm-up of BENCH_FLAT_WARM_S seconds (120 by default), then
 * the soak of BENCH_FLAT_CHURN_S seconds (600 by default; the issue's hour is
 * 3600).
 *
 * Each stable node's memory is read fresh (joined, no batch yet), warm
 * (after the warm-up, settled) and after (after the soak, settled), and
 * every BENCH_FLAT_SAMPLE_S seconds during the soak (under load: the trend).
 * Settled means what it means both times: the churn stopped, every node
 * alive again, and the batches' TTL (BENCH_FLAT_TTL_MS, 60 s here; 5 min by
 * default in the product) passed, plus 15 s, so the seen-history may forget
 * them. Warm and after thus see the same workload and the same state; what
 * after holds more than warm is what an hour of it left behind. (Until
 * 2026-12-07 warm was read 30 s after 500 unpaced batches without churn,
 * with those batches still inside their TTL: a lower high-water mark of
 * malloc and the young generation than the soak reaches, which counted
 * the load's working set as growth.)
 *
 * BENCH_FLAT_NODE_OPTIONS adds Node options to every daemon (e.g.
 * --max-semi-space-size=1); BENCH_FLAT_LD_PRELOAD runs every daemon with
 * that library preloaded (e.g. /usr/lib/x86_64-linux-gnu/libjemalloc.so.2,
 * Debian's libjemalloc2, to compare allocators).
 *
 * Memory of a node: RSS, PSS and private memory (Private_Clean +
 * Private_Dirty) from /proc/PID/smaps_rollup, and the V8 heap in use from
 * GET /metrics (read after a first scrape, so the lazily built metrics
 * registry is in every reading; not after a forced GC, so it moves with the
 * garbage of the moment: the median of a few readings). One stable node
 * (the last) is kept out of the table: it writes a heap snapshot when warm
 * and one at the end (node --heapsnapshot-signal), whose difference by
 * constructor is in the notes; writing a snapshot costs its process malloc
 * memory that would blur its own numbers.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Cluster, type ClusterNode, getJson, postBatch, startCluster, startNode } from "../test/support/cluster.js";
import type { DaemonInfo } from "../src/control/api_types.js";
import { sleep } from "./cluster_cpu.js";
import { median, waitForAliveCount } from "./cluster_membership.js";
import { analyseHeapSnapshot, describeHeap } from "./heap_snapshot.js";
import type { BenchSection } from "./report.js";

const envInt = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
};
const NODES = Math.max(5, envInt("BENCH_FLAT_NODES", 10));
const BATCHES = envInt("BENCH_FLAT_BATCHES", 10_000);
const WARM_S = envInt("BENCH_FLAT_WARM_S", 120);
const CHURN_S = envInt("BENCH_FLAT_CHURN_S", 600);
/** Seconds between two readings during the soak. */
const SAMPLE_S = envInt("BENCH_FLAT_SAMPLE_S", Math.max(60, Math.round(CHURN_S / 6)));
/** Batches per second, the same in the warm-up and the soak. */
const RATE = BATCHES / (WARM_S + CHURN_S);
const WARMUP = Math.round(RATE * WARM_S);
/** Batches' TTL (ms): the seen-history keeps an ID until its batch expires. */
const TTL_MS = envInt("BENCH_FLAT_TTL_MS", 60_000);
/** Batches in flight at once. */
const IN_FLIGHT = envInt("BENCH_FLAT_IN_FLIGHT", 8);
/** Node options for the daemons (NODE_OPTIONS), e.g. "--max-semi-space-size=1" to compare a smaller young generation. */
const V8_OPTIONS = process.env.BENCH_FLAT_NODE_OPTIONS ?? "";
/** A library every daemon runs with preloaded (LD_PRELOAD), e.g. another malloc. */
const PRELOAD = process.env.BENCH_FLAT_LD_PRELOAD ?? "";
/** Nodes that come and go (the last ones but the snapshot node); the others are measured. */
const CHURNERS = Math.max(1, Math.min(3, Math.floor(NODES / 3)));
/** Time between two churn steps (ms): one node goes down, then comes back. */
const CHURN_STEP_MS = 4_000;

const BATCH = {
  checks: {
    hostname_file_exists: { type: "file_exists", path: "/etc/hostname" },
    os_release_has_id: { type: "file_contains", path: "/etc/os-release", check: "ID=" },
  },
  ttlMs: TTL_MS,
  timeoutMs: 5_000,
};

interface Reading {
  rss: number;
  pss: number;
  priv: number;
  /** Private memory of the [heap] mapping: malloc's (native buffers, SQLite, Node's C++). */
  malloc: number;
  heapUsed: number;
  /** V8's committed heap (nodejs_heap_size_total_bytes): what the garbage collector holds, used or not. */
  heapTotal: number;
  external: number;
}

const MiB = 2 ** 20;

function smaps(pid: number): Pick<Reading, "rss" | "pss" | "priv" | "malloc"> {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) * 1024;
  // The [heap] mapping's block in /proc/PID/smaps: its Private_Dirty.
  const heap = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s+\[heap\]\n(?:(?![0-9a-f]+-).*\n)*?Private_Dirty:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps`, "utf8"));
  return { rss: kb("Rss"), pss: kb("Pss"), priv: kb("Private_Clean") + kb("Private_Dirty"), malloc: Number(heap?.[1] ?? 0) * 1024 };
}

async function v8Heap(node: ClusterNode): Promise<Pick<Reading, "heapUsed" | "heapTotal" | "external">> {
  const res = await fetch(`http://${node.cliAddress}/metrics`);
  const text = await res.text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
  return { heapUsed: metric("nodejs_heap_size_used_bytes"), heapTotal: metric("nodejs_heap_size_total_bytes"), external: metric("nodejs_external_memory_bytes") };
}

/** A node's memory: the median of `reads` readings one second apart. */
async function read(node: ClusterNode, reads = 5): Promise<Reading> {
  const rs: Reading[] = [];
  for (let i = 0; i < reads; i++) {
    rs.push({ ...smaps(node.pid), ...(await v8Heap(node)) });
    if (i < reads - 1) await sleep(1000);
  }
  const m = (k: keyof Reading) => median(rs.map((r) => r[k]));
  return { rss: m("rss"), pss: m("pss"), priv: m("priv"), malloc: m("malloc"), heapUsed: m("heapUsed"), heapTotal: m("heapTotal"), external: m("external") };
}

async function readAll(nodes: readonly ClusterNode[]): Promise<Reading[]> {
  return Promise.all(nodes.map((n) => read(n)));
}

/** Asks `node` for a heap snapshot and returns its path once written (complete: the file size stops changing). */
async function heapSnapshot(node: ClusterNode, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(node.pid, "SIGUSR2");
  const deadline = Date.now() + 60_000;
  let last = -1;
  for (;;) {
    const f = readdirSync(dir).find((x) => !before.has(x) && x.endsWith(".heapsnapshot"));
    if (f) {
      const size = readFileSync(join(dir, f)).length;
      if (size === last && size > 0) return join(dir, f);
      last = size;
    }
    if (Date.now() > deadline) throw new Error(`footprint_flat: ${node.name} wrote no heap snapshot in ${dir} within 60 s`);
    await sleep(500);
  }
}

/**
 * Submits `count` batches to `origins` in turn, batch k no earlier than k /
 * RATE seconds after the start and at most IN_FLIGHT at once; counts the
 * ones that ended without every expected node.
 */
async function runBatches(origins: readonly ClusterNode[], count: number, stats: { sent: number; incomplete: number; failed: number }): Promise<void> {
  const start = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const k = next++;
      const due = start + (k / RATE) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
      const origin = origins[k % origins.length]!;
      stats.sent++;
      try {
        const r = await postBatch(origin.cliAddress, BATCH, 20_000);
        const accepted = r.events.find((e) => e.type === "accepted");
        const answered = new Set(r.events.flatMap((e) => (e.type === "result" ? [e.node] : [])));
        if (accepted?.type !== "accepted" || !accepted.expected.every((e) => answered.has(e.name))) stats.incomplete++;
      } catch {
        stats.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

/**
 * Churn until `until` (Date.now()), one churner at a time, alternating two ways
 * a node comes and goes: killed (SIGKILL) and started again under the same
 * name on the same port (a crash and a restart), or stopped (SIGTERM: a
 * graceful leave) and started again as a new member (a new name, a new port:
 * a machine replaced). The second leaves a dead or left member behind in
 * every table keyed by name or address, which is what a leak of per-member
 * state would keep.
 */
async function churn(cluster: Cluster, churners: number[], until: number, env: NodeJS.ProcessEnv, log: { kills: number; leaves: number; restarts: number; failedRestarts: number }): Promise<void> {
  while (Date.now() < until) {
    // Counted over every call, so a new member's name is never used twice.
    const step = log.kills + log.leaves;
    const i = churners[step % churners.length]!;
    const old = cluster.nodes[i]!;
    const crash = step % 2 === 0;
    const port = crash ? Number(old.address.slice(old.address.lastIndexOf(":") + 1)) : 0;
    const name = crash ? old.name : `${old.name.replace(/\.\d+$/, "")}.${step}`;
    if (crash) {
      await old.kill9();
      log.kills++;
    } else {
      await old.stop("SIGTERM");
      log.leaves++;
    }
    old.removeDir();
    await sleep(CHURN_STEP_MS / 2);
    for (let attempt = 0; ; attempt++) {
      try {
        cluster.nodes[i] = await startNode({ name, port, peers: [cluster.seed.address], profile: "lan", env });
        log.restarts++;
        break;
      } catch (e) {
        log.failedRestarts++;
        if (attempt >= 5) throw new Error(`footprint_flat: could not start ${name} again (port ${port}): ${(e as Error).message}`);
        await sleep(2_000);
      }
    }
    await sleep(CHURN_STEP_MS / 2);
  }
}

const mib = (b: number) => (b / MiB).toFixed(1);

/** Each reading to stderr as it is taken: a long run stopped part-way still says what it measured. */
function progress(what: string, rs: readonly Reading[]): void {
  process.stderr.write(
    `footprint_flat ${new Date().toISOString()} ${what}: private ${rs.map((r) => mib(r.priv)).join(" ")}; malloc ${rs.map((r) => mib(r.malloc)).join(" ")}; heap used ${rs.map((r) => mib(r.heapUsed)).join(" ")} MiB\n`,
  );
}
const pct = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1)}%`;

export async function run(): Promise<BenchSection[]> {
  const diagDir = mkdtempSync(join(tmpdir(), "gc-flat-snap-"));
  const env: NodeJS.ProcessEnv = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} ${V8_OPTIONS} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${diagDir}`.trim() };
  if (PRELOAD) env.LD_PRELOAD = PRELOAD;
  const t0 = Date.now();
  const cluster = await startCluster(NODES, { profile: "lan", namePrefix: "flat-", env });
  try {
    await waitForAliveCount(cluster.nodes, NODES, 60_000);
    const snapIndex = NODES - 1;
    const churners = Array.from({ length: CHURNERS }, (_, k) => NODES - 2 - k);
    const stable = cluster.nodes.filter((_, i) => i !== snapIndex && !churners.includes(i));
    // The metrics registry is built on the first scrape (lazy_metrics.ts): build it everywhere before the first reading.
    await Promise.all(cluster.nodes.map((n) => v8Heap(n)));
    await sleep(10_000);
    const fresh = await readAll(stable);
    progress("fresh", fresh);

    const stats = { sent: 0, incomplete: 0, failed: 0 };
    const churnLog = { kills: 0, leaves: 0, restarts: 0, failedRestarts: 0 };
    /** Batches and churn together for `seconds`, then settled: every node alive, the TTL passed. */
    const load = async (batches: number, seconds: number, during?: () => Promise<void>) => {
      const until = Date.now() + seconds * 1000;
      await Promise.all([runBatches(stable, batches, stats), churn(cluster, churners, until, env, churnLog), during?.()]);
      await waitForAliveCount(cluster.nodes, NODES, 120_000);
      // Every batch expired (TTL after the last one was sent), and a margin for the seen-history's pruning.
      await sleep(TTL_MS + 15_000);
    };
    await load(WARMUP, WARM_S);
    const warm = await readAll(stable);
    progress("warm", warm);
    const snapWarm = await heapSnapshot(cluster.nodes[snapIndex]!, diagDir);

    const loadStart = Date.now();
    const samples: { atS: number; readings: Reading[] }[] = [];
    const sample = async () => {
      for (let at = SAMPLE_S; at < CHURN_S; at += SAMPLE_S) {
        const wait = loadStart + at * 1000 - Date.now();
        if (wait > 0) await sleep(wait);
        samples.push({ atS: Math.round((Date.now() - loadStart) / 1000), readings: await readAll(stable) });
        progress(`soak +${samples[samples.length - 1]!.atS} s`, samples[samples.length - 1]!.readings);
      }
    };
    await load(BATCHES - WARMUP, CHURN_S, sample);
    const loadS = (Date.now() - loadStart) / 1000;
    const after = await readAll(stable);
    progress("after", after);
    const snapAfter = await heapSnapshot(cluster.nodes[snapIndex]!, diagDir);
    const infos = await Promise.all(stable.map((n) => getJson<DaemonInfo>(n.cliAddress, "/v1/info")));

    const cols: [string, keyof Reading][] = [
      ["private", "priv"],
      ["RSS", "rss"],
      ["PSS", "pss"],
      ["V8 heap committed", "heapTotal"],
      ["V8 heap used", "heapUsed"],
      ["external", "external"],
      ["malloc ([heap])", "malloc"],
    ];
    const sum = (rs: Reading[], k: keyof Reading) => rs.reduce((a, r) => a + r[k], 0);
    const total = (rs: Reading[]): Reading => ({
      rss: sum(rs, "rss"),
      pss: sum(rs, "pss"),
      priv: sum(rs, "priv"),
      malloc: sum(rs, "malloc"),
      heapUsed: sum(rs, "heapUsed"),
      heapTotal: sum(rs, "heapTotal"),
      external: sum(rs, "external"),
    });
    const row = (name: string, f: Reading, w: Reading, a: Reading) => [name, ...cols.map(([, k]) => `${mib(f[k])} / ${mib(w[k])} / ${mib(a[k])}`), pct(w.priv, a.priv)];
    const rows = stable.map((n, k) => row(n.name, fresh[k]!, warm[k]!, after[k]!));
    rows.push(row("all measured", total(fresh), total(warm), total(after)));
    const [heapAfter, heapWarm] = [analyseHeapSnapshot(snapAfter), analyseHeapSnapshot(snapWarm)];
    const diff = describeHeap(heapAfter, heapWarm, 12);
    const grew = diff.split("objects that grew since the base")[1]?.split("\n").slice(1, 9) ?? [];
    const snapTotal = diff.split("\n")[0]!;
    const byType = [...heapAfter.byType]
      .map(([t, b]) => [t, b - (heapWarm.byType.get(t) ?? 0)] as const)
      .filter(([, d]) => Math.abs(d) >= 16 * 1024)
      .sort((a, b) => b[1] - a[1])
      .map(([t, d]) => `${t} ${d >= 0 ? "+" : ""}${(d / 1024).toFixed(0)} KiB`);
    return [
      {
        title: `footprint_flat: memory fresh / warm / after ${stats.sent} batches and ${Math.round(loadS)} s of churn (N=${NODES}, lan profile; MiB)`,
        columns: ["node", ...cols.map(([c]) => c), "private: growth warm -> after"],
        rows,
        notes: [
          `${NODES} daemons on loopback, lan profile${V8_OPTIONS ? `, NODE_OPTIONS ${V8_OPTIONS}` : ""}${PRELOAD ? `, LD_PRELOAD ${PRELOAD}` : ""}; ${stable.length} measured (never restarted), ${CHURNERS} churned, 1 kept for heap snapshots. Target (issue 18): within 10% of the warm reading once settled.`,
          `Batches: ${stats.sent} (${WARMUP} in the warm-up), ${RATE.toFixed(2)} a second, at most ${IN_FLIGHT} in flight, to the measured nodes in turn; 2 checks each, TTL ${TTL_MS / 1000} s, timeout 5 s; ${stats.incomplete} ended without a node's result (a churned node down), ${stats.failed} failed to submit.`,
          `Churn: ${churnLog.kills} SIGKILLs, each followed by a restart under the same name on the same port, and ${churnLog.leaves} graceful leaves, each followed by a new member (new name, new port) (${churnLog.restarts} starts, ${churnLog.failedRestarts} retried), one step every ${CHURN_STEP_MS / 1000} s, in the warm-up (${WARM_S} s) and the soak (${CHURN_S} s); the soak and its settling took ${Math.round(loadS)} s.`,
          `Readings: fresh = joined, metrics scraped once, 10 s idle; warm and after = settled after the warm-up and after the soak: churn stopped, all ${NODES} alive again, then TTL + 15 s idle. Each the median of 5 readings 1 s apart: private, RSS, PSS from /proc/PID/smaps_rollup, malloc from the [heap] mapping of /proc/PID/smaps; V8 heap and external from GET /metrics (no forced GC, so heap used includes garbage; the metrics registry, built by the first scrape, is in every reading).`,
          `Seen-history / live envelopes at the end, per measured node: ${infos.map((i) => `${i.counters.gossip_historySize ?? "?"}/${i.counters.gossip_liveEnvelopes ?? "?"}`).join(", ")}; members known (alive, dead, left): ${infos.map((i) => `${i.members.alive}/${i.members.dead}/${i.members.left}`).join(", ")}.`,
          `Heap snapshot of the snapshot node, warm -> after (after a full GC): ${snapTotal}; by node type: ${byType.join(", ") || "no change over 16 KiB"}; objects that grew most: ${grew.map((l) => l.trim().replace(/\s+/g, " ")).join("; ") || "none"}.`,
          `Whole run ${Math.round((Date.now() - t0) / 1000)} s.`,
        ],
      },
      {
        title: `footprint_flat: the soak's trend, read under load every ${SAMPLE_S} s (sums over the ${stable.length} measured nodes; MiB)`,
        columns: ["reading", "private", "malloc ([heap])", "V8 heap committed", "V8 heap used", "external", "private per node (min / max)"],
        rows: [
          { label: "warm (settled)", readings: warm },
          ...samples.map((x) => ({ label: `soak +${x.atS} s (under load)`, readings: x.readings })),
          { label: "after (settled)", readings: after },
        ].map(({ label, readings }) => {
          const t = total(readings);
          const per = readings.map((r) => r.priv);
          return [label, mib(t.priv), mib(t.malloc), mib(t.heapTotal), mib(t.heapUsed), mib(t.external), `${mib(Math.min(...per))} / ${mib(Math.max(...per))}`];
        }),
        notes: ["A leak grows from one reading to the next; a working set rises once under load and stays. The settled readings are the ones the target compares."],
      },
    ];
  } finally {
    await cluster.close("SIGKILL");
    rmSync(diagDir, { recursive: true, force: true });
  }
}
