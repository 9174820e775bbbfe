import { existsSync } from "node:fs";
import { readdir, readFile, readlink } from "node:fs/promises";

/**
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

export async function takeProcessSnapshot(procRoot = "/proc"): Promise<ProcessSnapshot> {
  snapshotsTaken++;
  if (!existsSync(`${procRoot}/self/stat`)) return psListSnapshot();
  const pids = (await readdir(procRoot)).filter((n) => /^[0-9]+$/.test(n)).map(Number);
  const found = await Promise.all(pids.map((pid) => readProcess(procRoot, pid)));
  return { processes: found.filter((p): p is ProcessInfo => p !== null), source: "/proc" };
}

/**
 * One /proc/PID entry, or null for what is not a running user process: a
 * kernel thread (empty cmdline, no exe), a zombie (state Z/X: it has exited),
 * or a process that exited while we read it (ENOENT/ESRCH).
 */
async function readProcess(procRoot: string, pid: number): Promise<ProcessInfo | null> {
  const dir = `${procRoot}/${pid}`;
  let stat: string;
  let rawCmdline: Buffer;
  try {
    [stat, rawCmdline] = await Promise.all([readFile(`${dir}/stat`, "latin1"), readFile(`${dir}/cmdline`)]);
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
    exe = await readlink(`${dir}/exe`);
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
