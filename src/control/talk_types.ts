import type { NodeRef } from "./api_types.js";

/*
 * The contract of nodes talking and organising themselves (issue 17): user
 * events and queries, channels, the coordinator, waiting for members. Both
 * gcheck, the client library (gossipcheck/client) and the daemon import it.
 *
 *   POST /v1/events                 EventRequestBody  -> NDJSON EventStreamEvent
 *   POST /v1/queries                QueryRequestBody  -> NDJSON QueryStreamEvent
 *   POST /v1/channels/NAME[?node=N] raw body (the message, up to the frame size) -> {id, seq}
 *   GET  /v1/channels/NAME          SSE: "subscribed" {channel, node} once live, then "message" ChannelMessage per message, in each sender's order
 *   GET  /v1/members?wait=...       long poll (WaitQuery) -> MembersResponse once the condition holds, 408 at its timeout
 *
 * Payloads travel as base64 in JSON (any bytes, 10 MB tested); *Text
 * variants carry UTF-8 text for curl users.
 */

/** POST /v1/events: delivered once to every targeted node's `-on user:NAME=SCRIPT` handlers. */
export interface EventRequestBody {
  /** 1 to 128 characters of A-Z a-z 0-9 . _ : - */
  name: string;
  /** The payload, base64; or payloadText (UTF-8). At most the frame size (16 MiB by default) minus the envelope. */
  payload?: string;
  payloadText?: string;
  nodes?: string[];
  tags?: Record<string, string>;
  /** Wait for each node's handlers' exit statuses too (gcheck event -wait-handlers). Default false: done when every node received it. */
  waitHandlers?: boolean;
  /** How long the origin waits (ms). Default 30 s. */
  timeoutMs?: number;
  submitter?: string;
}

export type EventStreamEvent =
  | { type: "accepted"; id: string; name: string; origin: string; createdMs: number; bytes: number; expected: NodeRef[] }
  /** The node has the event (and started its handlers, how many). */
  | { type: "delivered"; node: string; address: string; handlers: number; elapsedMs: number }
  /** With waitHandlers: each handler's exit (code null when killed: signal says by what, e.g. the 30 s timeout). */
  | { type: "handled"; node: string; address: string; results: { script: string; code: number | null; signal?: string; durationMs: number }[]; elapsedMs: number }
  | { type: "rejected"; node: string; address?: string; reason: string }
  | { type: "unreachable"; node: string; address?: string; reason: string }
  | { type: "done"; elapsedMs: number; timedOut: boolean }
  | { type: "error"; error: string };

/** POST /v1/queries: every targeted node runs its `-on query:NAME=SCRIPT` handlers and sends their standard output back. */
export interface QueryRequestBody {
  name: string;
  payload?: string;
  payloadText?: string;
  nodes?: string[];
  tags?: Record<string, string>;
  /** How long the origin waits for answers (ms). Default 10 s; the handlers' own timeout is this too (at most 30 s). */
  timeoutMs?: number;
  submitter?: string;
}

/** Standard output a query handler may send back (bytes); more is cut and marked truncated. */
export const QUERY_OUTPUT_MAX_BYTES = 64 * 1024;

export type QueryStreamEvent =
  | { type: "accepted"; id: string; name: string; origin: string; createdMs: number; expected: NodeRef[] }
  /** One node's answer: each handler's output (base64, and as text when it is UTF-8) and exit. No handler: handlers is empty. */
  | {
      type: "answer";
      node: string;
      address: string;
      handlers: { script: string; code: number | null; signal?: string; output: string; outputText?: string; truncated: boolean; durationMs: number }[];
      elapsedMs: number;
    }
  | { type: "rejected"; node: string; address?: string; reason: string }
  | { type: "unreachable"; node: string; address?: string; reason: string }
  | { type: "done"; elapsedMs: number; timedOut: boolean }
  | { type: "error"; error: string };

/** One message on a channel, as a subscriber receives it (GET /v1/channels/NAME, event "message"). */
export interface ChannelMessage {
  channel: string;
  /** The sending node and the sender's sequence number there (per channel, per sending node: subscribers get them in order). */
  from: string;
  seq: number;
  /** The envelope ID (hex). */
  id: string;
  sentMs: number;
  /** The body, base64; and as text when it is UTF-8. */
  data: string;
  text?: string;
  /** Sent to one node (?node=) rather than to every subscriber. */
  direct?: boolean;
  /**
   * Messages of this sender skipped just before this one: they did not reach
   * this node within the reorder wait (3 s) and never will (absent: none).
   */
  missed?: number;
}

/** POST /v1/channels/NAME's answer. */
export interface ChannelPublishResponse {
  id: string;
  seq: number;
  /** Members alive when it was published (every one gets it; only those with subscribers deliver it). */
  members: number;
}

/** Channel names: 1 to 128 of A-Z a-z 0-9 . _ : - ; names starting with "gossipcheck" or "_" are reserved. */
export const CHANNEL_NAME = /^[A-Za-z0-9._:-]{1,128}$/;
export const RESERVED_CHANNEL = /^(gossipcheck|_)/i;

/**
 * The coordinator(s): a pure function of the member list, the same on every
 * node that has the same view. MemberView.coordinator marks them in GET
 * /v1/members; the members stream sends "coordinator" {coordinators} when
 * they change.
 */
export interface CoordinatorChange {
  coordinators: string[];
  /** Set when -coordinator-quorum keeps this node from promoting itself (it sees too few members). */
  withheld?: string;
}

/** gcheck wait / GET /v1/members?wait=1&tag=k=v&count=N&timeout=60s: until that many alive members carry the tags. */
export interface WaitQuery {
  tags: Record<string, string>;
  count: number;
  timeoutMs: number;
}
