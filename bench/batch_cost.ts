/*
 * What one batch costs the cluster (issue 18, target 5), with the burst's
 * fan-out as the variable: two N-node clusters (lan profile) run side by
 * side, one per -gossip-group value, and take batches in turn, so load from
 * elsewhere on the host falls on both alike. Per batch: the round trip to
 * the last result, the CPU of all daemons and per node, the frames each
 * node sends and receives, and how many of them were burst copies the
 * receiver already had.
 *
 * BENCH_BATCH_COST_NODE_BINS=/path/to/node,... compares Node versions instead:
 * one cluster on this process's Node and one per binary given, all with the
 * first -gossip-group of BENCH_BATCH_COST_GROUPS, each with its history
 * store on (bench/runtime_tree.ts gives each Node a better-sqlite3 built for
 * it).
 *
 * BENCH_BATCH_COST_NODE_OPTIONS="|--max-semi-space-size=1" compares Node
 * options instead: one cluster per "|"-separated entry (an empty entry is
 * the daemons as shipped), all on this process's Node with the first
 * -gossip-group. BENCH_BATCH_COST_CHECKS=K puts K file_exists checks in each
 * batch (default 1), to see what the options cost a heavier batch.
 */
import { postBatch, startCluster, type Cluster } from "../test/support/cluster.js";
import { judgeBatch } from "./cluster_batches.js";
import { Neighbours, clusterCpuMs, sleep } from "./cluster_cpu.js";
import { median, waitForAliveCount } from "./cluster_membership.js";
import { percentile, type BenchSection } from "./report.js";
import { runtimeTree } from "./runtime_tree.js";

const NODES = Number(process.env.BENCH_BATCH_COST_NODES ?? 40);
const GROUPS = (process.env.BENCH_BATCH_COST_GROUPS ?? "5,3").split(",").map(Number);
const WARMUP = Number(process.env.BENCH_BATCH_COST_WARMUP ?? 150);
const BATCHES = Number(process.env.BENCH_BATCH_COST_BATCHES ?? 150);
const OTHER_NODES = (process.env.BENCH_BATCH_COST_NODE_BINS ?? "").split(",").filter(Boolean);
const NODE_OPTION_SETS = process.env.BENCH_BATCH_COST_NODE_OPTIONS?.split("|").map((o) => o.trim());
const CHECKS = Math.max(1, Number(process.env.BENCH_BATCH_COST_CHECKS ?? 1));

const BODY = {
  checks: Object.fromEntries(Array.from({ length: CHECKS }, (_, i) => [CHECKS === 1 ? "hostname_file_exists" : `hostname_file_exists_${i}`, { type: "file_exists", path: "/etc/hostname" }])),
  timeoutMs: 10_000,
};

interface Totals {
  cpuMs: number;
  framesOut: number;
  framesIn: number;
  knownSkipped: number;
  bytesOut: number;
}

async function totals(cluster: Cluster): Promise<Totals> {
  const infos = await Promise.all(cluster.nodes.map((n) => n.info()));
  const sum = (key: string) => infos.reduce((a, i) => a + (i.counters[key] ?? NaN), 0);
  return { cpuMs: clusterCpuMs(cluster.nodes), framesOut: sum("net_framesOut"), framesIn: sum("net_framesIn"), knownSkipped: sum("net_knownSkipped"), bytesOut: sum("net_frameBytesOut") };
}

interface Side {
  group: number;
  /** The Node version the side's daemons run on. */
  node: string;
  /** NODE_OPTIONS of the side's daemons, when options are what is compared. */
  options?: string;
  cluster: Cluster;
  tripsMs: number[];
  missing: number;
  cpuMs: number;
  before?: Totals;
  delta?: Totals;
}

/** One batch on a random non-seed node of the side's cluster; records the round trip and whether every node answered. */
async function batch(side: Side, i: number): Promise<void> {
  const node = side.cluster.nodes[1 + (i % (NODES - 1))]!;
  const t0 = clusterCpuMs(side.cluster.nodes);
  const r = await postBatch(node.cliAddress, BODY, 30_000);
  side.cpuMs += clusterCpuMs(side.cluster.nodes) - t0;
  const judged = judgeBatch(r, NODES);
  if (!judged.complete) side.missing++;
  side.tripsMs.push(judged.totalMs);
}

export async function run(): Promise<BenchSection[]> {
  const neighbours = new Neighbours();
  const sides: Side[] = [];
  const trees = OTHER_NODES.map((node) => runtimeTree(node));
  type Variant = { group: number; node: string; runtime?: (typeof trees)[number]; options?: string };
  const variants: Variant[] = NODE_OPTION_SETS
    ? NODE_OPTION_SETS.map((options) => ({ group: GROUPS[0]!, node: process.version, options }))
    : trees.length
      ? [{ group: GROUPS[0]!, node: process.version }, ...trees.map((t) => ({ group: GROUPS[0]!, node: t.version, runtime: t }))]
      : GROUPS.map((group) => ({ group, node: process.version }));
  const by = NODE_OPTION_SETS ? "NODE_OPTIONS" : trees.length ? "Node version" : "-gossip-group";
  try {
    for (const [i, v] of variants.entries()) {
      const cluster = await startCluster(NODES, {
        profile: "lan",
        namePrefix: `g${v.group}-${i}-`,
        args: ["-gossip-group", String(v.group)],
        ...(v.runtime && { runtime: v.runtime }),
        ...(v.options !== undefined && { env: { NODE_OPTIONS: v.options } }),
      });
      sides.push({ group: v.group, node: v.node, ...(v.options !== undefined && { options: v.options }), cluster, tripsMs: [], missing: 0, cpuMs: 0 });
      await waitForAliveCount(cluster.nodes, NODES, 120_000);
    }
    // Past the lan profile's 1 s history-start allowance, then warm V8 up on the batch path (see bench/cluster_batches.ts).
    await sleep(2000);
    for (let i = 0; i < WARMUP; i++) for (const s of sides) await postBatch(s.cluster.nodes[1 + (i % (NODES - 1))]!.cliAddress, BODY, 30_000);
    await neighbours.quiet(sides.flatMap((s) => s.cluster.nodes));
    const window = neighbours.open();
    for (const s of sides) s.before = await totals(s.cluster);
    for (let i = 0; i < BATCHES; i++) for (const s of sides) await batch(s, i);
    // Let the last acknowledgement rounds (200 ms) go out before reading the counters.
    await sleep(500);
    for (const s of sides) {
      const after = await totals(s.cluster);
      s.delta = {
        cpuMs: after.cpuMs - s.before!.cpuMs,
        framesOut: after.framesOut - s.before!.framesOut,
        framesIn: after.framesIn - s.before!.framesIn,
        knownSkipped: after.knownSkipped - s.before!.knownSkipped,
        bytesOut: after.bytesOut - s.before!.bytesOut,
      };
    }
    window(sides.reduce((a, s) => a + s.delta!.cpuMs, 0));
    const per = (s: Side, v: number) => v / BATCHES / NODES;
    return [
      {
        title: `batch cost: N=${NODES} real daemons, ${CHECKS === 1 ? "one file_exists check" : `${CHECKS} file_exists checks`} per batch, by ${by} (lan profile)`,
        columns: [
          "Node",
          ...(NODE_OPTION_SETS ? ["NODE_OPTIONS"] : []),
          "-gossip-group",
          "batches",
          "round trip p50 ms",
          "p99 ms",
          "runs missing a node",
          "cluster CPU ms / batch",
          "CPU ms / node / batch",
          "frames out / node / batch",
          "frames in / node / batch",
          "of them burst copies dropped unopened",
          "KiB out / batch",
        ],
        rows: sides.map((s) => [
          s.node,
          ...(NODE_OPTION_SETS ? [s.options || "(as shipped)"] : []),
          s.group,
          BATCHES,
          median(s.tripsMs).toFixed(0),
          percentile(s.tripsMs, 99).toFixed(0),
          s.missing,
          (s.cpuMs / BATCHES).toFixed(1),
          per(s, s.cpuMs).toFixed(2),
          per(s, s.delta!.framesOut).toFixed(2),
          per(s, s.delta!.framesIn).toFixed(2),
          per(s, s.delta!.knownSkipped).toFixed(2),
          (s.delta!.bytesOut / BATCHES / 1024).toFixed(1),
        ]),
        notes: [
          `The clusters run side by side and take batches in turn (${WARMUP} warm-up batches each first), each submitted to a non-seed node in turn; CPU is every daemon's /proc utime+stime around each batch's POST, from writing it to the stream's end (so it includes the origin streaming results, not the acknowledgement round that follows).`,
          "Frames are TCP frames of the cluster transport (burst pushes, replies to the origin, acknowledgements, repairs), counted by every daemon; a burst copy of an envelope the receiver already holds is read and dropped unopened (net_knownSkipped).",
          ...(trees.length ? [`Node versions: the same build; each Node's daemons load a better-sqlite3 built for its ABI (bench/runtime_tree.ts), so every side writes its history store.`] : []),
          neighbours.note(),
        ],
      },
    ];
  } finally {
    await Promise.all(sides.map((s) => s.cluster.close("SIGKILL")));
    for (const t of trees) t.remove();
  }
}
