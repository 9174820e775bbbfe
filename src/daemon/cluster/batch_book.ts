import { fromWireReport } from "../../checks/codec.js";
import type { CheckResult } from "../../checks/types.js";
import type { Publication } from "../../gossip/publication.js";
import type { Clock } from "../../base/clock.js";
import type { BatchEvent, BatchSummary, NodeRef } from "../../control/api_types.js";
import type { BatchListItem } from "../../control/stream_types.js";
import type { BatchRecord } from "../../control/watch_types.js";
import { UNREACHABLE } from "./follow.js";

/*
 * The batches this daemon knows, for GET /v1/batches and the web view's
 * live streams: those it published (origin), followed reply by reply, and
 * those it ran for another origin (from its history). For a batch it
 * published it keeps the batch's events (accepted, each node's results,
 * unreachable, done), so a page opened mid-batch replays what came and then
 * follows live.
 *
 * Bounds: at most maxBatches published batches are listed; their kept
 * events count at most maxResults node results in all. Past that, the oldest
 * batches' events are dropped first (their summary and counts stay), and
 * following such a batch is answered from the cluster's history instead.
 */

export interface BatchBookOptions {
  clock: Clock;
  /** Batches this node ran, newest first (the history); absent: none. */
  ranHere?: (limit: number) => BatchRecord[];
  maxBatches?: number;
  maxResults?: number;
}

/** Published batches kept (GET /v1/batches). */
export const BATCH_BOOK_SIZE = 100;
/** Node results kept over all published batches (each a node's results for one batch). */
export const BATCH_BOOK_RESULTS = 20_000;
/** Batches a list shows at most (published and history together). */
export const BATCH_LIST_SIZE = 200;

interface Entry {
  item: BatchListItem;
  /** null once dropped for the bound (or never kept). */
  events: BatchEvent[] | null;
  results: number;
  listeners: Set<(e: BatchEvent) => void>;
}

export class BatchBook {
  /** Newest first. */
  private readonly published: Entry[] = [];
  private readonly byId = new Map<string, Entry>();
  private readonly listeners = new Set<(item: BatchListItem) => void>();
  private keptResults = 0;
  private readonly maxBatches: number;
  private readonly maxResults: number;

  constructor(private readonly o: BatchBookOptions) {
    this.maxBatches = o.maxBatches ?? BATCH_BOOK_SIZE;
    this.maxResults = o.maxResults ?? BATCH_BOOK_RESULTS;
  }

  /** A batch this node just published; followed until done. onRoundTrip: (last reply − submission) ms when it completed. */
  add(
    pub: Publication,
    b: { checks: number; descriptions?: ReadonlyMap<string, string>; dryRun: boolean; expected: NodeRef[]; submittedMs: number; submitter?: string },
    onRoundTrip: (ms: number) => void,
  ): void {
    const item: BatchListItem = {
      batchId: pub.idHex,
      origin: pub.envelope.origin,
      createdMs: pub.envelope.createdMs,
      ttlMs: pub.envelope.ttlMs,
      checks: b.checks,
      dryRun: b.dryRun,
      expected: b.expected.length,
      answered: 0,
      state: "running",
      source: "origin",
      counts: { pass: 0, fail: 0, fixed: 0, error: 0 },
      ...(b.submitter && { submitter: b.submitter }),
    };
    const accepted: BatchEvent = { type: "accepted", batchId: item.batchId, origin: item.origin, createdMs: item.createdMs, ttlMs: item.ttlMs, expected: b.expected };
    const entry: Entry = { item, events: [accepted], results: 0, listeners: new Set() };
    this.published.unshift(entry);
    this.byId.set(item.batchId, entry);
    while (this.published.length > this.maxBatches) this.forget(this.published.pop()!);
    const addressOf = (node: string) => b.expected.find((r) => r.name === node)?.address;
    let lastReplyMs = b.submittedMs;
    pub.subscribe((e) => {
      const elapsedMs = this.o.clock.now() - b.submittedMs;
      if (e.type === "reply") {
        item.answered++;
        lastReplyMs = this.o.clock.now();
        const r = e.reply;
        if (r.rejected != null) this.record(entry, { type: "rejected", node: r.node, address: r.address, reason: r.rejected });
        else if (r.checks) {
          const results = fromWireReport(r.checks, b.descriptions);
          count(item, results);
          this.record(entry, { type: "result", node: r.node, address: r.address, results, elapsedMs }, 1);
        }
      } else if (e.type === "unreachable") {
        const address = addressOf(e.node);
        this.record(entry, { type: "unreachable", node: e.node, ...(address !== undefined && { address }), reason: UNREACHABLE[e.reason] });
      } else if (e.type === "done") {
        item.state = "done";
        if (e.reason === "complete" && e.answered.length > 0) onRoundTrip(lastReplyMs - b.submittedMs);
        this.record(entry, { type: "done", elapsedMs, timedOut: e.reason !== "complete" });
      }
      this.changed(item);
    });
    this.changed(item);
  }

  /** A batch this node ran for any origin (its history has it now): listed live when another node published it. */
  ran(batchId: string, origin: string, createdMs: number, results: readonly CheckResult[], dryRun: boolean, submitter: string): void {
    if (this.byId.has(batchId)) return;
    const item: BatchListItem = { ...historyItem({ batchId, origin, createdMs, finishedMs: this.o.clock.now(), dryRun, submitter, signer: "", schedule: "", counts: {} }), checks: results.length };
    count(item, results);
    this.changed(item);
  }

  /** GET /v1/batches: published batches, newest first. */
  summaries(): BatchSummary[] {
    return this.published.map(({ item }) => ({
      batchId: item.batchId,
      origin: item.origin,
      createdMs: item.createdMs,
      ttlMs: item.ttlMs,
      checks: item.checks,
      dryRun: item.dryRun,
      expected: item.expected,
      answered: item.answered,
      state: item.state,
    }));
  }

  /** The batches view: published ones and those this node ran (history), newest first, at most BATCH_LIST_SIZE. */
  list(): BatchListItem[] {
    const ran = (this.o.ranHere?.(BATCH_LIST_SIZE) ?? []).filter((r) => !this.byId.has(r.batchId)).map(historyItem);
    return [...this.published.map((e) => ({ ...e.item, counts: { ...e.item.counts } })), ...ran].sort((a, b) => b.createdMs - a.createdMs).slice(0, BATCH_LIST_SIZE);
  }

  /** Every new batch and every change of one (a reply, done); returns the unsubscribe. */
  onChange(listener: (item: BatchListItem) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A published batch's events so far and then live, until done or the
   * signal aborts; undefined when this node did not publish it or no longer
   * keeps its events.
   */
  follow(batchId: string, signal: AbortSignal): AsyncIterable<BatchEvent> | undefined {
    const entry = this.byId.get(batchId);
    if (!entry?.events) return undefined;
    const queue = [...entry.events];
    let wake: (() => void) | null = null;
    const poke = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const listener = (e: BatchEvent) => {
      queue.push(e);
      poke();
    };
    entry.listeners.add(listener);
    signal.addEventListener("abort", poke, { once: true });
    return (async function* () {
      try {
        for (;;) {
          if (signal.aborted) return;
          const e = queue.shift();
          if (e) {
            yield e;
            if (e.type === "done") return;
            continue;
          }
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        entry.listeners.delete(listener);
        signal.removeEventListener("abort", poke);
      }
    })();
  }

  private record(entry: Entry, e: BatchEvent, results = 0): void {
    if (entry.events) {
      entry.events.push(e);
      entry.results += results;
      this.keptResults += results;
    }
    for (const l of entry.listeners) l(e);
    // Oldest published batches' events go first; the one just added is the last to go.
    for (let i = this.published.length - 1; this.keptResults > this.maxResults && i > 0; i--) this.dropEvents(this.published[i]!);
  }

  private dropEvents(entry: Entry): void {
    if (!entry.events) return;
    this.keptResults -= entry.results;
    entry.results = 0;
    entry.events = null;
  }

  private forget(entry: Entry): void {
    this.dropEvents(entry);
    this.byId.delete(entry.item.batchId);
  }

  private changed(item: BatchListItem): void {
    if (this.listeners.size === 0) return;
    const copy = { ...item, counts: { ...item.counts } };
    for (const l of this.listeners) l(copy);
  }
}

function count(item: BatchListItem, results: readonly CheckResult[]): void {
  for (const r of results) {
    const c = item.counts as Record<string, number>;
    c[r.status] = (c[r.status] ?? 0) + 1;
  }
}

/** A batch this node ran, as the batches view lists it: one node's answer, so 1 of 1. */
function historyItem(r: BatchRecord): BatchListItem {
  const counts = { pass: r.counts.pass ?? 0, fail: r.counts.fail ?? 0, fixed: r.counts.fixed ?? 0, error: r.counts.error ?? 0, ...(r.counts.warn !== undefined && { warn: r.counts.warn }) };
  return {
    batchId: r.batchId,
    origin: r.origin,
    createdMs: r.createdMs,
    ttlMs: 0,
    checks: Object.values(r.counts).reduce((a, b) => a + (b ?? 0), 0),
    dryRun: r.dryRun,
    expected: 1,
    answered: 1,
    state: "done",
    source: "history",
    counts,
    ...(r.submitter && { submitter: r.submitter }),
  };
}
