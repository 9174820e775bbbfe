/**
 * What the daemons of a benchmark cluster, and everyone else on the host,
 * spend in CPU, from /proc (Linux): per process (/proc/<pid>/stat) and for
 * the whole host (/proc/stat). Neighbours turns that into "how busy were the
 * other processes while we measured", and waits for a quiet host.
 */
import { readFileSync } from "node:fs";
import type { ClusterNode } from "../test/support/cluster.js";

export const sleep = (t: number) => new Promise<void>((r) => setTimeout(r, t));

/** Before each trial, wait for a second in which other processes use less than this much of one core (%)... */
const QUIET_PCT = 30;
/** ... but no longer than this (ms); then measure anyway and say so. */
const QUIET_WAIT_MS = 120_000;

/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks per second (100 on Linux). */
export const CLK_TCK = 100;

/** CPU time (user + system) a process has used, in ticks, from /proc (Linux). */
export function cpuTicks(pid: number): number {
  // Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
  const rest = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(rest[11]) + Number(rest[12]);
}

/** CPU time all of `nodes` have used, in ms. */
export function clusterCpuMs(nodes: readonly ClusterNode[]): number {
  return (nodes.reduce((a, n) => a + cpuTicks(n.pid), 0) * 1000) / CLK_TCK;
}

/** Starts counting each node's CPU; the returned function gives each one's use since, in % of one core. */
export function cpuPercents(nodes: readonly ClusterNode[]): () => number[] {
  const before = nodes.map((n) => cpuTicks(n.pid));
  const t0 = performance.now();
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    return nodes.map((n, i) => ((cpuTicks(n.pid) - before[i]!) / CLK_TCK / seconds) * 100);
  };
}

/** Busy CPU time of the whole host, all cores, in ms (/proc/stat: user, nice, system, irq, softirq). */
export function hostBusyMs(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return ((f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) * 1000) / CLK_TCK;
}

function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Who else used this host's CPU. The daemons share the host's cores with
 * whatever else runs there (on a developer machine: builds, other test
 * runs), and a busy neighbour slows every number here. Each measurement
 * window counts the host's busy time minus what the daemons and this
 * process used; before each trial the bench waits (bounded) for a quiet
 * second. The notes say how busy the neighbours were.
 */
export class Neighbours {
  private othersMs = 0;
  private wallMs = 0;
  private waitedMs = 0;
  private gaveUp = 0;

  /** Opens a window; the returned function closes it, given the CPU (ms) the daemons used inside it. */
  open(): (daemonsMs: number) => void {
    const host0 = hostBusyMs();
    const self0 = selfCpuMs();
    const t0 = performance.now();
    return (daemonsMs) => {
      this.othersMs += Math.max(0, hostBusyMs() - host0 - (selfCpuMs() - self0) - daemonsMs);
      this.wallMs += performance.now() - t0;
    };
  }

  /** Waits until other processes use under QUIET_PCT of one core for a second (nodes: our daemons, not others). */
  async quiet(nodes: readonly ClusterNode[] = []): Promise<void> {
    const start = performance.now();
    while (performance.now() - start < QUIET_WAIT_MS) {
      const others = new Neighbours();
      const window = others.open();
      const d0 = clusterCpuMs(nodes);
      await sleep(1000);
      window(clusterCpuMs(nodes) - d0);
      if (others.percent() < QUIET_PCT) {
        this.waitedMs += performance.now() - start;
        return;
      }
    }
    this.gaveUp++;
    this.waitedMs += performance.now() - start;
  }

  /** Average CPU other processes used during the windows, in % of one core. */
  percent(): number {
    return this.wallMs > 0 ? (this.othersMs / this.wallMs) * 100 : 0;
  }

  note(): string {
    const gaveUp = this.gaveUp ? `; ${this.gaveUp} times it gave up after ${QUIET_WAIT_MS / 1000} s and measured anyway` : "";
    return `Other processes on this host used ${this.percent().toFixed(0)}% of one core on average during these measurements (host busy time from /proc/stat minus the daemons' and this bench's own). Before each trial the bench waited for a second in which they used under ${QUIET_PCT}% (${(this.waitedMs / 1000).toFixed(0)} s of waiting in all${gaveUp}).`;
  }
}
