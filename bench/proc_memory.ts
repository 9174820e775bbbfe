/*
 * What a process holds, from /proc (Linux): its memory as resident (VmRSS),
 * proportional (PSS: shared pages divided among the processes that map
 * them) and private (pages only it maps: what stopping it would give back),
 * and its open file descriptors. For benches that add up many daemons: the
 * sum of their RSS counts the Node binary's shared pages once per daemon,
 * the sum of PSS counts them once in all.
 */
import { readFileSync, readdirSync } from "node:fs";

export interface ProcMemory {
  /** All in KiB, from /proc/<pid>/smaps_rollup. */
  rssKb: number;
  pssKb: number;
  /** Private_Clean + Private_Dirty. */
  privateKb: number;
}

/** A process's memory (KiB); NaN fields when it has gone or the kernel has no smaps_rollup (before 4.14). */
export function procMemory(pid: number): ProcMemory {
  let text = "";
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  } catch {
    // gone: NaN below
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text)?.[1] ?? NaN);
  return { rssKb: kb("Rss"), pssKb: kb("Pss"), privateKb: kb("Private_Clean") + kb("Private_Dirty") };
}

/** Open file descriptors of a process (sockets included); NaN when it has gone. */
export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/** The soft and hard "Max open files" of a process (this one by default), from /proc/<pid>/limits. */
export function fdLimits(pid: number | "self" = "self"): { soft: number; hard: number } {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  const n = (v: string | undefined) => (v === "unlimited" ? Infinity : Number(v));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}
