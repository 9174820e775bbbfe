import { quote, type Evaluation } from "./evaluation.js";
import type { ProcessInfo, ProcessSnapshot } from "./processes.js";

/*
 * process_running, with the original's semantics: `path` must be a substring
 * of the process's executable path, `check` a substring of its command line
 * (argv joined by spaces); when both are given both must hold for the same
 * process.
 */

/** How many PIDs a message lists before it says "and N more". */
const MAX_LISTED_PIDS = 10;

export interface ProcessCriteria {
  path?: string;
  check?: string;
  /**
   * Process groups to leave out: those of gossipcheck's own actions still
   * running, whose `/bin/sh -c "service nginx restart"` would otherwise match
   * a check for "nginx" by its command line.
   */
  excludeGroups?: ReadonlySet<number>;
}

export function matchProcesses(snapshot: ProcessSnapshot, c: ProcessCriteria): ProcessInfo[] {
  return snapshot.processes.filter(
    (p) => (c.path === undefined || p.exe.includes(c.path)) && (c.check === undefined || p.cmdline.includes(c.check)) && !(p.pgid !== undefined && c.excludeGroups?.has(p.pgid)),
  );
}

export function evaluateProcessRunning(snapshot: ProcessSnapshot, c: ProcessCriteria): Evaluation {
  const matches = matchProcesses(snapshot, c);
  const wanted = [c.path !== undefined ? `an executable path containing ${quote(c.path)}` : "", c.check !== undefined ? `a command line containing ${quote(c.check)}` : ""]
    .filter(Boolean)
    .join(" and ");
  if (matches.length === 0) {
    const unreadable = c.path !== undefined ? snapshot.processes.filter((p) => p.exeFromArgv0).length : 0;
    const note = unreadable > 0 ? `; for ${unreadable} whose executable could not be read, argv[0] stood in for the path` : "";
    return { status: "fail", message: `no running process has ${wanted} (searched ${snapshot.processes.length} processes${note})` };
  }
  const pids = matches
    .slice(0, MAX_LISTED_PIDS)
    .map((p) => p.pid)
    .join(", ");
  const more = matches.length > MAX_LISTED_PIDS ? ` and ${matches.length - MAX_LISTED_PIDS} more` : "";
  const noun = matches.length === 1 ? "process has" : "processes have";
  return { status: "pass", message: `${matches.length} ${noun} ${wanted}: PID ${pids}${more}` };
}
