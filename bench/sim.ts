/**
 * Large in-process simulations (DESIGN "Numbers to reach"): the real SWIM
 * (src/swim) and dissemination (src/gossip) code, one stack per node, on one
 * MemoryNetwork with a VirtualClock and seeded randomness. Times in the
 * tables are virtual (what the protocol would take on a network with the
 * stated latency); "real s" and "CPU s" are what the simulation cost this
 * machine. Every run is bounded in virtual time and repeatable from its seed.
 *
 *   1. 1000 nodes join through one seed at the same moment: time until every
 *      node lists every node alive; CPU; RSS and heap once converged.
 *   2. idle protocol cost in the steady 1000-node cluster, per node per second.
 *   3. a batch published at one node until it ran everywhere and every reply
 *      is back at the origin, at N = 100, 300, 1000 (grows like log N), with
 *      the frames and bytes it cost per node.
 *   4. failure detection (lan profile) at N = 40 and 100 against the bound
 *      from the config, and 10 minutes of 10% packet loss at N = 100.
 */
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { pb } from "../src/proto/index.js";
import { decodeCheckBatch, encodeCheckBatch } from "../src/checks/codec.js";
import { SeededRandom } from "../src/base/random.js";
import { defaultGossipConfig } from "../src/gossip/config.js";
import { type Disseminator, type ReplyBody } from "../src/gossip/disseminator.js";
import { idToHex, type Envelope } from "../src/gossip/envelope.js";
import { lanConfig, type SwimConfig } from "../src/swim/config.js";
import { pushPullScale, suspicionTimeoutMs } from "../src/swim/scale.js";
import { SimCluster } from "../src/swim/simulation.js";
import { percentile, type BenchSection } from "./report.js";
import { buildNodeStack } from "../src/stack/node_stack.js";
import { Channel, type Transport } from "../src/net/transport.js";
import { encodePushPull } from "../src/swim/codec.js";

/** One-way latency of every packet and frame (ms), plus uniform jitter (ms). */
const LATENCY_MS = 1;
const JITTER_MS = 1;
const BIG_N = 1000;
const LATENCY_SIZES = [100, 300, BIG_N];
const BATCHES_PER_SIZE = 10;
/** Virtual time between two batches (ms): reply retries settle, the batches do not overlap. */
const BATCH_GAP_MS = 2000;
const JOIN_LIMIT_MS = 60_000;
const BATCH_LIMIT_MS = 30_000;
const DETECTION_TRIALS = 10;
const LOSS_MINUTES = 10;

export async function run(): Promise<BenchSection[]> {
  const big = await bigCluster();
  const latency: BatchRow[] = [];
  for (const n of LATENCY_SIZES.filter((n) => n !== BIG_N)) latency.push(await batchesAt(n));
  latency.push(big.batches);
  return [big.join, big.idle, batchSection(latency), await detectionSection(), await lossSection()];
}

// ---------------------------------------------------------------- the stack

/**
 * SWIM and a Disseminator per node, wired as the daemon wires them: SWIM's
 * push-pull carries the gossip layer's live IDs through a delegate. The
 * CHECK_BATCH consumer decodes the batch and answers with one pass per check
 * without evaluating anything (the checks benchmark measures evaluation),
 * and records when each batch reached all N nodes.
 */
export class Stack {
  readonly cluster: SimCluster;
  readonly gossips = new Map<string, Disseminator>();
  readonly names: string[] = [];
  /** batch id hex -> the virtual ms of each consumption, in order. */
  private readonly reach = new Map<string, number[]>();
  private expectedNodes = 0;

  constructor(
    private readonly seed: number,
    config: SwimConfig = lanConfig(),
  ) {
    this.cluster = new SimCluster({ seed, config, latencyMs: LATENCY_MS, jitterMs: JITTER_MS, recordEvents: false });
  }

  get clock() {
    return this.cluster.clock;
  }

  async add(name: string): Promise<void> {
    let added: { transport: Transport } | undefined;
    const { gossip } = buildNodeStack(
      (delegate) => (added = this.cluster.add(name, { delegate })).swim,
      () => ({ transport: added!.transport, clock: this.clock, random: new SeededRandom(this.seed * 7919 + this.names.length), config: defaultGossipConfig() }),
    );
    gossip.onEnvelope(pb.EnvelopeKind.CHECK_BATCH, async (env) => this.consume(name, env));
    await gossip.start();
    this.gossips.set(name, gossip);
    this.names.push(name);
  }

  /**
   * Adds n nodes; all but the first join through the first at the same
   * instant. Resolves with the virtual ms until every node lists every node
   * alive, or -1 when that took longer than maxMs.
   */
  async joinStorm(n: number, maxMs: number): Promise<number> {
    const refused = await this.startJoin(n);
    // The cheap per-node count first; the pairwise check only once it holds.
    const took = await this.clock.runUntil(() => this.names.every((m) => this.cluster.must(m).swim.statusCounts().alive === n) && this.cluster.agree(this.names), maxMs, 10);
    if (refused() > 0) throw new Error(`sim: ${refused()} of ${n - 1} joins were refused`);
    return took;
  }

  /**
   * Adds n nodes and starts all but the first joining through the first at
   * this instant, without advancing time. Returns a reader of the number
   * of joins refused so far.
   */
  async startJoin(n: number): Promise<() => number> {
    for (let i = 0; i < n; i++) await this.add(`n${i}`);
    this.expectedNodes = n;
    const seedAddress = this.cluster.must(this.names[0]!).address;
    let refused = 0;
    for (const name of this.names.slice(1))
      this.cluster
        .must(name)
        .swim.join([seedAddress])
        .catch(() => refused++);
    return () => refused;
  }

  /**
   * Adds n nodes and gives each the complete member list in one join
   * push-pull, all at the same instant, from an address that is not a
   * member and goes away afterwards: the state a finished join storm leaves
   * (every node lists every node alive, nothing queued for gossip), without
   * the storm, whose full-state exchanges cost about N^2 (bench/sim_scale.ts).
   * Each node decodes and merges the list through its own push-pull code.
   * Resolves with the virtual ms until every node listed all n; throws if a
   * node's join push-pull failed.
   */
  async preform(n: number): Promise<number> {
    for (let i = 0; i < n; i++) await this.add(`n${i}`);
    this.expectedNodes = n;
    const members = this.names.map((name) => {
      const self = this.cluster.must(name).swim.member(name)!;
      return { name, address: self.address, incarnation: self.incarnation, status: pb.MemberStatus.ALIVE, tags: self.tags };
    });
    const list = encodePushPull({ from: "formation", join: true, members, userState: new Uint8Array(0) });
    const formation = this.cluster.net.transport("formation:7946");
    formation.onRequest(Channel.Swim, async () => list);
    let failed: unknown = null;
    for (const name of this.names)
      this.cluster
        .must(name)
        .swim.joinOnce(formation.address)
        .catch((err: unknown) => (failed ??= err));
    const took = await this.clock.runUntil(() => failed !== null || this.names.every((m) => this.cluster.must(m).swim.statusCounts().alive === n), 60_000, 10);
    await formation.close();
    if (failed !== null) throw new Error(`sim: a node's push-pull with the formation address failed: ${String(failed)}`);
    if (took < 0) throw new Error(`sim: ${n} pre-formed nodes did not all list ${n} alive within 60 s`);
    return took;
  }

  /** Sum of a per-node counter over the cluster. */
  sum(f: (name: string) => number): number {
    let total = 0;
    for (const name of this.names) total += f(name);
    return total;
  }

  /** Gossip requests sent so far: every transport request except SWIM's push-pulls. */
  gossipRequests(): number {
    return this.sum((m) => {
      const node = this.cluster.must(m);
      const c = node.transport.counters();
      return c.requestsOut! - node.swim.counters().pushPulls! + c.messagesOut!;
    });
  }

  /** Gossip bytes so far: request and reply bodies, each counted once by its sender. */
  gossipBytes(): number {
    return this.sum((m) => this.gossips.get(m)!.counters().bytesSent);
  }

  consumedCount(idHex: string): number {
    return this.reach.get(idHex)?.length ?? 0;
  }

  /** Virtual ms at which the batch had been consumed by `fraction` of the expected nodes; -1 if not yet. */
  reachedAtMs(idHex: string, fraction: number): number {
    const times = this.reach.get(idHex) ?? [];
    const needed = Math.ceil(fraction * this.expectedNodes);
    return times.length >= needed ? times[needed - 1]! : -1;
  }

  async shutdown(): Promise<void> {
    for (const g of this.gossips.values()) await g.stop();
    this.cluster.shutdown();
  }

  private async consume(name: string, env: Envelope): Promise<ReplyBody> {
    const id = idToHex(env.id);
    const times = this.reach.get(id) ?? [];
    this.reach.set(id, times);
    times.push(this.clock.now());
    const batch = decodeCheckBatch(env.payload);
    if (!batch.ok) return { rejected: batch.errors.join("; ") };
    return {
      checks: {
        results: batch.batch.checks.map((c) => ({ name: c.name, type: c.type, status: pb.CheckStatus.PASS, message: `simulated pass on ${name}` })),
      },
    };
  }
}

/** The three checks of the original gossipcheck README, as a batch payload. */
const BATCH_PAYLOAD = encodeCheckBatch({
  checks: [
    { name: "resolv_has_8888", type: "file_contains", path: "/etc/resolv.conf", check: "8.8.8.8", action: "echo 8.8.8.8 >> /etc/resolv.conf" },
    { name: "syslog_pidfile_exists", type: "file_exists", path: "/var/run/syslog.pid", action: "shutdown -r now" },
    { name: "check_nginx_running", type: "process_running", path: "/usr/bin/nginx", action: "service nginx restart" },
  ],
  dryRun: false,
  targetNodes: [],
  targetTags: {},
});

// ------------------------------------------------------ 1000 nodes: join, idle

async function bigCluster(): Promise<{ join: BenchSection; idle: BenchSection; batches: BatchRow }> {
  const baseline = memory();
  const stack = new Stack(1000);
  const cost = startCost();
  const took = await stack.joinStorm(BIG_N, JOIN_LIMIT_MS);
  const joinCost = cost();
  const converged = memory();
  const catchUps = stack.sum((m) => stack.cluster.must(m).swim.counters().catchUpPulls!);
  const join: BenchSection = {
    title: `sim: ${BIG_N} nodes join through one seed at the same moment (lan profile, in one process)`,
    columns: ["nodes", "converged after (virtual ms)", "catch-up pulls", "real s", "CPU s", "RSS MiB", "heap MiB", "heap per node KiB"],
    rows: [
      [
        BIG_N,
        took < 0 ? `not within ${JOIN_LIMIT_MS}` : took,
        catchUps,
        secs(joinCost.wallMs),
        secs(joinCost.cpuMs),
        mib(converged.rss),
        mib(converged.heap),
        ((converged.heap - baseline.heap) / BIG_N / 1024).toFixed(1),
      ],
    ],
    notes: [
      `"Converged": every node lists all ${BIG_N} alive and none suspect (checked every 10 ms of virtual time). Network: ${LATENCY_MS} ms one way + up to ${JITTER_MS} ms jitter, no loss.`,
      "Each node is a full stack: SWIM + Disseminator. Memory after a full GC, once converged; per node = (heap now - heap before the cluster) / N.",
    ],
  };

  // Let the join's updates drain from the broadcast queues, then measure a
  // window as long as one push-pull period at this size.
  await stack.clock.advance(30_000);
  const idle = await idleCost(stack);
  const batches = await runBatches(stack);
  await stack.shutdown();
  return { join, idle, batches };
}

async function idleCost(stack: Stack): Promise<BenchSection> {
  const n = stack.names.length;
  const windowMs = pushPullScale(lanConfig().pushPullIntervalMs, n);
  const net = stack.cluster.net.stats;
  const before = { ...net };
  const pushPulls = () => stack.sum((m) => stack.cluster.must(m).swim.counters().pushPulls!);
  const pushPullsBefore = pushPulls();
  const rssBefore = memory();
  const cost = startCost();
  await stack.clock.advance(windowMs);
  const spent = cost();
  const rssAfter = memory();
  const perNodeSec = (x: number) => x / n / (windowMs / 1000);
  const failures = stack.sum((m) => stack.cluster.must(m).swim.counters().failures!);
  return {
    title: `sim: idle protocol cost in a steady ${n}-node cluster (lan profile)`,
    columns: [
      "window (virtual s)",
      "UDP packets/node/s",
      "UDP bytes/node/s",
      "TCP exchanges/node/s",
      "TCP bytes/node/s",
      "sim CPU per node per virtual s (us)",
      "RSS MiB before / after",
      "heap MiB before / after",
      "real s",
    ],
    rows: [
      [
        windowMs / 1000,
        perNodeSec(net.packets - before.packets).toFixed(2),
        Math.round(perNodeSec(net.packetBytes - before.packetBytes)),
        perNodeSec(pushPulls() - pushPullsBefore).toFixed(4),
        Math.round(perNodeSec(net.frameBytes - before.frameBytes)),
        Math.round((spent.cpuMs * 1000) / n / (windowMs / 1000)),
        `${mib(rssBefore.rss)} / ${mib(rssAfter.rss)}`,
        `${mib(rssBefore.heap)} / ${mib(rssAfter.heap)}`,
        secs(spent.wallMs),
      ],
    ],
    notes: [
      `Window: one push-pull period at N=${n} (30 s scaled by pushPullScale), 30 s after convergence; nothing published, so gossip is silent (no live envelopes to advertise). Members declared dead during it: ${failures}.`,
      "UDP: probes (ping + ack, one per node per second) and gossip rounds with piggybacked updates; sent packets, bytes as encoded (no encryption overhead). TCP: periodic push-pulls, each a digest of the member table and an answer (full lists only when two tables differ).",
      "sim CPU per node: CPU of this process over the window divided by N and by virtual seconds. It includes the simulator (timer heap, copies), so it is an upper bound on the protocol's own idle CPU per daemon.",
    ],
  };
}

// ------------------------------------------------------------------ batches

export interface BatchRow {
  n: number;
  reach99Ms: number[];
  reachMs: number[];
  doneMs: number[];
  incomplete: number;
  exactlyOnce: boolean;
  /** Nodes per batch that pulled it (Want) because the burst missed them. */
  pulledPerBatch: number;
  requestsPerNode: number;
  bytesPerNode: number;
  forwardsPerNode: number;
  wallMs: number;
  cpuMs: number;
}

async function batchesAt(n: number): Promise<BatchRow> {
  const stack = new Stack(n);
  const took = await stack.joinStorm(n, JOIN_LIMIT_MS);
  if (took < 0) throw new Error(`sim: ${n} nodes did not converge within ${JOIN_LIMIT_MS} ms of virtual time`);
  await stack.clock.advance(10_000);
  const row = await runBatches(stack);
  await stack.shutdown();
  return row;
}

/**
 * Publishes `batches` batches (BATCHES_PER_SIZE unless told) one after the other, each from another
 * origin, expecting every node; measures until the N-th node consumed it
 * (reach) and until the origin's publication is done (every reply back).
 * Frames and bytes count the window from publish to done.
 */
export async function runBatches(stack: Stack, batches = BATCHES_PER_SIZE): Promise<BatchRow> {
  const n = stack.names.length;
  const row: BatchRow = {
    n,
    reach99Ms: [],
    reachMs: [],
    doneMs: [],
    incomplete: 0,
    exactlyOnce: true,
    pulledPerBatch: 0,
    requestsPerNode: 0,
    bytesPerNode: 0,
    forwardsPerNode: 0,
    wallMs: 0,
    cpuMs: 0,
  };
  const forwards = () => stack.sum((m) => stack.gossips.get(m)!.counters().forwarded);
  const wanted = () => stack.sum((m) => stack.gossips.get(m)!.counters().wanted);
  const cost = startCost();
  let requests = 0;
  let bytes = 0;
  let forwarded = 0;
  let pulled = 0;
  for (let b = 0; b < batches; b++) {
    const origin = stack.names[(b * 7919) % n]!;
    const before = { requests: stack.gossipRequests(), bytes: stack.gossipBytes(), forwards: forwards(), wanted: wanted() };
    const startMs = stack.clock.now();
    const res = stack.gossips.get(origin)!.publish(pb.EnvelopeKind.CHECK_BATCH, BATCH_PAYLOAD, { expected: stack.names });
    if (!res.ok) throw new Error(`sim: publish at ${origin} failed: ${res.error}`);
    let doneAtMs = -1;
    let reason = "";
    res.publication.subscribe((e) => {
      if (e.type !== "done") return;
      doneAtMs = stack.clock.now();
      reason = e.reason;
    });
    await stack.clock.runUntil(() => doneAtMs >= 0, BATCH_LIMIT_MS, 5);
    requests += stack.gossipRequests() - before.requests;
    bytes += stack.gossipBytes() - before.bytes;
    forwarded += forwards() - before.forwards;
    pulled += wanted() - before.wanted;
    const id = res.publication.idHex;
    if (reason !== "complete") row.incomplete++;
    else {
      row.doneMs.push(doneAtMs - startMs);
      row.reach99Ms.push(stack.reachedAtMs(id, 0.99) - startMs);
      row.reachMs.push(stack.reachedAtMs(id, 1) - startMs);
    }
    await stack.clock.advance(BATCH_GAP_MS);
    if (stack.consumedCount(id) !== n) row.exactlyOnce = false;
  }
  const spent = cost();
  row.pulledPerBatch = pulled / batches;
  row.requestsPerNode = requests / batches / n;
  row.bytesPerNode = bytes / batches / n;
  row.forwardsPerNode = forwarded / batches / n;
  row.wallMs = spent.wallMs;
  row.cpuMs = spent.cpuMs;
  return row;
}

function batchSection(rows: BatchRow[]): BenchSection {
  const gg = defaultGossipConfig().gossipGroup;
  return {
    title: "sim: a batch reaches every node and every reply is back at the origin (virtual ms)",
    columns: [
      "nodes",
      "batches",
      "reached 99% p50 / max",
      "reached all p50 / max",
      "replies back p50 / max",
      "99% p50 / log2 N",
      "nodes the burst missed (pulled)",
      "exactly once",
      "gossip messages per node per batch",
      "bytes per node per batch",
      "burst forwards per node",
      "real s",
    ],
    rows: rows.map((r) => [
      r.n,
      `${r.doneMs.length}${r.incomplete ? ` (+${r.incomplete} incomplete)` : ""}`,
      `${fmt(percentile(r.reach99Ms, 50))} / ${fmt(Math.max(...r.reach99Ms))}`,
      `${fmt(percentile(r.reachMs, 50))} / ${fmt(Math.max(...r.reachMs))}`,
      `${fmt(percentile(r.doneMs, 50))} / ${fmt(Math.max(...r.doneMs))}`,
      (percentile(r.reach99Ms, 50) / Math.log2(r.n)).toFixed(2),
      r.pulledPerBatch.toFixed(1),
      r.exactlyOnce ? "yes" : "NO",
      r.requestsPerNode.toFixed(2),
      Math.round(r.bytesPerNode),
      r.forwardsPerNode.toFixed(2),
      secs(r.wallMs),
    ]),
    notes: [
      `Network: ${LATENCY_MS} ms one way + up to ${JITTER_MS} ms uniform jitter per packet and per frame, no loss; lan membership, default gossip config (gossip-group ${gg}, directed repair after ${defaultGossipConfig().repairAfterMs} ms).`,
      `${BATCHES_PER_SIZE} batches per size, one after the other (${BATCH_GAP_MS} ms apart), each from another origin, each expecting every node; the payload is the three checks of the original README. Consumers answer at once (evaluation is measured by the checks benchmark).`,
      "Reached 99% / all: until 99% / all of the N nodes handed the batch to their consumer. Replies back: until the origin's publication was complete (every node's reply received). Exactly once: each batch consumed N times in all (no node twice), counted 2 s after.",
      `Each node pushes to its successor on the ring of member names and ${gg - 1} random members, so the burst alone reaches every node of a stable ring; with ${gg} purely random picks it missed each node with a probability of about e^-${gg}, and from a few hundred nodes on nearly every batch waited for the origin's directed repair (${defaultGossipConfig().repairAfterMs} ms after publishing: "reached all" was 54-55 ms at 300 and 1000 nodes). "Pulled" counts the envelope IDs nodes asked for with a Want (repair or advertise, also of earlier batches still live).`,
      "99% p50 / log2 N: roughly constant when the burst's latency grows like log N. A gossip message is a one-way frame (push, periodic advertise) or a request with its reply (the origin's repair advertise, want, node reply); bytes count every body. Measured from publish until done; earlier batches still live add their anti-entropy advertisements to the window.",
    ],
  };
}

// -------------------------------------------------------- failure detection

interface DetectionTrial {
  /** From silencing until the first member marked it suspect (a failed probe). */
  suspectedMs: number;
  firstMs: number;
  allMs: number;
  early: boolean;
}

async function detectionSection(): Promise<BenchSection> {
  const config = lanConfig();
  const rows: (string | number)[][] = [];
  for (const n of [40, 100]) {
    const cost = startCost();
    const trials: DetectionTrial[] = [];
    const minMs = suspicionTimeoutMs(config.suspicionMult, n, config.probeIntervalMs);
    const maxMs = config.suspicionMaxTimeoutMult * minMs;
    // Same bound as the swim failure test: some prober reaches the victim
    // within one round (N - 1 periods), the probe fails within one more
    // period, the suspicion lasts at most max, and the death notice then
    // needs a few gossip rounds.
    const boundMs = (n - 1) * config.probeIntervalMs + config.probeIntervalMs + maxMs + 10 * config.gossipIntervalMs;
    let missed = 0;
    for (let t = 0; t < DETECTION_TRIALS; t++) {
      const trial = await detectOnce(n, 40 + t, config, boundMs, minMs);
      if (trial) trials.push(trial);
      else missed++;
    }
    const spent = cost();
    const suspected = trials.map((t) => t.suspectedMs);
    const first = trials.map((t) => t.firstMs);
    const all = trials.map((t) => t.allMs);
    rows.push([
      n,
      `${trials.length}${missed ? ` (${missed} over the bound)` : ""}`,
      `${fmt(percentile(suspected, 50))} / ${fmt(Math.max(...suspected))}`,
      `${fmt(percentile(first, 50))} / ${fmt(Math.max(...first))}`,
      `${fmt(percentile(all, 50))} / ${fmt(Math.max(...all))}`,
      minMs,
      maxMs,
      boundMs,
      trials.some((t) => t.early) ? "YES" : "no",
      secs(spent.wallMs),
    ]);
  }
  return {
    title: "sim: a silenced node is declared dead by every member (lan profile, virtual ms)",
    columns: ["nodes", "trials", "first suspected p50 / max", "first declared p50 / max", "all declared p50 / max", "min suspicion", "max suspicion", "bound from config", "any before min", "real s"],
    rows,
    notes: [
      "Each trial: a fresh cluster (its own seed) joins, runs 5 s, then one random node is silenced (neither sends nor receives, as after kill -9). Times from silencing until the first member suspected it (its probe failed), until the first member declared it dead, and until every other member did.",
      "min suspicion = suspicionMult x max(1, log10 N) x probe interval; it shrinks from max toward min as independent confirmations arrive (Lifeguard). Bound = (N - 1) x probe + probe + max suspicion + 10 gossip intervals.",
      "memberlist with the same settings needs at least a probe round plus the minimum suspicion (about 7.4 s at N=40); Serf measured 7.9-9.1 s for kill -9 at N=40 on this kind of machine (issue 3).",
    ],
  };
}

/** One trial; null when some member had not declared the victim dead within boundMs. */
async function detectOnce(n: number, seed: number, config: SwimConfig, boundMs: number, minMs: number): Promise<DetectionTrial | null> {
  const sim = new SimCluster({ seed, config, latencyMs: LATENCY_MS, jitterMs: JITTER_MS, recordEvents: false });
  try {
    const names = await sim.form(n, JOIN_LIMIT_MS);
    await sim.clock.advance(5000);
    const victim = names[1 + sim.random.int(n - 1)]!;
    const others = names.filter((m) => m !== victim);
    const failedAt = new Map<string, number>();
    let suspectedAt = -1;
    for (const m of others) {
      sim.must(m).swim.onEvent((e) => {
        if (e.member.name !== victim) return;
        if (e.type === "suspect" && suspectedAt < 0) suspectedAt = sim.clock.now();
        if (e.type === "fail" && !failedAt.has(m)) failedAt.set(m, sim.clock.now());
      });
    }
    const silencedAt = sim.clock.now();
    sim.net.silence(sim.must(victim).address);
    if ((await sim.runUntil(() => failedAt.size === others.length, boundMs, 20)) < 0) return null;
    const times = [...failedAt.values()].map((at) => at - silencedAt);
    const firstMs = Math.min(...times);
    return { suspectedMs: suspectedAt - silencedAt, firstMs, allMs: Math.max(...times), early: firstMs < minMs };
  } finally {
    sim.shutdown();
  }
}

async function lossSection(): Promise<BenchSection> {
  const n = 100;
  const cost = startCost();
  const sim = new SimCluster({ seed: 77, config: lanConfig(), latencyMs: LATENCY_MS, jitterMs: JITTER_MS, recordEvents: false });
  const names = await sim.form(n, JOIN_LIMIT_MS);
  const deaths: string[] = [];
  for (const m of names) {
    sim.must(m).swim.onEvent((e) => {
      if (e.type === "fail") deaths.push(`${m} declared ${e.member.name} dead`);
    });
  }
  const before = { ...sim.net.stats };
  sim.net.packetLoss = 0.1;
  await sim.clock.advance(LOSS_MINUTES * 60_000);
  const counters = names.map((m) => sim.must(m).swim.counters());
  const total = (k: string) => counters.reduce((s, c) => s + c[k]!, 0);
  const sent = sim.net.stats.packets - before.packets;
  const dropped = sim.net.stats.packetsDropped - before.packetsDropped;
  // Suspicions are in flight at any instant under loss: lift it, then every
  // node must list every node alive again.
  sim.net.packetLoss = 0;
  const settledMs = await sim.runUntil(() => sim.agree(names), 60_000, 100);
  sim.shutdown();
  const spent = cost();
  return {
    title: `sim: ${LOSS_MINUTES} minutes of 10% packet loss at N=${n} (lan profile)`,
    columns: [
      "nodes",
      "virtual minutes",
      "packets dropped",
      "healthy nodes declared dead",
      "suspicions raised",
      "refuted",
      "probes failed",
      "all alive everywhere after loss lifted (virtual ms)",
      "real s",
    ],
    rows: [
      [
        n,
        LOSS_MINUTES,
        `${dropped} of ${sent} (${((100 * dropped) / sent).toFixed(1)}%)`,
        deaths.length,
        total("suspicions"),
        total("refutes"),
        total("probesFailed"),
        settledMs < 0 ? "NO (not within 60 s)" : `yes (${settledMs})`,
        secs(spent.wallMs),
      ],
    ],
    notes: [
      "Every node is healthy: any death is a false positive (the target is 0). Probes failed: probes with no ack, direct or relayed (each starts a suspicion). Suspicions raised: summed over all nodes (every node that learns of a suspicion counts it). Refuted: times a suspected node raised its incarnation. TCP push-pulls are not dropped.",
    ],
  };
}

// -------------------------------------------------------------- measurement

let gcFn: (() => void) | null = null;

/** Heap and RSS in bytes after a full GC (the flag is set once, at run time). */
export function memory(): { rss: number; heap: number } {
  if (!gcFn) {
    setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  gcFn();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

/** Starts a wall and CPU stopwatch; the returned function reads both in ms. */
function startCost(): () => { wallMs: number; cpuMs: number } {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  return () => {
    const cpu = process.cpuUsage(cpu0);
    return { wallMs: performance.now() - wall0, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const secs = (ms: number) => (ms / 1000).toFixed(1);
const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(0) : "-");
