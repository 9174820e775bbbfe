import { CHECK_STATUSES, type CheckResult, type CheckStatus } from "../checks/types.js";
import type { BatchEvent, NodeRef } from "../control/api_types.js";
import { Exit, type FailOn } from "./errors.js";
import { StreamReport } from "./stream_report.js";

/*
 * What `gcheck check` learned about one batch, built from the daemon's event
 * stream: which nodes were expected, what each answered, and the exit code a
 * CI script sees. Output formats (table, json, junit) render it. `gcheck
 * results` folds a past batch's stream into the same report.
 */

/**
 * answered: results came back; unreachable / rejected: the origin said so;
 * silent: no word by the end; notRun (gcheck results only): the node has
 * no record of the batch: it was not targeted, or not a member then.
 */
export type NodeState = "answered" | "unreachable" | "rejected" | "silent" | "notRun";

export interface NodeOutcome {
  node: string;
  address: string;
  state: NodeState;
  results: CheckResult[];
  /** Why the node is unreachable or rejected the batch. */
  reason?: string;
  /** From submission until this node's results arrived at the origin (ms). */
  elapsedMs?: number;
  /** The rollout wave the node ran in, when the origin's events say (waveOf). */
  wave?: number;
  /** notRun because a rollout never reached it (or -count replaced it): reason says why. */
  skipped?: boolean;
}

export interface CheckCounts {
  pass: number;
  warn: number;
  fixed: number;
  fail: number;
  error: number;
}

export interface Summary {
  expected: number;
  answered: number;
  unreachable: number;
  rejected: number;
  silent: number;
  /** gcheck results: nodes that did not run the batch (not counted as failing or missing). */
  notRun: number;
  checks: CheckCounts;
  /** Nodes with at least one failed or errored check. */
  failingNodes: number;
  /** Nodes with a warning and no failed or errored check. */
  warningNodes: number;
}

/**
 * Whether a check's status makes gcheck exit 1, given -fail-on. Only known
 * good statuses pass the run: one from a newer daemon that this gcheck does
 * not know fails it, never passes it silently.
 */
export function failsRun(status: string, failOn: FailOn): boolean {
  return !(status === "pass" || status === "fixed" || (status === "warn" && failOn === "fail"));
}

/** The status a count goes to: a status this gcheck does not know (newer daemon) counts as an error. */
function counted(status: string): CheckStatus {
  return (CHECK_STATUSES as readonly string[]).includes(status) ? (status as CheckStatus) : "error";
}

/** Results by status, added to `into`. */
export function countChecks(results: CheckResult[], into: CheckCounts = { pass: 0, warn: 0, fixed: 0, fail: 0, error: 0 }): CheckCounts {
  for (const r of results) into[counted(r.status)]++;
  return into;
}

/**
 * The rollout wave an event names, if any: the hook through which rollout
 * waves reach the outputs (progress line, JUnit's rollout.wave, ndjson).
 * Today's daemons send no `wave`; a daemon that runs waves adds a numeric
 * `wave` to its result (and progress) events, and nothing else here changes.
 */
export function waveOf(e: object): number | undefined {
  const wave = (e as { wave?: unknown }).wave;
  return typeof wave === "number" && Number.isInteger(wave) && wave >= 0 ? wave : undefined;
}

export class BatchReport extends StreamReport<NodeOutcome> {
  batchId = "";
  /** The fingerprint of the operator key that signed the batch (gcheck check -sign-key), when known. */
  signer?: string;
  /** The highest wave an event has named so far (waveOf). */
  currentWave?: number;
  /** gcheck stopped following on SIGINT: the nodes still silent were never heard from. */
  interrupted = false;

  /**
   * failOn: -fail-on, whether a warning makes the exit code 1. past: the
   * stream is a past batch's (gcheck results), where a node that answers
   * "rejected" has no record of the batch: it did not run it, which is
   * neither a failure nor a missing answer.
   */
  constructor(
    readonly failOn: FailOn = "fail",
    readonly past = false,
  ) {
    super();
  }

  /** Folds one stream event in; returns false for an event it does not know (newer daemon). */
  apply(e: BatchEvent): boolean {
    if (e.type === "accepted") this.batchId = e.batchId;
    const wave = waveOf(e);
    if (wave !== undefined) this.currentWave = Math.max(wave, this.currentWave ?? 0);
    // A rollout's node never reached (or replaced by -count): it ran nothing, which is neither a failure nor a missing answer (the exit code of a stopped rollout is check's).
    if (e.type === "skipped") {
      this.nodes.set(e.node, { node: e.node, address: e.address ?? this.nodes.get(e.node)?.address ?? "", state: "notRun", results: [], reason: e.reason, skipped: true, wave: e.wave });
      return true;
    }
    if (e.type !== "result") return this.applyCommon(e);
    this.nodes.set(e.node, { node: e.node, address: e.address, state: "answered", results: e.results, elapsedMs: e.elapsedMs, ...(wave !== undefined && { wave }) });
    return true;
  }

  /** Expected nodes with no answer: silent ones (no word at all) and those the origin gave up on. */
  missing(): string[] {
    return this.outcomes()
      .filter((n) => n.state === "silent" || n.state === "unreachable")
      .map((n) => n.node);
  }

  /** Expected nodes still waited for (no word yet). */
  pending(): string[] {
    return this.outcomes()
      .filter((n) => n.state === "silent")
      .map((n) => n.node);
  }

  protected silent(n: NodeRef): NodeOutcome {
    return { node: n.name, address: n.address, state: "silent", results: [] };
  }

  protected gone(node: string, address: string, state: "unreachable" | "rejected", reason: string): NodeOutcome {
    return { node, address, state: this.past && state === "rejected" ? "notRun" : state, results: [], reason };
  }

  outcomes(): NodeOutcome[] {
    return [...this.nodes.values()].sort((a, b) => a.node.localeCompare(b.node));
  }

  summary(): Summary {
    const s: Summary = { expected: this.expected.length, answered: 0, unreachable: 0, rejected: 0, silent: 0, notRun: 0, checks: countChecks([]), failingNodes: 0, warningNodes: 0 };
    for (const n of this.nodes.values()) {
      s[n.state]++;
      countChecks(n.results, s.checks);
      const own = countChecks(n.results);
      if (own.fail + own.error > 0) s.failingNodes++;
      else if (own.warn > 0) s.warningNodes++;
    }
    return s;
  }

  /**
   * 1 when a check failed or errored (or warned, with -fail-on warn) or a
   * node refused the batch (it ran nothing the operator asked for); else 3
   * when an expected node never answered; else 0. A node that did not run
   * a past batch (notRun) counts for nothing. Interrupted (SIGINT): the
   * same rule over what arrived, the nodes not heard from counting as
   * missing; 130 (the shell's code for SIGINT) when nothing arrived at all.
   */
  exitCode(): number {
    const s = this.summary();
    if (this.interrupted && s.answered + s.unreachable + s.rejected + s.notRun === 0) return Exit.Interrupted;
    const failed = [...this.nodes.values()].some((n) => n.results.some((r) => failsRun(r.status, this.failOn)));
    if (failed || s.rejected > 0) return Exit.ChecksFailed;
    if (s.unreachable + s.silent > 0) return Exit.NodesMissing;
    return Exit.Ok;
  }
}

/** Exit code of a single result list (local-check): 1 when a check fails the run (failsRun), else 0. */
export function resultsExitCode(results: CheckResult[], failOn: FailOn = "fail"): number {
  return results.some((r) => failsRun(r.status, failOn)) ? Exit.ChecksFailed : Exit.Ok;
}
