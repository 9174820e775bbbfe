import type { pb } from "../proto/index.js";
import type { Clock, Timer } from "../base/clock.js";
import type { MemberStatus } from "../swim/types.js";
import { expiresAtMs, idToHex, type Envelope } from "./envelope.js";

/**
 * The results path at the origin: one Publication per envelope this node
 * published. It collects the NodeReply of each node (first one wins per
 * node), marks expected nodes unreachable when the membership declares them
 * failed or left before they answered, and ends with `done` once every
 * expected node has answered or is unreachable, or on cancel or expiry.
 *
 * Events are kept in order, so a subscriber that arrives late (the daemon
 * streaming NDJSON) sees the whole story from the `expected` event on.
 */
export type UnreachableReason = "failed" | "left" | "not a member";
export type DoneReason = "complete" | "expired" | "cancelled";

export interface DoneEvent {
  type: "done";
  reason: DoneReason;
  /** Nodes that answered, in answer order (unexpected ones included). */
  answered: string[];
  unreachable: string[];
  /** Expected nodes that neither answered nor were declared unreachable. */
  missing: string[];
}

export type PublishEvent =
  /** `nodes` is null when the publisher named no expected set (open-ended). */
  | { type: "expected"; id: string; nodes: string[] | null }
  | { type: "reply"; node: string; expected: boolean; reply: pb.NodeReply }
  | { type: "unreachable"; node: string; reason: UnreachableReason }
  | DoneEvent;

export class Publication {
  readonly idHex: string;
  /** Resolves with the done event. */
  readonly finished: Promise<DoneEvent>;
  private readonly expected: Set<string> | null;
  private readonly answered = new Set<string>();
  private readonly unreachable = new Set<string>();
  private readonly log: PublishEvent[] = [];
  private readonly listeners = new Set<(e: PublishEvent) => void>();
  private wakers: (() => void)[] = [];
  private resolveFinished!: (e: DoneEvent) => void;
  private expiryTimer: Timer | null = null;

  constructor(
    readonly envelope: Envelope,
    expected: string[] | undefined,
    private readonly onDone: (p: Publication) => void,
  ) {
    this.idHex = idToHex(envelope.id);
    this.expected = expected ? new Set(expected) : null;
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  get done(): boolean {
    return this.log.at(-1)?.type === "done";
  }

  /**
   * Emits the expected set, declares unreachable the expected nodes that are
   * already failed, left or unknown, and arms the expiry.
   */
  start(statusOf: (node: string) => MemberStatus | undefined, clock: Clock): void {
    this.emit({ type: "expected", id: this.idHex, nodes: this.expected ? [...this.expected] : null });
    for (const node of this.expected ?? []) {
      const status = statusOf(node);
      if (status === "dead") this.markUnreachable(node, "failed");
      else if (status === "left") this.markUnreachable(node, "left");
      else if (status === undefined) this.markUnreachable(node, "not a member");
    }
    this.checkComplete();
    if (!this.done) {
      this.expiryTimer = clock.setTimeout(() => this.finish("expired"), Math.max(0, expiresAtMs(this.envelope) - clock.now()));
    }
  }

  /** Expected nodes that have neither answered nor been declared unreachable. */
  pending(): string[] {
    return [...(this.expected ?? [])].filter((n) => !this.answered.has(n) && !this.unreachable.has(n));
  }

  /** Replies recorded so far (expected and unexpected). */
  get replyCount(): number {
    return this.answered.size;
  }

  isExpected(node: string): boolean {
    return this.expected?.has(node) ?? false;
  }

  hasAnswered(node: string): boolean {
    return this.answered.has(node);
  }

  /** Records a node's reply; false when it is a duplicate or arrives after done. */
  recordReply(reply: pb.NodeReply): boolean {
    const node = reply.node;
    if (this.done || this.answered.has(node) || this.unreachable.has(node)) return false;
    this.answered.add(node);
    this.emit({ type: "reply", node, expected: this.expected?.has(node) ?? false, reply });
    this.checkComplete();
    return true;
  }

  /** An expected node that has not answered is declared gone by the membership. */
  markUnreachable(node: string, reason: UnreachableReason): void {
    if (this.done || !this.expected?.has(node) || this.answered.has(node) || this.unreachable.has(node)) return;
    this.unreachable.add(node);
    this.emit({ type: "unreachable", node, reason });
    this.checkComplete();
  }

  cancel(): void {
    this.finish("cancelled");
  }

  /** Calls fn with every event so far, then with each new one; returns an unsubscribe. */
  subscribe(fn: (e: PublishEvent) => void): () => void {
    for (const e of this.log) fn(e);
    if (this.done) return () => undefined;
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Every event from the first, ending after done. */
  async *events(): AsyncGenerator<PublishEvent> {
    for (let i = 0; ;) {
      while (i < this.log.length) {
        const e = this.log[i++]!;
        yield e;
        if (e.type === "done") return;
      }
      await new Promise<void>((wake) => this.wakers.push(wake));
    }
  }

  private checkComplete(): void {
    if (!this.expected || this.done) return;
    for (const node of this.expected) {
      if (!this.answered.has(node) && !this.unreachable.has(node)) return;
    }
    this.finish("complete");
  }

  private finish(reason: DoneReason): void {
    if (this.done) return;
    this.expiryTimer?.cancel();
    const missing = this.pending();
    const done: DoneEvent = { type: "done", reason, answered: [...this.answered], unreachable: [...this.unreachable], missing };
    this.emit(done);
    this.listeners.clear();
    this.resolveFinished(done);
    this.onDone(this);
  }

  private emit(e: PublishEvent): void {
    this.log.push(e);
    for (const fn of this.listeners) fn(e);
    const wakers = this.wakers;
    this.wakers = [];
    for (const wake of wakers) wake();
  }
}
