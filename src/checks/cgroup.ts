import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";

/*
 * One cgroup (v2) per remediation action, so that processes which left the
 * action's process group (`setsid`, a daemon that double-forks) can still be
 * found and killed when the action ends: a process cannot leave its cgroup
 * without writing to cgroup.procs, which only a cgroup manager does.
 *
 * Layout: <cgroup2 mount><our own cgroup>/gossipcheck-actions/<label>, found
 * from /proc/self/mountinfo and /proc/self/cgroup (no hard-coded path: the
 * mount is /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid
 * ones). The "no internal processes" rule of cgroup v2 does not bite: it
 * applies only to a group that enables controllers in its subtree_control,
 * and we enable none, so each action group is a plain leaf. On a systemd host
 * our own cgroup is the service's; run the unit with `Delegate=yes` so that
 * systemd leaves the subtree we create alone.
 *
 * cgroupfs lives in kernel memory, so the synchronous calls here cannot wait
 * on a disk or another machine (see local_fs.ts for why that matters).
 */

/** Where actions are contained, decided once per process. */
export type Containment = { kind: "cgroup"; base: string } | { kind: "process group"; reason: string };

const BASE_NAME = "gossipcheck-actions";

/** The cgroup2 mount in a /proc/self/mountinfo text: its mount point and the cgroup path it shows (root). */
export function findCgroup2Mount(mountinfo: string): { mountPoint: string; root: string } | undefined {
  for (const line of mountinfo.split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 0 || fields[dash + 1] !== "cgroup2") continue;
    return { root: unescapeOctal(fields[3] ?? "/"), mountPoint: unescapeOctal(fields[4] ?? "") };
  }
  return undefined;
}

/** Our cgroup in the unified hierarchy: the "0::<path>" line of /proc/self/cgroup. */
export function unifiedCgroupPath(procSelfCgroup: string): string | undefined {
  const line = procSelfCgroup.split("\n").find((l) => l.startsWith("0::"));
  return line?.slice(3);
}

/**
 * The directory under which action cgroups are made, or why there is none.
 * `mountinfo` and `selfCgroup` are the texts of /proc/self/mountinfo and
 * /proc/self/cgroup (parameters, so the reasons can be tested).
 */
export function actionCgroupBase(mountinfo: string, selfCgroup: string): Containment {
  const mount = findCgroup2Mount(mountinfo);
  if (!mount) return { kind: "process group", reason: "no cgroup2 file system is mounted (/proc/self/mountinfo)" };
  const own = unifiedCgroupPath(selfCgroup);
  if (own === undefined) return { kind: "process group", reason: "this process is in no cgroup2 group (no 0:: line in /proc/self/cgroup)" };
  // The mount shows the hierarchy from `root` down; our path must lie below it
  // (inside a cgroup namespace both are relative to the namespace's root).
  const root = mount.root === "/" ? "" : mount.root;
  if (own.includes("/..") || (own !== root && !own.startsWith(`${root}/`))) {
    return { kind: "process group", reason: `our cgroup ${own} is not visible under the cgroup2 mount ${mount.mountPoint}` };
  }
  const ownDir = `${mount.mountPoint}${own.slice(root.length)}`.replace(/\/+$/, "");
  if (!existsSync(`${ownDir}/cgroup.procs`)) return { kind: "process group", reason: `${ownDir} is not a cgroup2 directory` };
  // Nothing is made here: the base appears with the first action's group
  // and goes with the last (ActionCgroup.remove), so a daemon that runs no
  // action leaves no trace in the tree.
  try {
    accessSync(ownDir, constants.W_OK);
    accessSync(`${ownDir}/cgroup.procs`, constants.W_OK);
  } catch (e) {
    return {
      kind: "process group",
      reason: `${ownDir} is not writable (${(e as NodeJS.ErrnoException).code ?? String(e)}): run as root, or delegate the daemon's cgroup to its user (systemd: Delegate=yes)`,
    };
  }
  return { kind: "cgroup", base: `${ownDir}/${BASE_NAME}` };
}

let decided: Containment | undefined;

/**
 * How this process contains its actions: probed on first use (the daemon
 * calls it at start to log the answer once) and then fixed, except that a
 * cgroup that cannot be joined later switches to the process group for good.
 */
export function actionContainment(): Containment {
  if (decided === undefined) {
    let mountinfo = "";
    let selfCgroup = "";
    try {
      mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
      selfCgroup = readFileSync("/proc/self/cgroup", "utf8");
    } catch {
      // No /proc (not Linux): no cgroups either; the reason below says so.
    }
    decided = actionCgroupBase(mountinfo, selfCgroup);
  }
  return decided;
}

/** A cgroup that failed at runtime: later actions use the process group only. */
export function giveUpCgroups(reason: string): void {
  decided = { kind: "process group", reason };
}

/** Rounds of SIGKILL to every listed PID where cgroup.kill is missing (kernels before 5.14): a fork bomb could refill the list, so the loop is bounded. */
const KILL_ROUNDS = 50;
/** Pause between kill rounds and between checks that the group emptied (ms). */
const KILL_POLL_MS = 10;

/** One action's cgroup. */
export class ActionCgroup {
  private constructor(readonly path: string) {}

  /** Makes <base>/<label>, or says why it cannot. */
  static create(base: string, label: string): { cgroup: ActionCgroup } | { error: string } {
    const path = `${base}/${label}`;
    // Another daemon sharing our cgroup may have removed an empty base just now: make it again.
    for (let attempt = 0; ; attempt++) {
      try {
        mkdirSync(base, { recursive: true });
        mkdirSync(path);
        return { cgroup: new ActionCgroup(path) };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT" && attempt < 3) continue;
        return { error: `cannot create the action's cgroup ${path} (${code ?? String(e)})` };
      }
    }
  }

  /** Moves a process (with its future children) into the group; an error message when it cannot. */
  join(pid: number): string | undefined {
    try {
      writeFileSync(`${this.path}/cgroup.procs`, `${pid}\n`);
      return undefined;
    } catch (e) {
      return `cannot move the action into its cgroup ${this.path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
    }
  }

  /** The live processes in the group (zombies are not listed by cgroup v2). */
  procs(): number[] {
    try {
      return readFileSync(`${this.path}/cgroup.procs`, "latin1")
        .split("\n")
        .filter((l) => l !== "")
        .map(Number);
    } catch {
      return []; // already removed
    }
  }

  /**
   * SIGKILLs everything in the group and waits until it is empty (bounded).
   * cgroup.kill does it atomically, forks included; without it, kill each
   * listed PID and look again. True when the group emptied.
   */
  async killAll(): Promise<boolean> {
    let atomic = false;
    try {
      writeFileSync(`${this.path}/cgroup.kill`, "1");
      atomic = true;
    } catch {
      // ENOENT: kernel before 5.14; fall back to signalling each process.
    }
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const pids = this.procs();
      if (pids.length === 0) return true;
      if (!atomic) for (const pid of pids) signal(pid, "SIGKILL");
      await new Promise((r) => setTimeout(r, KILL_POLL_MS));
    }
    return this.procs().length === 0;
  }

  /** Removes the group (it must be empty), then the base if no other action uses it. False when the group stays. */
  remove(): boolean {
    try {
      rmdirSync(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") return false;
    }
    try {
      rmdirSync(this.path.slice(0, this.path.lastIndexOf("/")));
    } catch {
      // EBUSY: another action's group is still in it.
    }
    return true;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: it has just exited.
  }
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
