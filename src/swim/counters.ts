/**
 * What the membership layer counts, for the control API, /metrics and tests.
 * Every dropped packet is counted under its reason.
 */
export interface SwimCounters {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Packets whose protocol version is not ours. */
  droppedBadVersion: number;
  /** Packets (and push-pull bodies) that are not valid protobuf. */
  droppedUndecodable: number;
  /** Pings meant for another node name (a restarted node under a new name at this address). */
  droppedWrongTarget: number;
  /** Acks and nacks matching no probe in progress (late, duplicated or forged). */
  droppedUnknownSeq: number;
  /** Updates or member states with no node name, address or known kind. */
  droppedInvalidUpdates: number;
  /** Updates piggybacked or gossiped (one per update per packet). */
  updatesSent: number;
  /** Gossip-round packets (updates only, no probe message). */
  gossipPackets: number;
  probes: number;
  /** Probes that got no ack, direct or relayed: each raises a suspicion. */
  probesFailed: number;
  pingReqsSent: number;
  pingReqsRelayed: number;
  nacksSent: number;
  nacksReceived: number;
  /** Members this node marked suspect. */
  suspicions: number;
  /** Times this node refuted a suspicion (or death) about itself. */
  refutes: number;
  /** Members this node marked dead (failed). */
  failures: number;
  /** Members this node marked left. */
  leaves: number;
  reaped: number;
  /**
   * Corrections sent (state.ts: applyUpdate): a stale accusation answered
   * with the newer alive, or a member held as left or dead that said it is
   * alive, at no newer incarnation, told of that notice.
   */
  corrections: number;
  /** Suspect and dead notices about an earlier process under a name (another address than the one held), ignored. */
  staleNotices: number;
  /** Alive updates claiming a taken name from another address, ignored. */
  nameConflicts: number;
  pushPulls: number;
  pushPullsFailed: number;
  pushPullsServed: number;
  /** Periodic push-pulls that sent a table digest first (pushpull.ts), and those answered for others. */
  digestChecks: number;
  digestChecksServed: number;
  /** Digest checks whose tables differed, so a full push-pull followed. */
  digestMismatches: number;
  /** Pulls triggered by a packet from a member that knows more members. */
  catchUpPulls: number;
  /** Joins this node refused because the joiner's name is taken. */
  joinsRefused: number;
  /** Push-pulls attempted to dead members or absent seeds. */
  reconnectAttempts: number;
}

export function newCounters(): SwimCounters {
  return {
    packetsIn: 0,
    packetsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    droppedBadVersion: 0,
    droppedUndecodable: 0,
    droppedWrongTarget: 0,
    droppedUnknownSeq: 0,
    droppedInvalidUpdates: 0,
    updatesSent: 0,
    gossipPackets: 0,
    probes: 0,
    probesFailed: 0,
    pingReqsSent: 0,
    pingReqsRelayed: 0,
    nacksSent: 0,
    nacksReceived: 0,
    suspicions: 0,
    refutes: 0,
    failures: 0,
    leaves: 0,
    reaped: 0,
    corrections: 0,
    staleNotices: 0,
    nameConflicts: 0,
    pushPulls: 0,
    pushPullsFailed: 0,
    pushPullsServed: 0,
    digestChecks: 0,
    digestChecksServed: 0,
    digestMismatches: 0,
    catchUpPulls: 0,
    joinsRefused: 0,
    reconnectAttempts: 0,
  };
}
