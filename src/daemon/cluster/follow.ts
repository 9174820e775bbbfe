import type { PublishEvent, Publication } from "../../gossip/publication.js";
import type { Clock } from "../../base/clock.js";
import type { pb } from "../../proto/index.js";
import type { BatchEvent } from "../../control/api_types.js";

/**
 * Following a publication for one client of the control API: its events in
 * order, until done, until the client's wait (timeoutMs) is over, or until
 * the client goes away. Stopping to follow changes nothing for the
 * publication itself: the envelope keeps spreading and replies keep being
 * recorded (batch history), only this client stops hearing about them.
 * follow() yields the gossip layer's events; followReplies() turns them into
 * the control API's (BatchEvent, KeyEvent).
 */
export type Followed = PublishEvent | { type: "stopped"; reason: "timeout" | "aborted" };

export async function* follow(pub: Publication, timeoutMs: number, signal: AbortSignal, clock: Clock): AsyncGenerator<Followed> {
  const queue: PublishEvent[] = [];
  let stop: "timeout" | "aborted" | null = signal.aborted ? "aborted" : null;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const unsubscribe = pub.subscribe((e) => {
    queue.push(e);
    poke();
  });
  const timer = clock.setTimeout(() => {
    stop ??= "timeout";
    poke();
  }, timeoutMs);
  const onAbort = () => {
    stop = "aborted";
    poke();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      // An abort ends at once; a timeout still hands over what already arrived.
      if (stop === "aborted") return yield { type: "stopped", reason: "aborted" };
      const e = queue.shift();
      if (e) {
        yield e;
        if (e.type === "done") return;
        continue;
      }
      if (stop === "timeout") return yield { type: "stopped", reason: "timeout" };
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    timer.cancel();
    signal.removeEventListener("abort", onAbort);
    unsubscribe();
  }
}

/** The events batch and key streams share (same shapes in BatchEvent and KeyEvent). */
export type CommonEvent = Extract<BatchEvent, { type: "rejected" | "unreachable" | "done" }>;

export const UNREACHABLE = { failed: "declared dead by the membership", left: "left the cluster", "not a member": "not a member" } as const;

export interface FollowContext {
  /** When the client submitted (clock ms): elapsedMs counts from here. */
  submittedMs: number;
  timeoutMs: number;
  signal: AbortSignal;
  clock: Clock;
  addressOf: (node: string) => string | undefined;
}

/**
 * A publication as control API events: a node's reply (through toEvent, or
 * rejected when the node refused), unreachable nodes, and done when every
 * expected node is accounted for or at timeoutMs (timedOut). A client that
 * goes away ends the stream without done.
 */
export async function* followReplies<E>(pub: Publication, c: FollowContext, toEvent: (reply: pb.NodeReply, elapsedMs: number) => E | null): AsyncGenerator<E | CommonEvent> {
  for await (const e of follow(pub, c.timeoutMs, c.signal, c.clock)) {
    const elapsedMs = c.clock.now() - c.submittedMs;
    if (e.type === "reply") {
      const r = e.reply;
      if (r.rejected != null) yield { type: "rejected", node: r.node, address: r.address, reason: r.rejected };
      else {
        const event = toEvent(r, elapsedMs);
        if (event) yield event;
      }
    } else if (e.type === "unreachable") {
      const address = c.addressOf(e.node);
      yield { type: "unreachable", node: e.node, ...(address !== undefined && { address }), reason: UNREACHABLE[e.reason] };
    } else if (e.type === "done" || (e.type === "stopped" && e.reason === "timeout")) {
      yield { type: "done", elapsedMs, timedOut: e.type === "stopped" || e.reason !== "complete" };
    }
  }
}
