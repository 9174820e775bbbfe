/*
 * 200 real gossipcheckd processes on this host (issue 18, target 7): the
 * seed, then the others (at once, or in waves), until every node counts
 * every node alive; one batch through the API and one `gcheck check` that
 * every node answers; then a watch window in which nothing is killed, so
 * any death or lasting suspicion is a false one. Reports the cluster's
 * memory (sum of RSS, PSS and private memory) and CPU over the window,
 * file descriptors, and how busy the host's cores were in each phase (2
 * cores and 200 Node processes: starvation is what to look for).
 *
 * Environment:
 * - BENCH_200_NODES (default 200) and BENCH_200_WATCH_S (default 600);
 * - BENCH_200_PROFILE: lan (default) or local;
 * - BENCH_200_WAVE: daemons started per wave after the seed (default: all
 *   at once), BENCH_200_WAVE_GAP_MS: pause between waves (default 0).
 * Every daemon is killed by PID in a finally.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import type { DaemonInfo } from "../src/control/api_types.js";
import { type Cluster, type ClusterNode, getJson, postBatch, startCluster } from "../test/support/cluster.js";
import { runGcheck, tempDir } from "../test/support/proc.js";
import { BATCH_CHECKS, judgeBatch } from "./cluster_batches.js";
import { Neighbours, clusterCpuMs, cpuPercents, hostBusyMs, sleep } from "./cluster_cpu.js";
import { median, ms, waitForAliveCount } from "./cluster_membership.js";
import { fdLimits, openFds, procMemory } from "./proc_memory.js";
import { percentile, type BenchSection } from "./report.js";

function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name}=${raw}: expected a whole number >= ${min}`);
  return v;
}

const N = envInt("BENCH_200_NODES", 200, 2);
const WATCH_S = envInt("BENCH_200_WATCH_S", 600, 1);
const PROFILE = process.env.BENCH_200_PROFILE ?? "lan";
const WAVE = envInt("BENCH_200_WAVE", N, 1);
const WAVE_GAP_MS = envInt("BENCH_200_WAVE_GAP_MS", 0, 0);
/** Each node's GET /v1/info during the watch, this often (ms): 20 small requests a second at N=200. */
const WATCH_POLL_MS = 10_000;
/** Host CPU sample period (ms). */
const SAMPLE_MS = 5000;
/** How long all N may take to count N alive (ms). */
const CONVERGE_TIMEOUT_MS = 300_000;

/** The /v1/info counters that tell of suspicions and deaths (see src/daemon/cluster/metrics.ts). */
const COUNTERS = ["swim_suspicions", "swim_failures", "swim_refutes", "swim_probesFailed", "net_connectionsRefusedPerAddress", "net_connectionsRefused", "net_connectionsEvicted"] as const;
type Counters = Record<(typeof COUNTERS)[number], number>;

/** Host busy time in % of one core, sampled every SAMPLE_MS, labelled with the phase it fell in. */
class HostSampler {
  readonly samples: { phase: string; hostPct: number; daemonsPct: number; load1: number }[] = [];
  phase = "start-up";
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly nodes: () => readonly ClusterNode[]) {}

  start(): void {
    let host0 = hostBusyMs();
    let daemons0 = this.daemonsMs();
    let t0 = performance.now();
    this.timer = setInterval(() => {
      const [host, daemons, t] = [hostBusyMs(), this.daemonsMs(), performance.now()];
      this.samples.push({ phase: this.phase, hostPct: ((host - host0) / (t - t0)) * 100, daemonsPct: ((daemons - daemons0) / (t - t0)) * 100, load1: loadavg()[0]! });
      [host0, daemons0, t0] = [host, daemons, t];
    }, SAMPLE_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Daemons' CPU (ms) so far; the ones that have exited count no more (their ticks are gone with them). */
  private daemonsMs(): number {
    const nodes = this.nodes();
    return nodes.length ? clusterCpuMs(nodes.filter((n) => n.running)) : NaN; // NaN until startCluster returns the PIDs
  }

  rows(): (string | number)[][] {
    const phases = [...new Set(this.samples.map((s) => s.phase))];
    return phases.map((p) => {
      const s = this.samples.filter((x) => x.phase === p);
      const host = s.map((x) => x.hostPct);
      const daemons = s.map((x) => x.daemonsPct).filter((v) => Number.isFinite(v));
      return [p, s.length, median(host).toFixed(0), Math.max(...host).toFixed(0), daemons.length ? median(daemons).toFixed(0) : "-", Math.max(...s.map((x) => x.load1)).toFixed(1)];
    });
  }
}

async function counters(node: ClusterNode): Promise<{ info: DaemonInfo; c: Counters }> {
  const info = await getJson<DaemonInfo>(node.cliAddress, "/v1/info", 10_000);
  const c = Object.fromEntries(COUNTERS.map((k) => [k, info.counters[k] ?? NaN])) as Counters;
  return { info, c };
}

/** Runs fn over items, at most `limit` at a time (reading 200 member lists of 200 at once would be a load of its own). */
async function inBatches<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) out.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  return out;
}

const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const sumCounters = (all: Counters[]) => Object.fromEntries(COUNTERS.map((k) => [k, sum(all.map((c) => c[k]))])) as Counters;
const mib = (kb: number) => (kb / 1024).toFixed(1);

/** What each node showed during the watch, from its GET /v1/info polled every WATCH_POLL_MS. */
interface Watched {
  polls: number;
  failedPolls: number;
  minAlive: number;
  maxSuspect: number;
  maxDead: number;
}

/** Polls every node's /v1/info, spread evenly over each WATCH_POLL_MS, until `endAt` (performance.now()). */
async function watch(nodes: readonly ClusterNode[], endAt: number): Promise<Watched[]> {
  const seen: Watched[] = nodes.map(() => ({ polls: 0, failedPolls: 0, minAlive: Infinity, maxSuspect: 0, maxDead: 0 }));
  const pending: Promise<void>[] = [];
  const gap = WATCH_POLL_MS / nodes.length;
  while (performance.now() < endAt) {
    for (let i = 0; i < nodes.length && performance.now() < endAt; i++) {
      const w = seen[i]!;
      pending.push(
        getJson<DaemonInfo>(nodes[i]!.cliAddress, "/v1/info", 5000).then(
          (info) => {
            w.polls++;
            w.minAlive = Math.min(w.minAlive, info.members.alive);
            w.maxSuspect = Math.max(w.maxSuspect, info.members.suspect);
            w.maxDead = Math.max(w.maxDead, info.members.dead);
          },
          () => void w.failedPolls++,
        ),
      );
      await sleep(gap);
    }
  }
  await Promise.all(pending);
  return seen;
}

/** Memory and fds of every daemon (from /proc). */
function footprint(nodes: readonly ClusterNode[]) {
  const mem = nodes.map((n) => procMemory(n.pid));
  const fds = nodes.map((n) => openFds(n.pid));
  return { rss: mem.map((m) => m.rssKb), pss: mem.map((m) => m.pssKb), priv: mem.map((m) => m.privateKb), fds };
}

export async function run(): Promise<BenchSection[]> {
  // Exiting runs test/support/cluster.ts's exit hook, which kills every daemon by PID; a signal's default would skip it and orphan 200 daemons.
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => process.exit(128 + (sig === "SIGTERM" ? 15 : 2)));
  const limits = fdLimits();
  const neighbours = new Neighbours();
  const quietStart = performance.now();
  await neighbours.quiet();
  const quietWaitS = (performance.now() - quietStart) / 1000;
  const loadBefore = loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  let cluster: Cluster | undefined;
  const sampler = new HostSampler(() => cluster?.nodes ?? []);
  const dir = tempDir("gc-bench200-");
  sampler.start();
  try {
    // Start-up: the seed, then the others, each "up" when its control API answers.
    const spawnedAt = Date.now();
    cluster = await startCluster(N, { profile: PROFILE as "lan" | "local", namePrefix: "r-", waveSize: WAVE, waveGapMs: WAVE_GAP_MS, startTimeoutMs: 120_000 + 500 * N });
    const nodes = cluster.nodes;
    const upAt = cluster.lastUpAtMs;
    sampler.phase = "join";
    await waitForAliveCount(nodes, N, CONVERGE_TIMEOUT_MS);
    const countedAt = Date.now();
    // When each node reached "all alive": the latest statusSinceMs in its view (cf. cluster_membership.ts).
    const convergedAt = Math.max(...(await inBatches(nodes, 10, async (n) => Math.max(...(await n.members()).members.map((m) => m.statusSinceMs)))));
    const afterJoin = await inBatches(nodes, 20, counters);
    const joinTotals = sumCounters(afterJoin.map((x) => x.c));

    // One batch through the API, then one gcheck check: every node must answer.
    sampler.phase = "batch";
    await sleep(2000); // outlasts the 1 s history-start allowance (a node skips batches created within 1 s of its start)
    const cpuBatch0 = clusterCpuMs(nodes);
    const batch = judgeBatch(await postBatch(cluster.seed.cliAddress, { checks: BATCH_CHECKS, timeoutMs: 30_000 }, 90_000), N);
    const batchCpuMs = clusterCpuMs(nodes) - cpuBatch0;
    const checkFile = join(dir.path, "checks.json");
    writeFileSync(checkFile, JSON.stringify(BATCH_CHECKS));
    const g0 = performance.now();
    const g = await runGcheck(["-server", cluster.seed.cliAddress, "-file", checkFile, "-output", "ndjson", "check", "-timeout", "30s"], { timeoutMs: 90_000 });
    const gcheckMs = performance.now() - g0;
    // -output ndjson: one {"event": "result", "node": ...} line per node that answered.
    const gcheckLines = g.stdout.split("\n").flatMap((l) => (l.startsWith("{") ? [JSON.parse(l) as { event?: string; node?: string }] : []));
    const gcheckNodes = new Set(gcheckLines.flatMap((l) => (l.event === "result" ? [l.node] : []))).size;

    // The watch: nothing is killed; every suspicion that ends in a death is a false one.
    await sleep(5000);
    sampler.phase = "watch";
    const fp0 = footprint(nodes);
    const before = await inBatches(nodes, 20, counters);
    const window = neighbours.open();
    const cpu = cpuPercents(nodes);
    const cpuMs0 = clusterCpuMs(nodes);
    const self0 = process.cpuUsage();
    const watchStart = performance.now();
    const seen = await watch(nodes, watchStart + WATCH_S * 1000);
    const watchS = (performance.now() - watchStart) / 1000;
    const stillRunning = nodes.filter((n) => n.running).length;
    const cpuPct = stillRunning === N ? cpu() : [];
    window(stillRunning === N ? clusterCpuMs(nodes) - cpuMs0 : 0);
    const selfCpu = process.cpuUsage(self0);
    const fp1 = footprint(nodes);
    const after = await inBatches(nodes, 20, counters);
    sampler.stop();
    const d = (k: keyof Counters) => sum(after.map((a, i) => a.c[k] - before[i]!.c[k]));
    const endAlive = after.map((a) => a.info.members.alive);

    const startupS = (upAt - spawnedAt) / 1000;
    const started =
      WAVE >= N - 1
        ? `the seed, then all ${N - 1} others at once`
        : `the seed, then waves of ${WAVE} daemons${WAVE_GAP_MS ? `, ${WAVE_GAP_MS} ms apart` : ""} (each once the previous one's control APIs answered)`;
    const pct = (v: number[], p: number) => percentile(v, p).toFixed(2);
    return [
      {
        title: `cluster_200: ${N} real daemons on this host, join and one batch (${PROFILE} profile)`,
        columns: ["measure", "value"],
        rows: [
          ["first spawn -> last control API answered (s)", startupS.toFixed(1)],
          ["first spawn -> every node lists all alive (s)", ((convergedAt - spawnedAt) / 1000).toFixed(1)],
          ["last control API answered -> every node lists all alive (ms)", ms(Math.max(0, convergedAt - upAt))],
          ["first spawn -> the poll saw every node count all alive (s)", ((countedAt - spawnedAt) / 1000).toFixed(1)],
          ["suspicions / deaths declared / refutes during start-up and join (all nodes)", `${joinTotals.swim_suspicions} / ${joinTotals.swim_failures} / ${joinTotals.swim_refutes}`],
          [
            "join connections refused per address / refused / evicted (all nodes)",
            `${joinTotals.net_connectionsRefusedPerAddress} / ${joinTotals.net_connectionsRefused} / ${joinTotals.net_connectionsEvicted}`,
          ],
          [`batch through the API: nodes answered of ${N}`, `${batch.answered}${batch.complete ? " (complete)" : " (INCOMPLETE)"}`],
          ["batch through the API: POST -> done (ms)", ms(batch.totalMs)],
          ["batch: CPU of all daemons (ms)", ms(batchCpuMs)],
          [`gcheck check -output ndjson: exit code, nodes with a result of ${N}`, `${g.code}, ${gcheckNodes}`],
          ["gcheck check: wall time (ms)", ms(gcheckMs)],
        ],
        notes: [
          `Started: ${started}, with -peers <seed>, -bind and -cli-bind 127.0.0.1:0, -profile ${PROFILE}, logs at warn to a file (test/support/cluster.ts startCluster). A node is up when its GET /v1/info answers.`,
          "\"Lists all alive\" is read from each node's GET /v1/members once every node's GET /v1/info counted N alive (polled every max(100, 5N) ms per node): the latest statusSinceMs among its members, so the poll's pace does not add to it.",
          "The batch: three file checks (bench/cluster_batches.ts BATCH_CHECKS) posted to the seed's POST /v1/check, timed from writing the POST to the done event; then the same checks through a whole `gcheck check` process.",
          `Suspicions and deaths are the daemons' own counters (GET /v1/info: swim_suspicions, swim_failures = members this node declared dead, swim_refutes), summed over all nodes from start to ${"convergence"}.`,
        ],
      },
      {
        title: `cluster_200: ${N} daemons, ${Math.round(watchS)} s watch, nothing killed (${PROFILE} profile)`,
        columns: ["measure", "value"],
        rows: [
          ["daemons still running at the end", `${stillRunning} of ${N}`],
          ["nodes counting all N alive at the end", `${endAlive.filter((a) => a === N).length} of ${N}`],
          ["deaths declared during the watch (all nodes, swim_failures)", d("swim_failures")],
          ["suspicions raised / refuted during the watch (all nodes)", `${d("swim_suspicions")} / ${d("swim_refutes")}`],
          ["probes failed during the watch (all nodes)", d("swim_probesFailed")],
          [
            "cluster connections refused per address / refused / evicted during the watch",
            `${d("net_connectionsRefusedPerAddress")} / ${d("net_connectionsRefused")} / ${d("net_connectionsEvicted")}`,
          ],
          [
            "polls that saw a member dead / suspect / fewer than N alive",
            `${seen.filter((w) => w.maxDead > 0).length} / ${seen.filter((w) => w.maxSuspect > 0).length} / ${seen.filter((w) => w.minAlive < N).length} nodes`,
          ],
          ["GET /v1/info polls answered / not answered within 5 s", `${sum(seen.map((w) => w.polls))} / ${sum(seen.map((w) => w.failedPolls))}`],
          ["CPU of all daemons (% of one core)", cpuPct.length ? sum(cpuPct).toFixed(1) : "-"],
          ["CPU per daemon, median / p90 / max (% of one core)", cpuPct.length ? `${pct(cpuPct, 50)} / ${pct(cpuPct, 90)} / ${Math.max(...cpuPct).toFixed(2)}` : "-"],
          ["this bench's own CPU (polling, % of one core)", (((selfCpu.user + selfCpu.system) / 1000 / (watchS * 1000)) * 100).toFixed(1)],
        ],
        notes: [
          `Each node's GET /v1/info every ${WATCH_POLL_MS / 1000} s (spread: ${Math.round(N / (WATCH_POLL_MS / 1000))} requests a second in all): its member counts by status; its counters before and after. CPU from /proc/<pid>/stat (utime+stime) over the window.`,
          neighbours.note(),
        ],
      },
      {
        title: `cluster_200: memory and file descriptors of ${N} daemons (${PROFILE} profile)`,
        columns: ["measure", "sum, start of watch", "sum, end of watch", "per daemon median, end", "per daemon max, end"],
        rows: [
          ["VmRSS (MiB)", mib(sum(fp0.rss)), mib(sum(fp1.rss)), mib(median(fp1.rss)), mib(Math.max(...fp1.rss))],
          ["PSS (MiB)", mib(sum(fp0.pss)), mib(sum(fp1.pss)), mib(median(fp1.pss)), mib(Math.max(...fp1.pss))],
          ["private: Private_Clean + Private_Dirty (MiB)", mib(sum(fp0.priv)), mib(sum(fp1.priv)), mib(median(fp1.priv)), mib(Math.max(...fp1.priv))],
          ["open file descriptors", sum(fp0.fds), sum(fp1.fds), median(fp1.fds), Math.max(...fp1.fds)],
          ...(["net_openConnectionsIn", "net_openConnectionsOut"] as const).map((k) => {
            const [c0, c1] = [before, after].map((all) => all.map((x) => x.info.counters[k] ?? NaN));
            return [`cluster TCP connections open (${k})`, sum(c0!), sum(c1!), median(c1!), Math.max(...c1!)];
          }),
        ],
        notes: [
          "From /proc/<pid>/smaps_rollup (Rss, Pss, Private_*) and /proc/<pid>/fd. The sum of RSS counts the pages the daemons share (the node binary, its libraries) once per daemon; PSS divides them among the sharers (its sum is what the cluster really occupies); private is what stopping a daemon gives back.",
          `File descriptor limit of this bench (inherited by the daemons): soft ${limits.soft}, hard ${limits.hard}. A daemon accepts at most 256 cluster connections (src/net/node_transport.ts DEFAULT_MAX_INBOUND_CONNECTIONS) before it evicts or refuses.`,
        ],
      },
      {
        title: `cluster_200: how busy the host was, by phase (${N} daemons, 2 cores)`,
        columns: ["phase", "samples", "host busy median (% of one core)", "host busy max", "daemons median (% of one core)", "1-min load max"],
        rows: sampler.rows(),
        notes: [
          `Every ${SAMPLE_MS / 1000} s: the host's busy time (/proc/stat user+nice+system+irq+softirq, all cores; 2 cores = 200%) and the daemons' (/proc/<pid>/stat). Load average before the run: ${loadBefore}; the bench waited ${quietWaitS.toFixed(0)} s for a quiet second before starting.`,
        ],
      },
    ];
  } finally {
    sampler.stop();
    await cluster?.close("SIGKILL");
    dir.cleanup();
  }
}
