import type { CheckResult, CheckStatus } from "../checks/types.js";
import type { BatchEvent, NodeRef } from "../daemon/api_types.js";
import { Exit } from "./errors.js";

/**
 * What `gcheck check` learned about one batch, built from the daemon's event
 * stream: which nodes were expected, what each answered, and the exit code a
 * CI script sees. Output formats (table, json, junit) render it.
 */

/** answered: results came back; unreachable / rejected: the origin said so; silent: no word by the end. */
export type NodeState = "answered" | "unreachable" | "rejected" | "silent";

export interface NodeOutcome {
  node: string;
  address: string;
  state: NodeState;
  results: CheckResult[];
  /** Why the node is unreachable or rejected the batch. */
  reason?: string;
  /** From submission until this node's results arrived at the origin (ms). */
  elapsedMs?: number;
}

export interface CheckCounts {
  pass: number;
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
  checks: CheckCounts;
  /** Nodes with at least one failed or errored check. */
  failingNodes: number;
}

export class BatchReport {
  batchId = "";
  origin = "";
  createdMs = 0;
  expected: NodeRef[] = [];
  accepted = false;
  done = false;
  timedOut = false;
  private readonly nodes = new Map<string, NodeOutcome>();

  /** Folds one stream event in; returns false for an event it does not know (newer daemon). */
  apply(e: BatchEvent): boolean {
    switch (e.type) {
      case "accepted":
        this.accepted = true;
        this.batchId = e.batchId;
        this.origin = e.origin;
        this.createdMs = e.createdMs;
        this.expected = e.expected;
        for (const n of e.expected) this.nodes.set(n.name, { node: n.name, address: n.address, state: "silent", results: [] });
        return true;
      case "result":
        this.nodes.set(e.node, { node: e.node, address: e.address, state: "answered", results: e.results, elapsedMs: e.elapsedMs });
        return true;
      case "unreachable":
      case "rejected":
        this.nodes.set(e.node, { node: e.node, address: e.address ?? this.nodes.get(e.node)?.address ?? "", state: e.type, results: [], reason: e.reason });
        return true;
      case "done":
        this.done = true;
        this.timedOut = e.timedOut;
        return true;
      default:
        return false;
    }
  }

  /** True once every expected node has answered or been given up on by the origin. */
  get complete(): boolean {
    return this.accepted && this.expected.every((n) => this.nodes.get(n.name)?.state !== "silent");
  }

  /** The wait ended without every expected node accounted for (gcheck's or the daemon's timeout). */
  get timedOutWaiting(): boolean {
    return !this.complete && (this.timedOut || !this.done);
  }

  outcomes(): NodeOutcome[] {
    return [...this.nodes.values()].sort((a, b) => a.node.localeCompare(b.node));
  }

  summary(): Summary {
    const s: Summary = { expected: this.expected.length, answered: 0, unreachable: 0, rejected: 0, silent: 0, checks: { pass: 0, fixed: 0, fail: 0, error: 0 }, failingNodes: 0 };
    for (const n of this.nodes.values()) {
      s[n.state]++;
      for (const r of n.results) s.checks[r.status as CheckStatus]++;
      if (n.results.some((r) => r.status === "fail" || r.status === "error")) s.failingNodes++;
    }
    return s;
  }

  /**
   * 1 when a check failed or errored or a node refused the batch (it ran
   * nothing the operator asked for); else 3 when an expected node never
   * answered; else 0.
   */
  exitCode(): number {
    const s = this.summary();
    if (s.checks.fail + s.checks.error + s.rejected > 0) return Exit.ChecksFailed;
    if (s.unreachable + s.silent > 0) return Exit.NodesMissing;
    return Exit.Ok;
  }
}

/** Exit code of a single result list (local-check): 0 all passed, 1 otherwise. */
export function resultsExitCode(results: CheckResult[]): number {
  return results.every((r) => r.status === "pass" || r.status === "fixed") ? Exit.Ok : Exit.ChecksFailed;
}
