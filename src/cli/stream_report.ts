import type { BatchEvent, KeyEvent, NodeRef, StatsEvent } from "../control/api_types.js";
import type { HistoryEvent } from "../control/watch_types.js";
import type { EventStreamEvent, QueryStreamEvent } from "../control/talk_types.js";

/*
 * What the result streams of the control API (POST /v1/check, /v1/keys,
 * /v1/stats, /v1/results, /v1/history, /v1/status) have in common, folded into one report: the expected nodes
 * from `accepted`, the nodes the origin gave up on (unreachable) or that
 * refused (rejected), and the end (done, possibly timed out). Subclasses add
 * what a node's answer carries (check results, keys).
 */

interface Tracked {
  node: string;
  address: string;
  /** "silent" until the node is accounted for. */
  state: string;
}

export abstract class StreamReport<O extends Tracked> {
  origin = "";
  createdMs = 0;
  expected: NodeRef[] = [];
  accepted = false;
  done = false;
  timedOut = false;
  protected readonly nodes = new Map<string, O>();

  /** An expected node before it answers. */
  protected abstract silent(n: NodeRef): O;
  /** A node the origin gave up on (unreachable) or that refused (rejected). */
  protected abstract gone(node: string, address: string, state: "unreachable" | "rejected", reason: string): O;

  /** Folds in an event every stream has; false for any other (a result, or a newer daemon's event). */
  protected applyCommon(e: BatchEvent | KeyEvent | StatsEvent | HistoryEvent | EventStreamEvent | QueryStreamEvent): boolean {
    switch (e.type) {
      case "accepted":
        this.accepted = true;
        this.origin = e.origin;
        this.createdMs = e.createdMs;
        this.expected = e.expected;
        for (const n of e.expected) this.nodes.set(n.name, this.silent(n));
        return true;
      case "unreachable":
      case "rejected":
        this.nodes.set(e.node, this.gone(e.node, e.address ?? this.nodes.get(e.node)?.address ?? "", e.type, e.reason));
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
}
