import type { EventStreamEvent, QueryStreamEvent } from "../control/talk_types.js";
import type { NodeRef } from "../control/api_types.js";
import { Exit } from "./errors.js";
import { StreamReport } from "./stream_report.js";

/*
 * What `gcheck event` and `gcheck query` learned from the daemon's stream
 * (talk_types.ts): each expected node's delivery, handlers' exits or
 * answer, or why it has none; and the exit code: 1 a handler that ran
 * failed (exit status not 0, killed, timed out; for an event only with
 * -wait-handlers) or a node refused, else 3 some node never answered
 * (silent or unreachable), else 0.
 */

export type TalkNodeState = "delivered" | "handled" | "answered" | "unreachable" | "rejected" | "silent";

type Handled = Extract<EventStreamEvent, { type: "handled" }>["results"][number];
type Answered = Extract<QueryStreamEvent, { type: "answer" }>["handlers"][number];

export interface TalkNodeOutcome {
  node: string;
  address: string;
  state: TalkNodeState;
  /** Handlers the node started (events). */
  handlers?: number;
  /** Each handler's end (event -wait-handlers) or answer (query). */
  results?: (Handled | Answered)[];
  reason?: string;
  /** From the request until the origin had this (ms): delivery, and the handlers' end or the answer. */
  deliveredMs?: number;
  elapsedMs?: number;
}

export class TalkReport extends StreamReport<TalkNodeOutcome> {
  id = "";
  name = "";
  bytes = 0;
  /** The NDJSON lines as they came (-output ndjson passes them on). */
  readonly events: (EventStreamEvent | QueryStreamEvent)[] = [];

  constructor(
    readonly kind: "event" | "query",
    /** An event's nodes count once their handlers ended too (-wait-handlers). */
    readonly waitHandlers = false,
  ) {
    super();
  }

  apply(e: EventStreamEvent | QueryStreamEvent): boolean {
    this.events.push(e);
    if (e.type === "accepted") {
      this.id = e.id;
      this.name = e.name;
      if ("bytes" in e) this.bytes = e.bytes;
    }
    const base = { node: "node" in e ? e.node : "", address: "address" in e ? (e.address ?? "") : "" };
    switch (e.type) {
      case "delivered":
        this.nodes.set(e.node, { ...base, state: "delivered", handlers: e.handlers, deliveredMs: e.elapsedMs, elapsedMs: e.elapsedMs });
        return true;
      case "handled": {
        const before = this.nodes.get(e.node);
        this.nodes.set(e.node, {
          ...base,
          state: "handled",
          handlers: before?.handlers ?? e.results.length,
          results: e.results,
          ...(before?.deliveredMs !== undefined && { deliveredMs: before.deliveredMs }),
          elapsedMs: e.elapsedMs,
        });
        return true;
      }
      case "answer":
        this.nodes.set(e.node, { ...base, state: "answered", handlers: e.handlers.length, results: e.handlers, elapsedMs: e.elapsedMs });
        return true;
      default:
        return this.applyCommon(e);
    }
  }

  /** Every expected node accounted for: delivered (handled with -wait-handlers), answered, or given up on. */
  override get complete(): boolean {
    const open: TalkNodeState[] = this.waitHandlers ? ["silent", "delivered"] : ["silent"];
    return this.accepted && this.expected.every((n) => !open.includes(this.nodes.get(n.name)?.state ?? "silent"));
  }

  protected silent(n: NodeRef): TalkNodeOutcome {
    return { node: n.name, address: n.address, state: "silent" };
  }

  protected gone(node: string, address: string, state: "unreachable" | "rejected", reason: string): TalkNodeOutcome {
    return { node, address, state, reason };
  }

  outcomes(): TalkNodeOutcome[] {
    return [...this.nodes.values()].sort((a, b) => a.node.localeCompare(b.node));
  }

  counts(): Record<TalkNodeState, number> & { expected: number; failedHandlers: number } {
    const c = { expected: this.expected.length, delivered: 0, handled: 0, answered: 0, unreachable: 0, rejected: 0, silent: 0, failedHandlers: 0 };
    for (const n of this.nodes.values()) {
      c[n.state]++;
      c.failedHandlers += (n.results ?? []).filter((r) => r.code !== 0).length;
    }
    return c;
  }

  exitCode(): number {
    const c = this.counts();
    if (c.failedHandlers > 0 || c.rejected > 0) return Exit.ChecksFailed;
    // An event with -wait-handlers whose node said "delivered" but never "handled" is still waiting.
    const open = c.unreachable + c.silent + (this.waitHandlers ? c.delivered : 0);
    return open > 0 ? Exit.NodesMissing : Exit.Ok;
  }
}
