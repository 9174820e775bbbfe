import type { CheckResult, CheckStatus } from "../checks/types.js";
import type { BatchEvent, NodeRef } from "../control/api_types.js";
import { Exit } from "./errors.js";
import { StreamReport } from "./stream_report.js";

/*
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

export class BatchReport extends StreamReport<NodeOutcome> {
  batchId = "";

  /** Folds one stream event in; returns false for an event it does not know (newer daemon). */
  apply(e: BatchEvent): boolean {
    if (e.type === "accepted") this.batchId = e.batchId;
    if (e.type !== "result") return this.applyCommon(e);
    this.nodes.set(e.node, { node: e.node, address: e.address, state: "answered", results: e.results, elapsedMs: e.elapsedMs });
    return true;
  }

  protected silent(n: NodeRef): NodeOutcome {
    return { node: n.name, address: n.address, state: "silent", results: [] };
  }

  protected gone(node: string, address: string, state: "unreachable" | "rejected", reason: string): NodeOutcome {
    return { node, address, state, results: [], reason };
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
