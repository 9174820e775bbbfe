import type { Params } from "./fields.js";

/*
 * A check batch and its results as plain data. The checks layer knows nothing
 * of the network: the cluster path and local-check both hand it a parsed batch
 * and get results back.
 */

/** The original gossipcheck's types, with their own fields (path, check) and rules (validate.ts). */
export const ORIGINAL_CHECK_TYPES = ["file_exists", "file_contains", "process_running"] as const;
/** Every check type: the original three and those in the registry (registry.ts). */
export const CHECK_TYPES = [
  ...ORIGINAL_CHECK_TYPES,
  "command",
  "nagios",
  "http",
  "tcp",
  "dns",
  "file",
  "disk_usage",
  "memory",
  "load",
  "port",
  "service",
  "package",
  "user",
  "group",
  "kernel_param",
  "mount",
] as const;
export type CheckType = (typeof CHECK_TYPES)[number];

/** A quorum check's threshold: this many nodes must see it failing, or a majority of those that run it. */
export type Quorum = number | "majority";

/** One check as written in a gossipcheck check file (name is the object key). */
export interface CheckSpec {
  name: string;
  type: CheckType;
  path?: string;
  check?: string;
  action?: string;
  /** Action timeout in ms (from "timeout": "30s"); undefined = the default (60 s). */
  timeoutMs?: number;
  /** From "keep_children": true: what the action started stays running after its shell exits. Absent = false. */
  keepChildren?: boolean;
  description?: string;
  /**
   * From "interval": "30s": a scheduled check, run every intervalMs (1 s to
   * 1 day) by the scheduler of each node that has it. A batch submitted with
   * `gcheck check` ignores it (runs once).
   */
  intervalMs?: number;
  /** From "splay": each node runs the check at a random offset in [0, splayMs] within its interval; absent = 0. */
  splayMs?: number;
  /** From "quorum" (only with an interval): the cluster-wide verdict fails only while this many nodes see the check failing. */
  quorum?: Quorum;
  /** A registered type's own fields, or file_exists's attributes (file_attrs.ts), validated (fields.ts): plain JSON values, as in the file. */
  params?: Params;
}

/**
 * pass; warn (the check ran and found something to look at, short of a
 * failure: a Nagios WARNING, a threshold's warning level; no action runs on
 * it); fail; fixed (failed, its action ran, and it passes when evaluated
 * again); error (could not be evaluated).
 */
export const CHECK_STATUSES = ["pass", "warn", "fixed", "fail", "error"] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export interface ActionOutcome {
  command: string;
  /** null when killed by a signal or never started. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** stdout and stderr interleaved, at most the capture bound. */
  output: string;
  outputTruncated: boolean;
  durationMs: number;
  /**
   * Processes other than the shell that were still running when the action
   * ended (or timed out) and were killed: background children, and with a
   * cgroup also those that left the process group. 0 with keep_children.
   */
  leftoversKilled: number;
  /** Set when the action did not run, saying why (dry run, actions disabled, spawn error). */
  skipped?: string;
  /** With stderrApart (a command check): stderr on its own, `output` holding stdout only. Not sent on the wire. */
  stderr?: string;
  stderrTruncated?: boolean;
  /** With rawOutput (a query handler): the captured output as bytes. Not sent on the wire. */
  outputBytes?: Uint8Array;
}

/** One item of a Nagios plugin's performance data: label=value[unit];warn;crit;min;max. */
export interface PerfDatum {
  label: string;
  value: number;
  /** "", "s", "%", "B", "KB", "c"... as the plugin wrote it. */
  unit: string;
  /** The warning and critical ranges as written ("10", "10:", "~:10", "@10:20"). */
  warn?: string;
  crit?: string;
  min?: number;
  max?: number;
}

export interface CheckResult {
  name: string;
  type: string;
  status: CheckStatus;
  /** What was looked for and what was found, for a person. */
  message: string;
  durationMs: number;
  action?: ActionOutcome;
  description?: string;
  /** A nagios check's performance data. */
  perfdata?: PerfDatum[];
}
