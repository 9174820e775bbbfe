/*
 * The rules of user events and queries (issue 17) that gcheck, the daemon's
 * API and the -on parser share: the name rule, the timeouts and the payload
 * bound. The request and stream shapes are in talk_types.ts.
 */

/** Event and query names: 1 to 128 of A-Z a-z 0-9 . _ : - (as channel names). */
export const EVENT_NAME = /^[A-Za-z0-9._:-]{1,128}$/;

/** Why `name` is not an event or query name (`what` names where it came from), or undefined. */
export function eventNameProblem(name: unknown, what: string): string | undefined {
  if (typeof name !== "string" || name === "") return `${what}: the name is missing: give 1 to 128 of A-Z a-z 0-9 . _ : -`;
  if (!EVENT_NAME.test(name)) return `${what}: ${JSON.stringify(name.slice(0, 140))} is not a name: 1 to 128 of A-Z a-z 0-9 . _ : - (no spaces, no slashes)`;
  return undefined;
}

/** How long the origin waits for an event's nodes by default (ms); the event is live (TTL) this long too. */
export const EVENT_TIMEOUT_DEFAULT_MS = 30_000;
/** How long the origin waits for a query's answers by default (ms); also its TTL and its handlers' timeout. */
export const QUERY_TIMEOUT_DEFAULT_MS = 10_000;
/**
 * Longest wait (and so TTL) of an event or query (ms). Every node keeps a
 * live envelope, payload included, in its seen-history until it expires, so
 * that anti-entropy can hand it to a node the burst missed: a 10 MB event
 * held for an hour costs 10 MB on every node for that hour.
 */
export const TALK_TIMEOUT_MAX_MS = 60 * 60_000;
export const TALK_TIMEOUT_MIN_MS = 100;
/** A query handler runs at most this long (ms), whatever the query's timeout: the trigger runner's bound. */
export const QUERY_HANDLER_MAX_MS = 30_000;

/**
 * Largest payload (bytes): 12 MiB less 16 KiB. It travels as base64 in the
 * API's JSON body, whose limit is 16 MiB (DEFAULT_MAX_BODY_BYTES: 12 MiB is
 * 16 MiB of base64; the 16 KiB leave room for the other fields), and the envelope must fit the gossip layer's maxEnvelopeBytes
 * (15 MiB by default, under the 16 MiB frame). A node started with a
 * smaller -max-frame-size refuses larger ones at publication (413, with the
 * gossip layer's message).
 */
export const EVENT_PAYLOAD_MAX_BYTES = 12 * 1024 * 1024 - 16 * 1024;
