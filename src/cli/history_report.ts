import type { NodeRef } from "../control/api_types.js";
import type { HistoryEvent, NodeHistoryAnswer } from "../control/watch_types.js";
import { StreamReport } from "./stream_report.js";

/*
 * What `gcheck history` and `gcheck status` learned from the daemon's event
 * stream (POST /v1/history, /v1/status): each expected node's answer (its
 * batches and transitions, or its scheduled checks' states and quorum
 * verdicts), or why it has none. The output files merge the answers.
 */

/** answered: the node's answer came back; unreachable / rejected: the origin said so; silent: no word by the end. */
export type HistoryNodeState = "answered" | "unreachable" | "rejected" | "silent";

export interface HistoryNodeOutcome {
  node: string;
  address: string;
  state: HistoryNodeState;
  answer?: NodeHistoryAnswer;
  /** Why the node is unreachable or refused the question. */
  reason?: string;
  /** From the question until this node's answer arrived at the origin (ms). */
  elapsedMs?: number;
}

export class HistoryReport extends StreamReport<HistoryNodeOutcome> {
  id = "";

  /** Folds one stream event in; returns false for an event it does not know (newer daemon). */
  apply(e: HistoryEvent): boolean {
    if (e.type === "accepted") this.id = e.id;
    if (e.type !== "answer") return this.applyCommon(e);
    this.nodes.set(e.node, { node: e.node, address: e.address, state: "answered", answer: e.answer, elapsedMs: e.elapsedMs });
    return true;
  }

  protected silent(n: NodeRef): HistoryNodeOutcome {
    return { node: n.name, address: n.address, state: "silent" };
  }

  protected gone(node: string, address: string, state: "unreachable" | "rejected", reason: string): HistoryNodeOutcome {
    return { node, address, state, reason };
  }

  /** Every node heard of, by name. */
  outcomes(): HistoryNodeOutcome[] {
    return [...this.nodes.values()].sort((a, b) => a.node.localeCompare(b.node));
  }

  /** The answers of one kind ("history" or "status"), with the node that gave each. */
  answers<W extends NodeHistoryAnswer["what"]>(what: W): { node: string; answer: Extract<NodeHistoryAnswer, { what: W }> }[] {
    return this.outcomes().flatMap((o) => (o.answer?.what === what ? [{ node: o.node, answer: o.answer as Extract<NodeHistoryAnswer, { what: W }> }] : []));
  }

  counts(): Record<HistoryNodeState, number> & { expected: number } {
    const c = { expected: this.expected.length, answered: 0, unreachable: 0, rejected: 0, silent: 0 };
    for (const n of this.nodes.values()) c[n.state]++;
    return c;
  }

  /** "web-03 (no answer)", ... for every node without an answer. */
  missing(): string[] {
    return this.outcomes()
      .filter((n) => n.state !== "answered")
      .map((n) => `${n.node} (${n.state === "silent" ? "no answer" : n.state}${n.reason ? `: ${n.reason}` : ""})`);
  }
}
