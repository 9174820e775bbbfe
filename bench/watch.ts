/*
 * `gcheck status` on a real 40-daemon cluster (issue 14): every node runs a
 * cluster-wide schedule of 10 checks at a 10 s interval; the question goes
 * to every node through the dissemination layer (a HISTORY_QUERY envelope)
 * and the answers come back to the asking daemon. Measured: the whole
 * `gcheck status` process (spawn to exit) and the control API alone (POST
 * /v1/status to the stream's end), p50 and p90; and the daemons' CPU while
 * the schedule runs and nothing else happens.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startCluster } from "../test/support/cluster.js";
import { runGcheck, tempDir } from "../test/support/proc.js";
import { clusterCpuMs, sleep } from "./cluster_cpu.js";
import { waitForAliveCount } from "./cluster_membership.js";
import { percentile, type BenchSection } from "./report.js";

const N = Number(process.env.BENCH_WATCH_NODES ?? 40);
const RUNS = Number(process.env.BENCH_WATCH_RUNS ?? 20);
const CPU_WINDOW_MS = 30_000;

async function statusViaApi(cli: string): Promise<{ ms: number; answers: number }> {
  const started = performance.now();
  const res = await fetch(`http://${cli}/v1/status`, { method: "POST", body: JSON.stringify({ timeoutMs: 10_000 }) });
  const text = await res.text();
  const answers = text.split("\n").filter((l) => l.includes('"type":"answer"')).length;
  return { ms: performance.now() - started, answers };
}

export async function run(): Promise<BenchSection[]> {
  const dir = tempDir("gc-bench-watch-");
  const cluster = await startCluster(N, { profile: "lan", namePrefix: "w-" });
  try {
    await waitForAliveCount(cluster.nodes, N, 90_000);
    const checks: Record<string, unknown> = {};
    for (let i = 0; i < 10; i++) checks[`c${i}`] = { type: "file_exists", path: i % 2 ? "/etc/hostname" : "/tmp", interval: "10s", splay: "10s" };
    const file = join(dir.path, "schedule.json");
    writeFileSync(file, JSON.stringify(checks));
    const set = await runGcheck(["-server", cluster.seed.cliAddress, "-file", file, "schedule", "set", "-name", "bench"]);
    if (set.code !== 0) throw new Error(`gcheck schedule set: ${set.stderr}`);
    // Every node has run every check once (the first run falls within interval + splay).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await runGcheck(["-server", cluster.seed.cliAddress, "status", "-output", "json"]);
      if (r.code === 0 && (r.stdout.match(/"status": ?"pass"/g)?.length ?? 0) >= N * 10) break;
      if (Date.now() > deadline) throw new Error(`the schedule did not run everywhere within 60 s: ${r.stdout.slice(0, 400)} ${r.stderr}`);
      await sleep(1000);
    }
    const cpu0 = clusterCpuMs(cluster.nodes);
    const t0 = performance.now();
    await sleep(CPU_WINDOW_MS);
    const cpuPerNodePct = ((clusterCpuMs(cluster.nodes) - cpu0) / (performance.now() - t0) / N) * 100;

    const api: number[] = [];
    const whole: number[] = [];
    const bare: number[] = [];
    let short = 0;
    for (let i = 0; i < RUNS; i++) {
      const node = cluster.nodes[i % N]!;
      const a = await statusViaApi(node.cliAddress);
      if (a.answers < N) short++;
      api.push(a.ms);
      const started = performance.now();
      const g = await runGcheck(["-server", node.cliAddress, "status"]);
      whole.push(performance.now() - started);
      if (g.code !== 0) short++;
      const helpStarted = performance.now();
      await runGcheck(["-help"]);
      bare.push(performance.now() - helpStarted);
    }
    const row = (what: string, v: number[]) => [what, percentile(v, 50).toFixed(1), percentile(v, 90).toFixed(1), Math.max(...v).toFixed(1)];
    return [
      {
        title: `gcheck status on ${N} daemons (lan profile, loopback), each running a schedule of 10 checks at 10 s`,
        columns: ["measurement", "p50 ms", "p90 ms", "max ms"],
        rows: [row("POST /v1/status to the last answer", api), row("whole gcheck status process", whole), row("gcheck -help process (start-up alone, no request)", bare)],
        notes: [
          `Target: p50 under 100 ms. ${RUNS} runs each, asked of a different node each time; runs with fewer than ${N} answers or a non-zero exit: ${short}.`,
          `Daemon CPU while only the schedule runs (${CPU_WINDOW_MS / 1000} s window): ${cpuPerNodePct.toFixed(2)}% of one core per node (10 checks / 10 s each, membership and gossip included).`,
          "The whole-process time includes starting Node and gcheck, which the -help row measures alone: the API row is the cluster's part.",
        ],
      },
    ];
  } finally {
    await cluster.close("SIGKILL");
    dir.cleanup();
  }
}
