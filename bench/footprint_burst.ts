/*
 * What a burst of batches leaves behind (issue 18, target 1: a daemon that
 * ran batches must idle like a fresh one). 3 daemons on loopback (lan
 * profile), 8 clients posting batches of 2 checks as fast as the daemons
 * answer for BENCH_BURST_S seconds (default 20), then nothing: each daemon's
 * private memory (/proc smaps_rollup) fresh, right after the burst and every
 * 10 s of idleness up to BENCH_BURST_IDLE_S (default 90), and the heap trims
 * each daemon logged (src/daemon/heap_trim.ts: V8's memory-reducing
 * collection once the event loop is quiet, Node 22 and later).
 *
 * BENCH_NODES=/path/to/node,... runs the same on other Node versions too,
 * each from a tree whose better-sqlite3 is built for it (bench/runtime_tree.ts).
 */
import { type Cluster, postBatch, startCluster } from "../test/support/cluster.js";
import { sleep } from "./cluster_cpu.js";
import { procMemory } from "./proc_memory.js";
import type { BenchSection } from "./report.js";
import { runtimeTree } from "./runtime_tree.js";

const BURST_S = Number(process.env.BENCH_BURST_S ?? 20);
const IDLE_S = Number(process.env.BENCH_BURST_IDLE_S ?? 90);
const CLIENTS = 8;
const BODY = {
  checks: { hostname_file_exists: { type: "file_exists", path: "/etc/hostname" }, os_release_has_id: { type: "file_contains", path: "/etc/os-release", check: "ID=" } },
  timeoutMs: 10_000,
};

interface Trim {
  before: number;
  after: number;
  ms: number;
}

const mib = (kb: number) => (kb / 1024).toFixed(1);
const range = (xs: number[]) => `${mib(Math.min(...xs))}-${mib(Math.max(...xs))}`;

async function burstOn(node: string, tree: ReturnType<typeof runtimeTree> | undefined): Promise<(string | number)[]> {
  const cluster: Cluster = await startCluster(3, { profile: "lan", namePrefix: `burst-${node}-`, args: ["-log-level", "debug"], ...(tree && { runtime: tree }) });
  try {
    const privateKb = () => cluster.nodes.map((n) => procMemory(n.pid).privateKb);
    await sleep(3_000);
    const fresh = privateKb();
    const end = Date.now() + BURST_S * 1000;
    let batches = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (Date.now() < end) await postBatch(cluster.nodes[batches++ % cluster.nodes.length]!.cliAddress, BODY, 30_000);
      }),
    );
    const after = privateKb();
    const idle: number[][] = [];
    for (let s = 10; s <= IDLE_S; s += 10) {
      await sleep(10_000);
      idle.push(privateKb());
      process.stderr.write(`footprint_burst ${node} idle ${s} s: private ${idle.at(-1)!.map(mib).join(" ")} MiB\n`);
    }
    // Each trim's pause ("trimming ...") and what the check after it saw it give back ("... gave memory back").
    const trims: Trim[] = cluster.nodes.flatMap((n) => {
      const lines = n
        .log(10_000_000)
        .split("\n")
        .filter((l) => l.includes("V8's heap"))
        .map((l) => JSON.parse(l) as { msg: string; rssBefore?: number; rssAfter?: number; ms?: number });
      const pauses = lines.filter((j) => j.ms !== undefined).map((j) => j.ms!);
      const given = lines.filter((j) => j.rssAfter !== undefined);
      return pauses.map((ms, i) => ({ ms, before: given[i]?.rssBefore ?? NaN, after: given[i]?.rssAfter ?? NaN }));
    });
    const at = (s: number) => idle[Math.min(idle.length, Math.round(s / 10)) - 1]!;
    return [
      node,
      batches,
      range(fresh),
      range(after),
      range(at(20)),
      range(at(IDLE_S)),
      trims.length,
      trims.length ? trims.map((t) => `${(t.before / 2 ** 20).toFixed(0)}->${(t.after / 2 ** 20).toFixed(0)}`).join(", ") : "-",
      trims.length ? trims.map((t) => t.ms).join(", ") : "-",
    ];
  } finally {
    await cluster.close("SIGKILL");
  }
}

export async function run(): Promise<BenchSection[]> {
  const others = (process.env.BENCH_NODES ?? "").split(",").filter((p) => p !== "" && p !== process.execPath);
  const rows: (string | number)[][] = [];
  rows.push(await burstOn(process.version, undefined));
  for (const bin of others) {
    const tree = runtimeTree(bin);
    try {
      rows.push(await burstOn(tree.version, tree));
    } finally {
      tree.remove();
    }
  }
  return [
    {
      title: `footprint after a burst: 3 daemons, ${BURST_S} s of batches as fast as they answer, then ${IDLE_S} s idle (lan profile)`,
      columns: ["Node", "batches", "private MiB fresh", "right after", "20 s idle", `${IDLE_S} s idle`, "heap trims", "RSS MiB before each -> 10 s later", "each trim's pause ms"],
      rows,
      notes: [
        `${CLIENTS} clients post batches of 2 checks (file_exists, file_contains) to the 3 daemons in turn, each waiting for its batch's last result; private memory is Private_Clean + Private_Dirty from /proc/PID/smaps_rollup, the range over the 3 daemons.`,
        "Heap trims are the daemons' own debug log lines (src/daemon/heap_trim.ts): once the event loop has been quiet for two 10 s checks and the daemon's RSS is 16 MiB above its resting size, one memory-reducing full GC (Node 22 and later; Node 20's V8 shrinks its young generation by itself, and no trim runs there).",
        "Batches stay in each daemon's records for their TTL (60 s), so memory 20 s after the burst still holds them.",
      ],
    },
  ];
}
