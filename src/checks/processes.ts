import { closeSync, existsSync, openSync, readlinkSync, readSync } from "node:fs";
import { readdir } from "node:fs/promises";

/*
 * A snapshot of the running processes, taken once per batch and shared by all
 * its process_running checks. On Linux it reads /proc directly, so it works in
 * minimal containers that have no `ps` binary; elsewhere it asks ps-list
 * (imported only then).
 */

export interface ProcessInfo {
  pid: number;
  /** Process group; undefined when the platform does not tell (ps-list). */
  pgid?: number;
  /**
   * The executable path from /proc/PID/exe. When that link cannot be read
   * (another user's process when we are not root, or a container without
   * CAP_SYS_PTRACE, where even root cannot read PID 1's), it is argv[0]
   * instead, as `ps` would show, and exeFromArgv0 is true. Hiding such a
   * process would make `process_running` fail for a process that runs.
   */
  exe: string;
  exeFromArgv0: boolean;
  /** argv joined by spaces (the original's definition of the command line). */
  cmdline: string;
}

export interface ProcessSnapshot {
  processes: ProcessInfo[];
  source: "/proc" | "ps-list";
}

let snapshotsTaken = 0;

/** How many snapshots this process has taken (for metrics, and to show one per batch). */
export function processSnapshotsTaken(): number {
  return snapshotsTaken;
}

/**
 * How many /proc entries are read between two yields to the event loop.
 * The reads are synchronous: /proc files live in memory, and a synchronous
 * open/read/close costs a fraction of a trip through libuv's thread pool
 * (measured about 4x faster: ~40 us per process against ~160 us). Slicing
 * keeps each stretch of blocking near a millisecond, so a daemon still
 * answers its membership probes on time while it scans thousands of
 * processes.
 */
const PROCESSES_PER_SLICE = 32;

export async function takeProcessSnapshot(procRoot = "/proc"): Promise<ProcessSnapshot> {
  snapshotsTaken++;
  if (!existsSync(`${procRoot}/self/stat`)) return psListSnapshot();
  const pids = (await readdir(procRoot)).filter((n) => /^[0-9]+$/.test(n)).map(Number);
  const processes: ProcessInfo[] = [];
  for (let i = 0; i < pids.length; i++) {
    if (i > 0 && i % PROCESSES_PER_SLICE === 0) await new Promise((r) => setImmediate(r));
    const p = readProcess(procRoot, pids[i]!);
    if (p) processes.push(p);
  }
  return { processes, source: "/proc" };
}

/**
 * One /proc/PID entry, or null for what is not a running user process: a
 * kernel thread (empty cmdline, no exe), a zombie (state Z/X: it has exited),
 * or a process that exited while we read it (ENOENT/ESRCH).
 */
function readProcess(procRoot: string, pid: number): ProcessInfo | null {
  const dir = `${procRoot}/${pid}`;
  let stat: string;
  let rawCmdline: Buffer;
  try {
    stat = readSmallFile(`${dir}/stat`).toString("latin1");
    rawCmdline = readSmallFile(`${dir}/cmdline`);
  } catch (e) {
    if (vanished(e)) return null;
    throw e;
  }
  // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces
  // and parentheses, so fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  if (state === "Z" || state === "X" || state === "x") return null;
  const pgid = Number(fields[2]);
  const argv = rawCmdline.toString("utf8").split("\0");
  if (argv.length > 0 && argv[argv.length - 1] === "") argv.pop();
  let exe: string | null = null;
  try {
    exe = readlinkSync(`${dir}/exe`);
  } catch (e) {
    // ENOENT here is a kernel thread (no executable) or an exit mid-scan;
    // EACCES/EPERM is a process we may not inspect: fall back to argv[0].
    if (!vanished(e) && !isDenied(e)) throw e;
  }
  if (exe === null && argv.length === 0) return null;
  return {
    pid,
    pgid: Number.isInteger(pgid) ? pgid : undefined,
    exe: exe ?? argv[0] ?? "",
    exeFromArgv0: exe === null,
    cmdline: argv.join(" "),
  };
}

/** Reused read buffer; /proc files report size 0, so they are read until EOF. */
let scratch = Buffer.allocUnsafe(16 * 1024);

function readSmallFile(path: string): Buffer {
  const fd = openSync(path, "r");
  try {
    let n = 0;
    for (;;) {
      if (n === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2); // a command line can be up to ARG_MAX (2 MiB)
        scratch.copy(bigger, 0, 0, n);
        scratch = bigger;
      }
      const r = readSync(fd, scratch, n, scratch.length - n, null);
      if (r === 0) return Buffer.from(scratch.subarray(0, n));
      n += r;
    }
  } finally {
    closeSync(fd);
  }
}

function vanished(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ESRCH";
}

function isDenied(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "EACCES" || code === "EPERM";
}

async function psListSnapshot(): Promise<ProcessSnapshot> {
  const { default: psList } = await import("ps-list");
  const list = await psList({ all: true });
  return {
    source: "ps-list",
    processes: list.map((p) => {
      const cmdline = p.cmd ?? p.name;
      const path = p.path ?? null;
      return { pid: p.pid, exe: path ?? cmdline.split(" ")[0] ?? p.name, exeFromArgv0: path === null, cmdline };
    }),
  };
}
