import { isUtf8 } from "node:buffer";
import type { NodeRef } from "../../control/api_types.js";
import { type EventStreamEvent, QUERY_OUTPUT_MAX_BYTES, type QueryStreamEvent } from "../../control/talk_types.js";
import type { PublishResult } from "../../gossip/disseminator.js";
import type { Publication } from "../../gossip/publication.js";
import type { pb } from "../../proto/index.js";
import type { TalkStart } from "../api/backend.js";

/*
 * The origin's side of a user event or query (issue 17): the publication
 * turned into the control API's NDJSON events (talk_types.ts). A node's
 * reply comes from the network: handler lists, scripts and outputs are
 * clipped here, so a hostile or buggy node cannot hand clients more than a
 * well-behaved one would.
 */

/** Handlers listed per node at most (a node runs as many as its -on flags name). */
const MAX_HANDLERS = 256;
/** Characters of a handler's script or signal text kept. */
const MAX_TEXT = 1024;

/** What the stream needs from the backend: the publication, its expected nodes, and its replies as events. */
export interface TalkPublished {
  published: PublishResult;
  expected: NodeRef[];
  origin: string;
  /** Follows the publication (backend.replies): node replies through toEvents, unreachable, rejected, done. */
  follow: <E>(pub: Publication, toEvent: (reply: pb.NodeReply, elapsedMs: number) => E | null) => AsyncIterable<E | { type: string }>;
}

/** A publication refused before it spread: 413 for a size, 503 otherwise. */
function refused<E>(what: string, published: PublishResult & { ok: false }): TalkStart<E> {
  const tooLarge = /exceeds the maximum/.test(published.error);
  return { ok: false, status: tooLarge ? 413 : 503, error: `the ${what} was not published: ${published.error}` };
}

/** POST /v1/events's stream: accepted, then per node delivered (and handled with waitHandlers), done. */
export function eventStream(p: TalkPublished, name: string, bytes: number): TalkStart<EventStreamEvent> {
  if (!p.published.ok) return refused("event", p.published);
  const pub = p.published.publication;
  const accepted: EventStreamEvent = { type: "accepted", id: pub.idHex, name, origin: p.origin, createdMs: pub.envelope.createdMs, bytes, expected: p.expected };
  const events = p.follow<EventStreamEvent[]>(pub, (reply, elapsedMs) => eventEvents(reply, elapsedMs, pub.envelope.createdMs));
  return { ok: true, events: flatten(accepted, events) as AsyncIterable<EventStreamEvent> };
}

/** POST /v1/queries's stream: accepted, an answer per node, done. */
export function queryStream(p: TalkPublished, name: string): TalkStart<QueryStreamEvent> {
  if (!p.published.ok) return refused("query", p.published);
  const pub = p.published.publication;
  const accepted: QueryStreamEvent = { type: "accepted", id: pub.idHex, name, origin: p.origin, createdMs: pub.envelope.createdMs, expected: p.expected };
  const events = p.follow<QueryStreamEvent[]>(pub, (reply, elapsedMs) => {
    const a = queryAnswer(reply, elapsedMs);
    return a ? [a] : null;
  });
  return { ok: true, events: flatten(accepted, events) as AsyncIterable<QueryStreamEvent> };
}

async function* flatten<E>(first: E, rest: AsyncIterable<E[] | { type: string }>): AsyncGenerator<E | { type: string }> {
  yield first;
  for await (const e of rest) {
    if (Array.isArray(e)) yield* e;
    else yield e;
  }
}

/**
 * A node's EventReport as events: delivered; with handled set (the node
 * waited for its handlers: one reply carries both facts) also handled. The
 * delivered event of such a reply is timed by the node's own receipt (its
 * receivedMs against the envelope's createdMs, within [0, elapsedMs]).
 */
export function eventEvents(reply: pb.NodeReply, elapsedMs: number, createdMs: number): EventStreamEvent[] | null {
  const r = reply.event;
  if (!r) return null;
  const base = { node: reply.node, address: reply.address };
  const handlers = Math.min(r.handlers ?? 0, MAX_HANDLERS);
  if (!r.handled) return [{ type: "delivered", ...base, handlers, elapsedMs }];
  const deliveredMs = Math.min(elapsedMs, Math.max(0, (reply.receivedMs ?? 0) - createdMs));
  const results = (r.results ?? []).slice(0, MAX_HANDLERS).map((h) => {
    const { code, signal } = exit(h);
    return { script: clip(h.script), code, ...(signal !== undefined && { signal }), durationMs: h.durationMs ?? 0 };
  });
  return [
    { type: "delivered", ...base, handlers, elapsedMs: deliveredMs },
    { type: "handled", ...base, results, elapsedMs },
  ];
}

/** A node's QueryReport as its answer event (outputs base64, and as text when UTF-8). */
export function queryAnswer(reply: pb.NodeReply, elapsedMs: number): QueryStreamEvent | null {
  const r = reply.query;
  if (!r) return null;
  const handlers = (r.handlers ?? []).slice(0, MAX_HANDLERS).map((h) => {
    const raw = Buffer.from(h.output ?? new Uint8Array(0));
    const cut = raw.length > QUERY_OUTPUT_MAX_BYTES;
    const out = cut ? raw.subarray(0, QUERY_OUTPUT_MAX_BYTES) : raw;
    const { code, signal } = exit(h);
    return {
      script: clip(h.script),
      code,
      ...(signal !== undefined && { signal }),
      output: out.toString("base64"),
      ...(isUtf8(out) && { outputText: out.toString("utf8") }),
      truncated: cut || h.truncated === true,
      durationMs: h.durationMs ?? 0,
    };
  });
  return { type: "answer", node: reply.node, address: reply.address, handlers, elapsedMs };
}

function exit(h: pb.IHandlerOutcome): { code: number | null; signal?: string } {
  const code = h.exitCode === undefined || h.exitCode === null || h.exitCode < 0 ? null : h.exitCode;
  return { code, ...(h.signal ? { signal: clip(h.signal) } : {}) };
}

function clip(s: string | null | undefined): string {
  return (s ?? "").slice(0, MAX_TEXT);
}
