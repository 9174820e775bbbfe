/*
 * Scale in simulation (issue 18, target 6): the same cluster measured at
 * N = 100, 1,000 and 10,000 (BENCH_SIM_SCALE_SIZES="100,1000" picks
 * others). Each size is one seeded run of the real SWIM + Disseminator
 * stacks on a MemoryNetwork with a VirtualClock (bench/sim.ts's Stack):
 *
 *   1. all N join through one seed at the same instant: virtual ms until
 *      99.9% and until 100% of the nodes list all N alive (above
 *      BENCH_SIM_SCALE_STORM_MAX, default 3,000, the cluster is pre-formed
 *      instead: Stack.preform; the storm's CPU grows like N^2.5);
 *   2. heap per simulated node after a full GC, once converged;
 *   3. the steady state: UDP packets + TCP frames and their bytes per node
 *      per virtual second over a fixed window (must stay flat in N);
 *   4. batches: until every node ran one and until every reply is back;
 *   5. one node silenced: until every other member declared it dead.
 *
 * Times are virtual (repeatable from the seed); "wall s" is what the run
 * cost this machine. BENCH_SIM_SCALE_WALL_S (default 600) bounds one
 * size's join phase in wall seconds, and BENCH_SIM_SCALE_MAX_RSS_MIB
 * (default: 80% of the host's memory) its resident memory: past either the
 * row says how far it got, instead of the host thrashing.
 */
import { totalmem } from "node:os";
import { performance } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import { lanConfig } from "../src/swim/config.js";
import { pushPullScale, suspicionTimeoutMs } from "../src/swim/scale.js";
import { percentile, type BenchSection } from "./report.js";
import { memory, runBatches, Stack } from "./sim.js";

/** Virtual ms allowed for the join before the row gives up. */
const JOIN_LIMIT_MS = 120_000;
/** Virtual ms between convergence checks during the join (the resolution of the join times). */
const JOIN_STEP_MS = 10;
/** Virtual ms after convergence before the steady window: the join's updates drain. */
const SETTLE_MS = 30_000;
const BATCHES = 3;
/** Virtual ms of silence after which a row gives up on the death notice. */
const DEATH_LIMIT_MS = 120_000;

interface ScaleRow {
  n: number;
  join999Ms: number;
  joinAllMs: number;
  /** Fraction of nodes that listed all N alive when the row stopped waiting. */
  joinedFraction: number;
  heapPerNodeKiB: number;
  heapTotalMiB: number;
  messagesPerNodeSec: number;
  bytesPerNodeSec: number;
  /** Of bytesPerNodeSec, the TCP frames (push-pulls carrying the whole member list). */
  tcpBytesPerNodeSec: number;
  batchReachMs: number[];
  batchDoneMs: number[];
  batchIncomplete: number;
  deathAllMs: number;
  deathFirstMs: number;
  wallS: number;
  /** Formed by Stack.preform, not by a join storm: no join times. */
  preformed: boolean;
  note: string;
}

export async function run(): Promise<BenchSection[]> {
  const sizes = (process.env.BENCH_SIM_SCALE_SIZES ?? "100,1000,10000").split(",").map((s) => Number(s.trim()));
  for (const n of sizes) if (!Number.isInteger(n) || n < 10) throw new Error(`sim_scale: BENCH_SIM_SCALE_SIZES holds "${n}"; give whole numbers of at least 10, comma-separated`);
  const wallLimitS = Number(process.env.BENCH_SIM_SCALE_WALL_S ?? 600);
  const rssLimitMiB = Number(process.env.BENCH_SIM_SCALE_MAX_RSS_MIB ?? Math.floor((0.8 * totalmem()) / 2 ** 20));
  if (!(rssLimitMiB > 0)) throw new Error(`sim_scale: BENCH_SIM_SCALE_MAX_RSS_MIB is "${process.env.BENCH_SIM_SCALE_MAX_RSS_MIB}"; give MiB as a positive number`);
  const stormMax = Number(process.env.BENCH_SIM_SCALE_STORM_MAX ?? 3000);
  if (!(stormMax >= 0)) throw new Error(`sim_scale: BENCH_SIM_SCALE_STORM_MAX is "${process.env.BENCH_SIM_SCALE_STORM_MAX}"; give a node count`);
  const rows: ScaleRow[] = [];
  for (const n of sizes) rows.push(await scaleRow(n, wallLimitS, rssLimitMiB, stormMax));
  return [section(rows, wallLimitS, stormMax)];
}

async function scaleRow(n: number, wallLimitS: number, rssLimitMiB: number, stormMax: number): Promise<ScaleRow> {
  const wall0 = performance.now();
  const wallS = () => (performance.now() - wall0) / 1000;
  const cpu0 = process.cpuUsage();
  const cpuS = () => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1e6;
  };
  const row: ScaleRow = {
    n,
    join999Ms: -1,
    joinAllMs: -1,
    joinedFraction: 0,
    heapPerNodeKiB: 0,
    heapTotalMiB: 0,
    messagesPerNodeSec: 0,
    bytesPerNodeSec: 0,
    tcpBytesPerNodeSec: 0,
    batchReachMs: [],
    batchDoneMs: [],
    batchIncomplete: 0,
    deathAllMs: -1,
    deathFirstMs: -1,
    wallS: 0,
    preformed: false,
    note: "",
  };
  // Every node lists every member: N^2 entries of about 80 bytes, plus
  // about 30 KiB of stack per node, and half again for the garbage of the
  // exchanges. Past V8's heap limit the process would die mid-row.
  const needMiB = Math.ceil((1.5 * (n * n * 80 + n * 30 * 1024)) / 2 ** 20);
  const limitMiB = Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20);
  if (needMiB > limitMiB) {
    row.note = `not run: needs about ${needMiB} MiB of heap, V8's limit is ${limitMiB} MiB; run with NODE_OPTIONS=--max-old-space-size=${Math.ceil(needMiB / 1024) * 1024} on a host with that much memory free.`;
    console.error(`sim_scale: N=${n} ${row.note}`);
    return row;
  }
  const baseline = memory();
  const stack = new Stack(n);
  if (n > stormMax) {
    const took = await stack.preform(n);
    row.preformed = true;
    row.note = `pre-formed (every node listed all ${n} after ${took} virtual ms): no join storm above BENCH_SIM_SCALE_STORM_MAX=${stormMax}. `;
  } else if (!(await stormJoin(stack, row, wallS, cpuS, wallLimitS, rssLimitMiB))) {
    row.wallS = wallS();
    await stack.shutdown();
    return row;
  }
  const mem = memory();
  row.heapTotalMiB = mem.heap / 2 ** 20;
  row.heapPerNodeKiB = (mem.heap - baseline.heap) / n / 1024;
  console.error(
    `sim_scale: N=${n} ${row.preformed ? "pre-formed" : "joined"}: heap per node ${row.heapPerNodeKiB.toFixed(1)} KiB, RSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB, wall ${wallS().toFixed(0)} s, CPU ${cpuS().toFixed(0)} s`,
  );

  await stack.clock.advance(SETTLE_MS);
  // One push-pull period: each node starts exactly one full-state exchange
  // in it, so the window holds the TCP share too (a shorter one can miss it).
  const steadyMs = pushPullScale(lanConfig().pushPullIntervalMs, n);
  const net = stack.cluster.net.stats;
  const before = { ...net };
  await stack.clock.advance(steadyMs);
  const perNodeSec = (x: number) => x / n / (steadyMs / 1000);
  row.messagesPerNodeSec = perNodeSec(net.packets - before.packets + net.messages - before.messages + net.requests - before.requests);
  row.bytesPerNodeSec = perNodeSec(net.packetBytes - before.packetBytes + net.frameBytes - before.frameBytes);
  row.tcpBytesPerNodeSec = perNodeSec(net.frameBytes - before.frameBytes);
  console.error(
    `sim_scale: N=${n} steady window done: ${row.messagesPerNodeSec.toFixed(2)} messages and ${Math.round(row.bytesPerNodeSec)} bytes (TCP ${row.tcpBytesPerNodeSec.toFixed(1)}) per node per s, wall ${wallS().toFixed(0)} s, CPU ${cpuS().toFixed(0)} s`,
  );

  const batches = await runBatches(stack, BATCHES);
  row.batchReachMs = batches.reachMs;
  row.batchDoneMs = batches.doneMs;
  row.batchIncomplete = batches.incomplete;
  console.error(
    `sim_scale: N=${n} batches done: reached all ${row.batchReachMs.join(",")} ms, replies back ${row.batchDoneMs.join(",")} ms, ${row.batchIncomplete} incomplete, wall ${wallS().toFixed(0)} s, CPU ${cpuS().toFixed(0)} s`,
  );

  const death = await silenceOne(stack);
  row.deathFirstMs = death.firstMs;
  row.deathAllMs = death.allMs;
  row.wallS = wallS();
  await stack.shutdown();
  console.error(`sim_scale: N=${n} done: silenced node dead at first ${row.deathFirstMs} ms, at all ${row.deathAllMs} ms, wall ${row.wallS.toFixed(0)} s, CPU ${cpuS().toFixed(0)} s`);
  return row;
}

/**
 * All N-1 nodes join through the first at the same instant; fills in the
 * row's join times. False when the join did not finish within the bounds
 * (the row's note says how far it got).
 */
async function stormJoin(stack: Stack, row: ScaleRow, wallS: () => number, cpuS: () => number, wallLimitS: number, rssLimitMiB: number): Promise<boolean> {
  const { n } = row;
  const refused = await stack.startJoin(n);
  const start = stack.clock.now();
  const need999 = Math.ceil(0.999 * n);
  let lastLog = 0;
  let rssStop = 0;
  const joined = () => {
    let full = 0;
    for (const m of stack.names) {
      const c = stack.cluster.must(m).swim.statusCounts();
      if (c.alive === n && c.suspect === 0) full++;
    }
    return full;
  };
  // Counts only: alive === N on every node means each lists every node
  // alive (the cluster has no other members); the pairwise check of sim.ts
  // costs N^2 lookups, too much at 10,000.
  await stack.clock.runUntil(
    () => {
      const full = joined();
      row.joinedFraction = full / n;
      const now = stack.clock.now() - start;
      if (row.join999Ms < 0 && full >= need999) row.join999Ms = now;
      if (full === n) row.joinAllMs = now;
      if (wallS() - lastLog >= 30) {
        lastLog = wallS();
        console.error(
          `sim_scale: N=${n} join at virtual ${now} ms: ${full} of ${n} list all, wall ${wallS().toFixed(0)} s, CPU ${cpuS().toFixed(0)} s, heap ${(getHeapStatistics().used_heap_size / 2 ** 20).toFixed(0)} MiB, RSS ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MiB`,
        );
      }
      const rssMiB = process.memoryUsage.rss() / 2 ** 20;
      if (rssMiB > rssLimitMiB) rssStop = rssMiB;
      return full === n || wallS() > wallLimitS || rssStop > 0;
    },
    JOIN_LIMIT_MS,
    JOIN_STEP_MS,
  );
  if (refused() > 0) row.note = `${refused()} joins refused. `;
  console.error(`sim_scale: N=${n} join: 99.9% at ${row.join999Ms} ms, 100% at ${row.joinAllMs} ms (virtual; -1: not reached), wall ${wallS().toFixed(0)} s, CPU ${cpuS().toFixed(0)} s`);
  if (row.joinAllMs >= 0) return true;
  const why = rssStop > 0 ? `resident memory ${rssStop.toFixed(0)} MiB passed the limit of ${rssLimitMiB} MiB` : `wall limit ${wallLimitS} s or virtual limit ${JOIN_LIMIT_MS} ms`;
  row.note += `join stopped at virtual ${stack.clock.now() - start} ms with ${(100 * row.joinedFraction).toFixed(1)}% of nodes listing all (${why}).`;
  return false;
}

/** Silences one random non-seed node; virtual ms until the first and until every other member declared it dead (-1 if not within DEATH_LIMIT_MS). */
async function silenceOne(stack: Stack): Promise<{ firstMs: number; allMs: number }> {
  const sim = stack.cluster;
  const names = stack.names;
  const victim = names[1 + sim.random.int(names.length - 1)]!;
  const failedAt = new Map<string, number>();
  const offs: (() => void)[] = [];
  for (const m of names) {
    if (m === victim) continue;
    offs.push(
      sim.must(m).swim.onEvent((e) => {
        if (e.member.name === victim && e.type === "fail" && !failedAt.has(m)) failedAt.set(m, sim.clock.now());
      }),
    );
  }
  const silencedAt = sim.clock.now();
  sim.net.silence(sim.must(victim).address);
  const took = await sim.runUntil(() => failedAt.size === names.length - 1, DEATH_LIMIT_MS, 20);
  for (const off of offs) off();
  if (took < 0) return { firstMs: -1, allMs: -1 };
  const times = [...failedAt.values()].map((t) => t - silencedAt);
  return { firstMs: Math.min(...times), allMs: Math.max(...times) };
}

function section(rows: ScaleRow[], wallLimitS: number, stormMax: number): BenchSection {
  const cfg = lanConfig();
  const ms = (x: number) => (x < 0 ? "-" : x.toFixed(0));
  const perLog = (x: number, n: number) => (x < 0 ? "-" : (x / Math.log2(n)).toFixed(0));
  return {
    title: "sim_scale: one seeded cluster per size, join, steady cost, batches, a silenced node (lan profile, virtual ms)",
    columns: [
      "N",
      "log2 N",
      "join 99.9% / 100%",
      "100% / log2 N",
      "batch reached all p50 / max",
      "all replies back p50 / max",
      "replies / log2 N",
      "silenced: first / all declared dead",
      "all dead / log2 N",
      "min suspicion",
      "messages/node/s",
      "bytes/node/s (of it TCP)",
      "heap per node KiB (total MiB)",
      "wall s",
    ],
    rows: rows.map((r) => {
      const reach50 = r.batchReachMs.length ? percentile(r.batchReachMs, 50) : -1;
      const done50 = r.batchDoneMs.length ? percentile(r.batchDoneMs, 50) : -1;
      return [
        r.n,
        Math.log2(r.n).toFixed(1),
        r.preformed ? "pre-formed" : `${ms(r.join999Ms)} / ${ms(r.joinAllMs)}`,
        perLog(r.joinAllMs, r.n),
        r.batchReachMs.length ? `${ms(reach50)} / ${ms(Math.max(...r.batchReachMs))}` : "-",
        r.batchDoneMs.length ? `${ms(done50)} / ${ms(Math.max(...r.batchDoneMs))}${r.batchIncomplete ? ` (+${r.batchIncomplete} incomplete)` : ""}` : "-",
        done50 < 0 ? "-" : (done50 / Math.log2(r.n)).toFixed(2),
        `${ms(r.deathFirstMs)} / ${ms(r.deathAllMs)}`,
        perLog(r.deathAllMs, r.n),
        suspicionTimeoutMs(cfg.suspicionMult, r.n, cfg.probeIntervalMs),
        r.batchReachMs.length ? r.messagesPerNodeSec.toFixed(2) : "-",
        r.batchReachMs.length ? `${Math.round(r.bytesPerNodeSec)} (${r.tcpBytesPerNodeSec < 10 ? r.tcpBytesPerNodeSec.toFixed(1) : Math.round(r.tcpBytesPerNodeSec)})` : "-",
        r.heapTotalMiB > 0 ? `${r.heapPerNodeKiB.toFixed(1)} (${r.heapTotalMiB.toFixed(0)})` : "-",
        r.wallS.toFixed(0) + (r.note ? ` (${r.note.trim()})` : ""),
      ];
    }),
    notes: [
      `One seeded run per size (seed = N). Network: 1 ms one way + up to 1 ms jitter, no loss; lan membership (probe ${cfg.probeIntervalMs} ms, gossip ${cfg.gossipIntervalMs} ms), default gossip config. Join: all N-1 join through one seed at the same instant; checked every ${JOIN_STEP_MS} ms of virtual time; a node counts once it lists all N alive and none suspect. Above ${stormMax} nodes (BENCH_SIM_SCALE_STORM_MAX) the cluster is pre-formed instead: each node gets the complete member list in one join push-pull from an address that is not a member, the state a finished join leaves, because the storm's full-state exchanges cost about N^2.5 of CPU (about 2 hours of one core at 10,000).`,
      `Steady state: ${SETTLE_MS / 1000} s after convergence, a window of one push-pull period (30 s x pushPullScale: 90 s at 100, 180 s at 1,000, 300 s at 10,000) with nothing published; messages = UDP packets + TCP one-way frames + TCP requests, bytes = their bodies as encoded (no encryption overhead), per node per virtual second.`,
      `Batches: ${BATCHES} in a row from different origins, each expecting every node (bench/sim.ts's runBatches). Silenced: a random non-seed node neither sends nor receives; until the first and until every other member declared it dead (-1 / "-": not within ${DEATH_LIMIT_MS / 1000} s).`,
      `Heap per node: (heap after a full GC once converged - heap before the cluster) / N. Wall s: the whole row on this machine (join, windows, batches, silence); a join still running after ${wallLimitS} s of wall time is stopped and the row says how far it got.`,
    ],
  };
}
