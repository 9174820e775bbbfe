import { cpus, loadavg, uptime } from "node:os";
import { type Clock, systemClock } from "../../base/clock.js";
import type { MemberStatus } from "../../swim/types.js";
import type { NodeStats } from "../../control/api_types.js";
import { type DiskFigures, type MemoryFigures, type OsFigures, type SystemProbes, systemInformationLoaded, systemInformationProbes } from "./probes.js";
import type { Result } from "../../base/result.js";

/*
 * This node's stats (GET /v1/stats, and its answer to a STATS_REQUEST):
 * what Node knows cheaply (CPU count, load averages, uptimes, the daemon's
 * own memory, the members) read fresh on every call, plus the probed
 * figures (probes.ts) under three rules:
 * - every probe call is bounded by probeTimeoutMs: a hung probe leaves its
 *   figures absent and a line in `errors`, never a hung or failed reply;
 * - a probe still running from an earlier sample is joined, not called
 *   again, so a probe that hangs for good costs one pending call, not one
 *   per request;
 * - a sample is shared by the requests that arrive while it is taken and
 *   reused for sampleMaxAgeMs after it, so a burst of requests (the whole
 *   cluster asked at once, or curl in a loop) probes once. The CPU model
 *   and the OS release do not change while the daemon runs: they are kept
 *   once read.
 */

export interface StatsCollectorOptions {
  node: string;
  version: string;
  /** What the daemon knows of itself at the moment of asking. */
  self: () => { members: Record<MemberStatus, number>; daemonUptimeMs: number };
  clock?: Clock;
  /** Default: systeminformation, imported by the first sample. */
  probes?: SystemProbes;
  /** Longest wait for one probe (ms). */
  probeTimeoutMs?: number;
  /** How long a finished sample is reused (ms). */
  sampleMaxAgeMs?: number;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;
export const DEFAULT_SAMPLE_MAX_AGE_MS = 1_000;

interface Sample {
  sampledMs: number;
  loadPercent?: number;
  memory?: MemoryFigures;
  disk?: DiskFigures;
  errors: string[];
}

export interface StatsCounters {
  /** Samples taken (each runs the probes). */
  samples: number;
  /** Requests answered from a sample in progress or younger than sampleMaxAgeMs. */
  samplesReused: number;
  probeTimeouts: number;
  probeFailures: number;
  /** 1 once systeminformation is in this process's module cache. */
  systeminformationLoaded: number;
}

export class StatsCollector {
  private readonly clock: Clock;
  private readonly probes: SystemProbes;
  private readonly timeoutMs: number;
  private readonly maxAgeMs: number;
  private latest: { sample: Promise<Sample>; finishedMs: number | null } | null = null;
  private readonly running = new Map<string, Promise<unknown>>();
  private cpuModel: string | undefined;
  private os: OsFigures | undefined;
  private readonly stats = { samples: 0, samplesReused: 0, probeTimeouts: 0, probeFailures: 0 };

  constructor(private readonly o: StatsCollectorOptions) {
    this.clock = o.clock ?? systemClock;
    this.probes = o.probes ?? systemInformationProbes();
    this.timeoutMs = o.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    this.maxAgeMs = o.sampleMaxAgeMs ?? DEFAULT_SAMPLE_MAX_AGE_MS;
  }

  /** This node's stats; never rejects (a failing probe is an `errors` line). maxAgeMs: reuse a sample this young (default sampleMaxAgeMs). */
  async collect(maxAgeMs?: number): Promise<NodeStats> {
    const s = await this.sample(maxAgeMs ?? this.maxAgeMs);
    const self = this.o.self();
    const [l1 = 0, l5 = 0, l15 = 0] = loadavg();
    const mem = process.memoryUsage();
    return {
      node: this.o.node,
      sampledMs: s.sampledMs,
      cpu: { count: cpus().length, loadAverage: [l1, l5, l15], ...(s.loadPercent !== undefined && { loadPercent: s.loadPercent }), ...(this.cpuModel !== undefined && { model: this.cpuModel }) },
      ...(s.memory && { memory: s.memory }),
      ...(s.disk && { disk: s.disk }),
      ...(this.os && { os: this.os }),
      uptime: { hostMs: uptime() * 1000, daemonMs: self.daemonUptimeMs },
      process: { pid: process.pid, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, heapTotalBytes: mem.heapTotal },
      gossipcheck: { version: this.o.version, membersAlive: self.members.alive, members: self.members },
      errors: s.errors,
    };
  }

  counters(): StatsCounters {
    return { ...this.stats, systeminformationLoaded: systemInformationLoaded() ? 1 : 0 };
  }

  /** The sample in progress, or the last one while it is young enough, or a new one. */
  private sample(maxAgeMs: number): Promise<Sample> {
    const l = this.latest;
    if (l && (l.finishedMs === null || this.clock.now() - l.finishedMs < maxAgeMs)) {
      this.stats.samplesReused++;
      return l.sample;
    }
    const next = { sample: this.takeSample(), finishedMs: null as number | null };
    void next.sample.then((s) => (next.finishedMs = s.sampledMs));
    this.latest = next;
    return next.sample;
  }

  private async takeSample(): Promise<Sample> {
    this.stats.samples++;
    const p = this.probes;
    const [load, memory, disk, model, os] = await Promise.all([
      this.probe("cpu load", () => p.cpuLoad()),
      this.probe("memory", () => p.memory()),
      this.probe("disk", () => p.disk()),
      this.cpuModel === undefined ? this.probe("cpu model", () => p.cpuModel()) : null,
      this.os === undefined ? this.probe("os", () => p.os()) : null,
    ]);
    if (model?.ok) this.cpuModel = model.value;
    if (os?.ok) this.os = os.value;
    const errors = [load, memory, disk, model, os].flatMap((r) => (r && !r.ok ? [r.error] : []));
    return {
      sampledMs: this.clock.now(),
      ...(load.ok && { loadPercent: load.value }),
      ...(memory.ok && { memory: memory.value }),
      ...(disk.ok && { disk: disk.value }),
      errors,
    };
  }

  /** One probe's answer within timeoutMs, joining a call of it that is still running. */
  private probe<T>(name: string, call: () => Promise<T>): Promise<Result<T>> {
    let running = this.running.get(name) as Promise<T> | undefined;
    if (!running) {
      // Through a then: a probe that throws synchronously fails like one that rejects.
      const started = Promise.resolve().then(call);
      running = started;
      this.running.set(name, started);
      const done = () => void (this.running.get(name) === started && this.running.delete(name));
      started.then(done, done);
    }
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: Result<T>, counter?: "probeTimeouts" | "probeFailures") => {
        if (settled) return;
        settled = true;
        timer.cancel();
        if (counter) this.stats[counter]++;
        resolve(outcome);
      };
      const timer = this.clock.setTimeout(() => settle({ ok: false, error: `${name}: no answer within ${this.timeoutMs} ms` }, "probeTimeouts"), this.timeoutMs);
      running.then(
        (value) => settle({ ok: true, value }),
        (err: unknown) => settle({ ok: false, error: `${name}: ${err instanceof Error ? err.message : String(err)}` }, "probeFailures"),
      );
    });
  }
}
