import type { BatchEvent, BatchSummary, MemberView, NodeRef, NodeStats } from "./api_types.js";
import type { CheckState } from "./watch_types.js";
import type { CoordinatorChange } from "./talk_types.js";

/*
 * The live streams of the control API (issue 16): what the web view at /ui/,
 * `gcheck members -watch`, `gcheck stats -watch` and curl read. Every stream
 * is Server-Sent Events (text/event-stream): one event is
 *
 *     event: <name>\n
 *     data: <one line of JSON>\n
 *     \n
 *
 * and a line ": keepalive" every STREAM_KEEPALIVE_MS so a dead client is
 * noticed. SSE and not WebSocket: every stream only pushes from daemon to
 * client (a submission is a plain POST), SSE is plain HTTP/1.1 that curl -N
 * reads, a browser's EventSource reconnects by itself, and the control API
 * stays one protocol with one authentication. A stream always starts with
 * a full snapshot, so a reconnect needs no event IDs.
 *
 *   GET /v1/streams/members                  snapshot, then member per change
 *   GET /v1/streams/stats?interval=2s        round, stats / unreachable per node, round-done; repeated
 *                         &node=N&tag=k=v      (optional targeting, repeatable)
 *   GET /v1/streams/batches                  snapshot, then batch per new batch or progress
 *   GET /v1/streams/batches/ID               one batch: BatchEvent names (accepted, result, rejected, unreachable, done)
 *   GET /v1/streams/checks?interval=5s       checks per node with its scheduled checks' states; repeated
 *
 * A client that does not read is dropped once STREAM_MAX_BUFFERED_BYTES wait
 * for it: a stream never grows the daemon's memory past that, whoever reads it.
 */

/** A ": keepalive" comment line is sent after this long without an event (ms). */
export const STREAM_KEEPALIVE_MS = 15_000;
/** A client with this many bytes unread in its socket's buffer is disconnected (bytes). */
export const STREAM_MAX_BUFFERED_BYTES = 1024 * 1024;
/** Stats interval bounds and default (ms): ?interval= on /v1/streams/stats. */
export const STATS_INTERVAL_DEFAULT_MS = 2_000;
export const STATS_INTERVAL_MIN_MS = 500;
export const STATS_INTERVAL_MAX_MS = 60_000;
/** Checks interval default (ms): ?interval= on /v1/streams/checks (same bounds as stats but at least 1 s). */
export const CHECKS_INTERVAL_DEFAULT_MS = 5_000;

/** /v1/streams/members: the member list now, then one event per change this node learns of. */
export type MemberStreamEvent =
  | { event: "snapshot"; data: { node: string; members: MemberView[] } }
  /** change: the membership's event (join, update, suspect, fail, leave, reap); member: the member after it (a reaped one is gone). */
  | { event: "member"; data: { change: "join" | "update" | "suspect" | "fail" | "leave" | "reap"; member: MemberView } }
  /** The coordinators changed (talk_types.ts); also sent after the snapshot. */
  | { event: "coordinator"; data: CoordinatorChange };

/**
 * /v1/streams/stats: every interval one round. A round asks every targeted
 * running member once (one STATS_REQUEST envelope, whoever watches) and
 * lists each answer as it arrives; a node that has not answered when the
 * round ends (at 90% of the interval) is unreachable for that round.
 */
export type StatsStreamEvent =
  | { event: "round"; data: { round: number; intervalMs: number; startedMs: number; expected: NodeRef[] } }
  | { event: "stats"; data: { round: number; node: string; address: string; stats: NodeStats; elapsedMs: number } }
  | { event: "unreachable"; data: { round: number; node: string; address?: string; reason: string } }
  | { event: "round-done"; data: { round: number; answered: number; expected: number; missing: string[]; elapsedMs: number } }
  /** The round could not start (e.g. the daemon is stopping); the stream goes on with the next. */
  | { event: "error"; data: { round: number; error: string } };

/** One batch as the batches view lists it. */
export interface BatchListItem extends BatchSummary {
  /** origin: this daemon published it (live progress); history: this node ran it (from its history, no progress). */
  source: "origin" | "history";
  /** Results so far by status, over every node and check answered (absent statuses are 0). */
  counts: { pass: number; fail: number; fixed: number; error: number; warn?: number };
  /** user@host of whoever submitted it, when known. */
  submitter?: string;
}

/** /v1/streams/batches: the batches this daemon holds now (newest first, at most 200), then every change. */
export type BatchesStreamEvent = { event: "snapshot"; data: { node: string; batches: BatchListItem[] } } | { event: "batch"; data: BatchListItem };

/**
 * /v1/streams/batches/ID: a batch this daemon originated replays the results
 * it holds, then streams the rest live until done; any other batch is asked
 * of the cluster's history (gcheck results ID) and ends when every node
 * answered. Event names are the BatchEvent types; data is the event.
 */
export type BatchStreamEvent = { event: BatchEvent["type"]; data: BatchEvent };

/** /v1/streams/checks: every interval, each node's scheduled checks (its states), as `gcheck status` asks them. */
export type ChecksStreamEvent =
  | { event: "checks"; data: { round: number; node: string; address: string; states: CheckState[] } }
  | { event: "unreachable"; data: { round: number; node: string; reason: string } }
  | { event: "round-done"; data: { round: number; answered: number; expected: number } };

export type StreamEvent = MemberStreamEvent | StatsStreamEvent | BatchesStreamEvent | BatchStreamEvent | ChecksStreamEvent;

/*
 * The web view's session (the page cannot put a bearer token in an
 * EventSource): when the daemon has a token, /ui/ shows a sign-in form; POST
 * /ui/login with the token (form field "token") sets the cookie
 * UI_SESSION_COOKIE (random, HttpOnly, SameSite=Strict, Path=/, lasting
 * UI_SESSION_MS), which authenticates /ui/ and GET /v1/... like the token.
 * A request authenticated by the cookie that changes anything (POST,
 * DELETE) must also carry the header UI_CSRF_HEADER: 1, which no other site
 * can make a browser send. POST /ui/logout ends the session. Without a
 * token (loopback only) everything is open, as the API is.
 */
export const UI_SESSION_COOKIE = "gossipcheck_session";
export const UI_SESSION_MS = 12 * 3600 * 1000;
export const UI_CSRF_HEADER = "x-gossipcheck-ui";
