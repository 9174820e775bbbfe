import type { Clock } from "../../base/clock.js";
import type { Logger } from "../../base/logger.js";
import { errorMessage } from "../../base/result.js";
import { QUERY_OUTPUT_MAX_BYTES } from "../../control/talk_types.js";
import { EVENT_NAME, QUERY_HANDLER_MAX_MS } from "../../control/talk_rules.js";
import { isTargeted } from "../../control/targeting.js";
import type { EnvelopeHandler } from "../../gossip/disseminator.js";
import { type Envelope, expiresAtMs, idToHex } from "../../gossip/envelope.js";
import { pb } from "../../proto/index.js";
import type { Followed, FollowOptions, HandlerRun, TriggerEvent } from "../../triggers/index.js";

/*
 * What a node does with USER_EVENT and QUERY envelopes (issue 17): run its
 * `-on user:NAME=SCRIPT` or `-on query:NAME=SCRIPT` handlers through the
 * trigger runner (the same bounds as every trigger: 4 at once, a queue of
 * 256, 30 s, the process group killed) and answer the origin.
 *
 * Once per node, never replayed. This module runs what the gossip layer
 * hands it and keeps no record of its own, because the layer already
 * guarantees the rest (src/gossip/disseminator.ts accept() and consume()):
 * - an envelope's ID goes into the seen-history before the envelope is
 *   consumed, and a copy whose ID is there is dropped, whichever way it came
 *   (a burst push, an anti-entropy want/deliver, a push-pull's live IDs: all
 *   go through accept(); a burst push of a known ID is dropped even before
 *   it is decoded, by the transport's onKnown hook). The consumer runs
 *   synchronously after history.add, so two copies arriving together cannot
 *   both pass the check;
 * - with a data dir, the ID is appended to the seen-history log with a
 *   synchronous write(2) before the consumer runs (a kill -9 right after
 *   cannot lose it), and loaded at start: a restarted node that is offered
 *   the event again inside its TTL drops it as a duplicate; an envelope the
 *   log could not record is not run at all. A node whose history was lost
 *   refuses envelopes created before its history began (and says so to the
 *   origin);
 * - an expired envelope (past createdMs + TTL, the -timeout here) is never
 *   consumed, and the ID outlives the TTL by the tolerated clock skew.
 * test/talk_sim.test.ts checks it: 1,000 nodes, 10% frame loss, each
 * handler run once; test/e2e/cluster_talk.test.ts restarts a daemon.
 *
 * Replies: the gossip layer carries one NodeReply per node per envelope
 * (ReplySender keys pending replies by envelope ID; the origin's
 * Publication keeps the first per node). So a user event is answered once:
 * as soon as the handlers are enqueued ("delivered", with their count), or,
 * with wait_handlers, once they all ended, with both facts in one
 * EventReport (handled = true) from which the origin streams "delivered"
 * then "handled". A query is answered once its handlers ended or at its
 * deadline, whichever is first.
 */

/** What runs the handlers: the daemon's TriggerRunner; a fake in simulations. */
export interface TalkHandlers {
  fireAndFollow(e: TriggerEvent, options?: FollowOptions): Followed;
}

/** Running totals of one node (gossipcheck_events_* and gossipcheck_queries_* metrics). */
export interface TalkCounters {
  eventsReceived: number;
  eventHandlersRun: number;
  queriesReceived: number;
  queryHandlersRun: number;
  eventsPublished: number;
  queriesPublished: number;
}

export function newTalkCounters(): TalkCounters {
  return { eventsReceived: 0, eventHandlersRun: 0, queriesReceived: 0, queryHandlersRun: 0, eventsPublished: 0, queriesPublished: 0 };
}

export interface TalkNodeDeps {
  node: { name: string; tags: Record<string, string> };
  /** The trigger runner now (undefined: this node has none, so no handler). */
  handlers: () => TalkHandlers | undefined;
  counters: TalkCounters;
  clock: Clock;
  log: Logger;
}

/** The decoded payload of a USER_EVENT or QUERY envelope. */
export interface Talk {
  name: string;
  payload: Uint8Array;
  targetNodes: string[];
  targetTags: Record<string, string>;
  waitHandlers: boolean;
  submitter: string;
}

export function encodeUserEvent(t: Omit<Talk, "waitHandlers"> & { waitHandlers: boolean }): Uint8Array {
  return pb.UserEvent.encode(t).finish();
}

export function encodeQuery(t: Omit<Talk, "waitHandlers">): Uint8Array {
  return pb.Query.encode(t).finish();
}

/** Decodes an envelope's payload (from the network); never throws. */
export function decodeTalk(env: Envelope): { ok: true; value: Talk } | { ok: false; error: string } {
  const what = env.kind === pb.EnvelopeKind.QUERY ? "query" : "user event";
  let m: pb.UserEvent | pb.Query;
  try {
    m = env.kind === pb.EnvelopeKind.QUERY ? pb.Query.decode(env.payload) : pb.UserEvent.decode(env.payload);
  } catch (err) {
    return { ok: false, error: `undecodable ${what}: ${errorMessage(err)}` };
  }
  if (!EVENT_NAME.test(m.name)) return { ok: false, error: `${what} name ${JSON.stringify(m.name.slice(0, 140))} breaks the name rule (1 to 128 of A-Z a-z 0-9 . _ : -)` };
  return {
    ok: true,
    value: {
      name: m.name,
      payload: m.payload,
      targetNodes: m.targetNodes ?? [],
      targetTags: m.targetTags ?? {},
      waitHandlers: "waitHandlers" in m && m.waitHandlers === true,
      submitter: m.submitter ?? "",
    },
  };
}

/** The consumer of USER_EVENT envelopes. */
export function userEventHandler(d: TalkNodeDeps): EnvelopeHandler {
  return async (env) => {
    const decoded = decodeTalk(env);
    if (!decoded.ok) return { rejected: decoded.error };
    const t = decoded.value;
    if (!isTargeted(t, d.node)) return null;
    d.counters.eventsReceived++;
    const fired = fire(d, env, t, "user");
    d.counters.eventHandlersRun += fired.handlers;
    d.log.info(
      { event: t.name, envelope: idToHex(env.id), origin: env.origin, bytes: t.payload.length, handlers: fired.handlers },
      `user event ${t.name} from ${env.origin}: ${fired.handlers} handlers`,
    );
    if (!t.waitHandlers) return { event: { handlers: fired.handlers } };
    const results = await fired.ended;
    return { event: { handlers: fired.handlers, handled: true, results: results.map(toWire) } };
  };
}

/**
 * How long before its expiry a node answers a query whose handlers are still
 * going (ms): the answer must reach the origin while it still listens.
 */
function answerMarginMs(ttlMs: number): number {
  return Math.min(1000, ttlMs / 10);
}

/** The consumer of QUERY envelopes. */
export function queryHandler(d: TalkNodeDeps): EnvelopeHandler {
  return async (env) => {
    const decoded = decodeTalk(env);
    if (!decoded.ok) return { rejected: decoded.error };
    const t = decoded.value;
    if (!isTargeted(t, d.node)) return null;
    d.counters.queriesReceived++;
    const deadline = expiresAtMs(env) - answerMarginMs(env.ttlMs);
    const timeoutMs = Math.max(1, Math.min(QUERY_HANDLER_MAX_MS, deadline - d.clock.now()));
    const fired = fire(d, env, t, "query", { timeoutMs, stdoutBytes: QUERY_OUTPUT_MAX_BYTES });
    d.counters.queryHandlersRun += fired.handlers;
    d.log.debug({ query: t.name, envelope: idToHex(env.id), origin: env.origin, handlers: fired.handlers }, `query ${t.name} from ${env.origin}: ${fired.handlers} handlers`);
    if (fired.handlers === 0) return { query: { handlers: [] } };
    // Each run's end as it comes; at the deadline, the ones still going (or queued) are answered as such.
    const ended: (HandlerRun | undefined)[] = fired.runs.map(() => undefined);
    fired.runs.forEach((run, i) => void run.ended.then((r) => (ended[i] = r)));
    let timer: { cancel(): void } | undefined;
    const late = new Promise<void>((resolve) => (timer = d.clock.setTimeout(resolve, Math.max(0, deadline - d.clock.now()))));
    await Promise.race([fired.ended, late]);
    timer?.cancel();
    await Promise.resolve(); // the then() callbacks of runs that ended with the last one
    const runs = ended.map((r, i): HandlerRun => r ?? { script: fired.runs[i]!.script, exitCode: null, signal: "still running at the query's deadline", durationMs: 0, truncated: false });
    return { query: { handlers: runs.map(toWire) } };
  };
}

function fire(d: TalkNodeDeps, env: Envelope, t: Talk, kind: "user" | "query", options?: FollowOptions): Followed {
  const runner = d.handlers();
  const e: TriggerEvent = { event: `${kind}:${t.name}`, atMs: d.clock.now(), talk: { name: t.name, id: idToHex(env.id), origin: env.origin, payload: t.payload } };
  return runner ? runner.fireAndFollow(e, options) : { handlers: 0, runs: [], ended: Promise.resolve([]) };
}

function toWire(r: HandlerRun): pb.HandlerOutcome.$Properties {
  return {
    script: r.script,
    exitCode: r.exitCode ?? -1,
    ...(r.signal !== undefined && { signal: r.signal }),
    durationMs: r.durationMs,
    ...(r.output && { output: r.output }),
    truncated: r.truncated,
  };
}
