/**
 * What NodeTransport counts, for the control API and /metrics. All are
 * totals since the transport started, except the three `open*`/`pending`
 * gauges. Bytes are wire bytes (after sealing, frames with their prefix).
 */
// A type alias (not an interface) so it is assignable to Record<string, number>.
export type NetCounters = {
  packetsIn: number;
  packetsOut: number;
  packetBytesIn: number;
  packetBytesOut: number;
  framesIn: number;
  framesOut: number;
  frameBytesIn: number;
  frameBytesOut: number;
  requestsOut: number;
  requestsIn: number;
  /** One-way messages (no reply expected) sent and received. */
  oneWayOut: number;
  oneWayIn: number;
  /** One-way messages whose handler failed on this node (counted here, never answered). */
  oneWayErrors: number;
  /** One-way frames dropped unopened: this node already had what their dedup key names (repeated burst pushes). */
  knownSkipped: number;
  /** One-way messages forwarded as they were received (a burst push passed on: not encoded or sealed again). */
  relayed: number;
  /** Requests that got no reply within their deadline. */
  requestTimeouts: number;
  /** Requests answered with an error by the peer (handler threw, no handler, too large). */
  requestErrors: number;
  /** Packets or frames that failed to open with any installed key (or arrived in plaintext while a key is set). */
  decryptFailures: number;
  /** Packets or frames whose cluster label did not match ours. */
  labelMismatches: number;
  /** Frames with a protocol version we do not speak. */
  badVersion: number;
  /** Frames (and packets in plaintext mode) that did not decode. */
  undecodable: number;
  /** Packets not sent, or dropped on receipt, for exceeding maxPacketBytes. */
  oversizePackets: number;
  /** Frames refused (before sending, or on receipt) for exceeding maxFrameBytes. */
  oversizeFrames: number;
  /** Inbound connections refused because their first frame (before any frame opened) declared more than the first-frame limit. */
  firstFrameRefused: number;
  /** Inbound connections closed because incomplete frames across all connections held more than the pending-bytes budget. */
  pendingBudgetClosed: number;
  /** Inbound connections closed because a frame took longer than the frame timeout to arrive, or no frame opened within it. */
  frameTimeouts: number;
  /** Unauthenticated inbound connections closed to make room: the connection limit was reached. */
  connectionsEvicted: number;
  /** Authenticated inbound connections with nothing in flight, idle the longest, closed to make room at the connection limit (a cluster larger than the limit). */
  idleConnectionsEvicted: number;
  /** Inbound connections refused because their address already had the most unauthenticated connections allowed. */
  connectionsRefusedPerAddress: number;
  /** Connections closed because the peer stopped reading (more than maxBufferedBytes waited unsent). */
  stalledPeers: number;
  /** Requests answered by a reply frame that also answered another request of the same connection (equal replies released together). */
  coalescedReplies: number;
  /** Packets whose handler (the layer above) threw: a bug there, logged. */
  handlerErrors: number;
  /** Packets that could not be sent (bad address, socket error). */
  packetSendErrors: number;
  /** Outbound TCP connections established. */
  connectionsOpened: number;
  /** Inbound TCP connections accepted. */
  connectionsAccepted: number;
  /** Inbound connections closed at once because maxInboundConnections were open. */
  connectionsRefused: number;
  /** Outbound connection attempts that failed (refused, timed out, unresolvable). */
  dialFailures: number;
  /** Requests failed fast because their peer was in dial backoff. */
  dialBackoffRejects: number;
  openConnectionsIn: number;
  openConnectionsOut: number;
  pendingRequests: number;
  /** Bytes of incomplete inbound frames buffered now (a gauge). */
  pendingFrameBytesIn: number;
};

export function zeroCounters(): NetCounters {
  return {
    packetsIn: 0,
    packetsOut: 0,
    packetBytesIn: 0,
    packetBytesOut: 0,
    framesIn: 0,
    framesOut: 0,
    frameBytesIn: 0,
    frameBytesOut: 0,
    requestsOut: 0,
    requestsIn: 0,
    oneWayOut: 0,
    oneWayIn: 0,
    oneWayErrors: 0,
    knownSkipped: 0,
    relayed: 0,
    requestTimeouts: 0,
    requestErrors: 0,
    decryptFailures: 0,
    labelMismatches: 0,
    badVersion: 0,
    undecodable: 0,
    oversizePackets: 0,
    oversizeFrames: 0,
    firstFrameRefused: 0,
    pendingBudgetClosed: 0,
    frameTimeouts: 0,
    connectionsEvicted: 0,
    idleConnectionsEvicted: 0,
    connectionsRefusedPerAddress: 0,
    stalledPeers: 0,
    coalescedReplies: 0,
    handlerErrors: 0,
    packetSendErrors: 0,
    connectionsOpened: 0,
    connectionsAccepted: 0,
    connectionsRefused: 0,
    dialFailures: 0,
    dialBackoffRejects: 0,
    openConnectionsIn: 0,
    openConnectionsOut: 0,
    pendingRequests: 0,
    pendingFrameBytesIn: 0,
  };
}
