import { readdirSync, readFileSync } from "node:fs";
import type { ActionCgroup } from "./cgroup.js";

/*
 * Ending what an action leaves behind: when its shell exits (or times out),
 * every process still in its process group, and in its cgroup when it has
 * one, gets SIGTERM, then SIGKILL after a grace period. The count of
 * processes ended (the shell not included) goes into the action's outcome.
 *
 * Group members are found in /proc (the stat line's pgrp); the group is also
 * signalled as a whole (kill(-pgid)), which reaches a process forked between
 * our look and our signal and works where /proc is absent (there the count
 * stays 0). Zombies are not counted: they have already exited.
 *
 * The group signal names the group by the shell's PID. Once the group is
 * empty that number is free, and a new group could take it only after PIDs
 * wrapped around (pid_max, 4M on 64-bit Linux): we signal it only while we
 * have just seen a member.
 */

/**
 * How long leftovers get between SIGTERM and SIGKILL (ms). Long enough for a
 * well-behaved process to flush and exit (most go in milliseconds); short
 * because the batch's result waits for it, and a process meant to outlive the
 * action is declared with keep_children instead of being shut down here.
 */
export const LEFTOVER_TERM_GRACE_MS = 2_000;
/** How often we look whether signalled processes have gone (ms). */
const POLL_MS = 20;
/** After SIGKILL, how long we wait for the processes to be gone (ms); a process in uninterruptible sleep (D) may outlast it. */
const KILL_WAIT_MS = 2_000;
/** /proc entries read between two yields to the event loop (see PROCESSES_PER_SLICE in processes.ts). */
const PROC_ENTRIES_PER_SLICE = 64;

/** Where an action's processes are. */
export interface ActionProcesses {
  /** The process group: the shell's PID. */
  pgid: number;
  cgroup?: ActionCgroup;
}

export interface LeftoversEnded {
  /** Processes other than the shell that were signalled and are gone. */
  killed: number;
  /** PIDs still there after SIGKILL and KILL_WAIT_MS (uninterruptible sleep). */
  survivors: number[];
}

/**
 * Ends every process of the action; `shellPid` is left out of the count (at a
 * timeout the shell is one of the processes ended).
 */
export async function endActionProcesses(scope: ActionProcesses, shellPid: number, graceMs = LEFTOVER_TERM_GRACE_MS): Promise<LeftoversEnded> {
  const signalled = new Set<number>();
  const hit = (pids: number[], sig: NodeJS.Signals) => {
    signal(-scope.pgid, sig);
    for (const pid of pids) {
      signalled.add(pid);
      signal(pid, sig);
    }
  };

  const found = await members(scope);
  if (found.length === 0) return { killed: 0, survivors: [] };
  hit(found, "SIGTERM");
  const termDeadline = Date.now() + graceMs;
  while (signalled.size > 0 && Date.now() < termDeadline) {
    await delay(POLL_MS);
    // A process forked meanwhile shows in the cgroup; in the group it is
    // reached by the group signal at the SIGKILL below.
    const forked = scope.cgroup?.procs().filter((p) => !signalled.has(p)) ?? [];
    if (forked.length > 0) hit(forked, "SIGTERM");
    else if ([...signalled].every((p) => !isAlive(p))) break;
  }

  let left = await members(scope);
  if (left.length > 0) hit(left, "SIGKILL");
  if (scope.cgroup) await scope.cgroup.killAll();
  const killDeadline = Date.now() + KILL_WAIT_MS;
  while ((left = await members(scope)).length > 0 && Date.now() < killDeadline) {
    hit(left, "SIGKILL");
    await delay(POLL_MS);
  }
  signalled.delete(shellPid);
  return { killed: [...signalled].filter((p) => !left.includes(p)).length, survivors: left };
}

/** Live processes in the action's process group and cgroup. */
async function members(scope: ActionProcesses): Promise<number[]> {
  const pids = new Set(await groupMembers(scope.pgid));
  for (const pid of scope.cgroup?.procs() ?? []) pids.add(pid);
  return [...pids];
}

/** Live (not zombie) processes whose process group is `pgid`, from /proc. */
async function groupMembers(pgid: number): Promise<number[]> {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return []; // no member at all: skip the scan
  }
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((n) => /^[0-9]+$/.test(n));
  } catch {
    return [pgid]; // no /proc: the group exists, its members unknown; the group signal reaches them
  }
  const out: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    if (i > 0 && i % PROC_ENTRIES_PER_SLICE === 0) await new Promise((r) => setImmediate(r));
    const stat = procStat(Number(entries[i]));
    if (stat && stat.pgrp === pgid && !stat.exited) out.push(Number(entries[i]));
  }
  return out;
}

function isAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && !stat.exited;
}

/** State and process group from /proc/PID/stat ("pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses). */
function procStat(pid: number): { exited: boolean; pgrp: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  const [state, , pgrp] = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { exited: state === "Z" || state === "X", pgrp: Number(pgrp) };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone (or, for the group, empty).
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
