/**
 * What the dissemination layer counts, for the control API and /metrics.
 * Monotonic totals since start unless the name says otherwise.
 */
export interface GossipCounters {
  /** Envelopes this node published. */
  published: number;
  /** Envelopes received for the first time (push, pull or push-pull). */
  received: number;
  /** Envelopes received again after the first time (dropped). */
  duplicates: number;
  /** Envelopes dropped because they had expired. */
  expiredDropped: number;
  /** Envelopes refused as malformed (bad id, TTL, future creation, too large). */
  invalidDropped: number;
  /** Envelopes handed to a consumer. */
  consumed: number;
  /** Envelopes not consumed because the node cannot rule out having run them (created before its seen-history began, or the state file is unwritable). */
  refusedUnsafe: number;
  /** Envelopes refused at admission (a bad signature, or unsigned where signatures are required): not recorded as seen, not relayed. */
  refusedAdmission: number;
  /** Burst forwards sent, and how many of them failed. */
  forwarded: number;
  forwardFailed: number;
  /** Advertise requests sent, and envelope IDs sent in advertisements (directed repairs, answers to a LiveIdsRequest; a periodic advertisement carries a digest, not IDs). */
  advertisements: number;
  advertisedIds: number;
  /** Periodic advertisements received whose digest matched this node's live set (nothing to do), and those that did not (the IDs were asked for). */
  digestMatches: number;
  digestMismatches: number;
  /** Requests for this node's live IDs it answered (a peer's digest differed). */
  liveIdsServed: number;
  /** Directed repair: advertisements the origin sent to expected nodes that had not answered. */
  repairs: number;
  /** Envelope IDs this node asked a peer for (Want), and envelopes it served to Wants. */
  wanted: number;
  served: number;
  /** Node replies: first attempts, further attempts, acknowledged, given up. */
  repliesSent: number;
  repliesRetried: number;
  repliesAcked: number;
  repliesAbandoned: number;
  /** Node replies that reached this node as origin; those for unknown or finished envelopes. */
  repliesReceived: number;
  repliesDropped: number;
  /** Gossip request bodies sent and received (bytes). */
  bytesSent: number;
  bytesReceived: number;
  /** Gossip messages that failed to decode (garbage, wrong version). */
  decodeErrors: number;
  /** Standing envelopes (schedules) handed over in push-pull states, and those received that were admitted and passed on. */
  standingSent: number;
  standingReceived: number;
  /** Gauges: IDs in the seen-history, envelopes live in it. */
  historySize: number;
  liveEnvelopes: number;
}

export function newGossipCounters(): GossipCounters {
  return {
    published: 0,
    received: 0,
    duplicates: 0,
    expiredDropped: 0,
    invalidDropped: 0,
    consumed: 0,
    refusedUnsafe: 0,
    refusedAdmission: 0,
    forwarded: 0,
    forwardFailed: 0,
    advertisements: 0,
    advertisedIds: 0,
    digestMatches: 0,
    digestMismatches: 0,
    liveIdsServed: 0,
    repairs: 0,
    wanted: 0,
    served: 0,
    repliesSent: 0,
    repliesRetried: 0,
    repliesAcked: 0,
    repliesAbandoned: 0,
    repliesReceived: 0,
    repliesDropped: 0,
    bytesSent: 0,
    bytesReceived: 0,
    decodeErrors: 0,
    standingSent: 0,
    standingReceived: 0,
    historySize: 0,
    liveEnvelopes: 0,
  };
}
