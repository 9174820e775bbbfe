import type { NodeRef, NodeStats, StatsEvent } from "../control/api_types.js";
import { Exit } from "./errors.js";
import { StreamReport } from "./stream_report.js";

/*
 * What `gcheck stats` learned from the daemon's event stream: each expected
 * node's stats, or why it has none; and the exit code a script sees: 0
 * every expected node answered, 3 some node did not (silent, unreachable or
 * refused). A node whose probes partly failed still answered: its `errors`
 * say what is missing.
 */

/** answered: stats came back; unreachable / rejected: the origin said so; silent: no word by the end. */
export type StatsNodeState = "answered" | "unreachable" | "rejected" | "silent";

export interface StatsNodeOutcome {
  node: string;
  address: string;
  state: StatsNodeState;
  stats?: NodeStats;
  /** Why the node is unreachable or refused the request. */
  reason?: string;
  /** From the request until this node's answer arrived at the origin (ms). */
  elapsedMs?: number;
}

export class StatsReport extends StreamReport<StatsNodeOutcome> {
  id = "";

  /** Folds one stream event in; returns false for an event it does not know (newer daemon). */
  apply(e: StatsEvent): boolean {
    if (e.type === "accepted") this.id = e.id;
    if (e.type !== "result") return this.applyCommon(e);
    this.nodes.set(e.node, { node: e.node, address: e.address, state: "answered", stats: e.stats, elapsedMs: e.elapsedMs });
    return true;
  }

  protected silent(n: NodeRef): StatsNodeOutcome {
    return { node: n.name, address: n.address, state: "silent" };
  }

  protected gone(node: string, address: string, state: "unreachable" | "rejected", reason: string): StatsNodeOutcome {
    return { node, address, state, reason };
  }

  /** Every node heard of, by name. */
  outcomes(): StatsNodeOutcome[] {
    return [...this.nodes.values()].sort((a, b) => a.node.localeCompare(b.node));
  }

  counts(): Record<StatsNodeState, number> & { expected: number } {
    const c = { expected: this.expected.length, answered: 0, unreachable: 0, rejected: 0, silent: 0 };
    for (const n of this.nodes.values()) c[n.state]++;
    return c;
  }

  exitCode(): number {
    const c = this.counts();
    return c.unreachable + c.rejected + c.silent > 0 ? Exit.NodesMissing : Exit.Ok;
  }
}
