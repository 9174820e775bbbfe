/**
 * Every knob of the membership layer, in one place, with what it does, what
 * it costs and how it scales (memberlist's config.go is the model). Two
 * profiles: `lan` (memberlist's DefaultLANConfig values, the daemon's default)
 * and `local` (faster, for tests and clusters on one host). Each value can be
 * overridden after picking a profile; checkConfig says what is inconsistent.
 * How a value scales with cluster size N is computed in scale.ts.
 */
export interface SwimConfig {
  /** Name of the profile these values started from (logged at start). */
  profile: string;

  /**
   * Time between two probes of this node, in ms: each protocol period probes
   * one member. Failure detection time is proportional to it; so is probe
   * traffic (one ping and one ack per node per period, independent of N).
   * Stretched by the awareness multiplier when this node is unhealthy.
   */
  probeIntervalMs: number;
  /**
   * How long to wait for a direct ack before asking relays (ping-req), in ms.
   * Should sit above the network's 99th percentile round trip; too low means
   * needless indirect probes, too high means slower detection. Must be below
   * probeIntervalMs: the indirect probe needs the rest of the period.
   */
  probeTimeoutMs: number;
  /**
   * k, the number of members asked to ping a target that missed its direct
   * ack. More relays make a false suspicion (lost packets, a bad path) less
   * likely at the cost of 4k packets per failed probe.
   */
  indirectChecks: number;

  /**
   * Lifeguard suspicion: the minimum time a suspect is given to refute is
   * SuspicionMult x max(1, log10 N) x probeIntervalMs. Higher is fewer false
   * positives under loss, slower detection of real failures.
   */
  suspicionMult: number;
  /**
   * The suspicion timer starts at SuspicionMaxTimeoutMult x the minimum and
   * shrinks toward the minimum as independent confirmations arrive
   * (SuspicionMult - 2 expected). A suspicion that nobody else confirms
   * therefore takes this many times longer: the price of robustness against
   * a single confused prober.
   */
  suspicionMaxTimeoutMult: number;
  /**
   * Lifeguard local health: the most the probe interval (and so the wait for
   * indirect acks) is stretched when this node misses acks, misses nacks or
   * has to refute suspicions about itself. 1 disables awareness.
   */
  awarenessMaxMultiplier: number;

  /**
   * Time between gossip rounds in ms: each round sends the queued updates to
   * gossipNodes random members. Lower spreads news faster (convergence takes
   * about log_gossipNodes(N) rounds) for more packets; rounds with nothing
   * queued send nothing.
   */
  gossipIntervalMs: number;
  /** Members each gossip round sends to (the fan-out). */
  gossipNodes: number;
  /**
   * For how long after declaring a member dead it is still included in
   * gossip, in ms, so that a member that was only cut off learns it was
   * declared dead and refutes (heals short partitions). Costs packets to
   * really dead members for this long.
   */
  gossipToTheDeadMs: number;
  /**
   * Each update is sent RetransmitMult x ceil(log10(N + 1)) times by every
   * node that learns it, piggybacked and gossiped. Higher makes delivery to
   * every member more certain under loss; the queue then holds updates
   * longer and packets carry more of them.
   */
  retransmitMult: number;
  /**
   * Budget of one UDP packet in bytes (probe message plus piggybacked
   * updates): bigger packets carry more updates per probe, but must stay
   * under the path MTU. Sealing (encryption, label) is added by the
   * transport on top of this budget, so keep MTU minus that overhead.
   */
  packetSizeBytes: number;

  /**
   * Time between full state exchanges (TCP push-pull) with one random member,
   * in ms, scaled up with N above 32 members (scale.ts: pushPullScale) so the
   * cluster's total push-pull bandwidth stays bounded. Anti-entropy: repairs
   * anything gossip missed. Each exchange carries every member (about 50
   * bytes each) both ways.
   */
  pushPullIntervalMs: number;
  /**
   * Least time between two catch-up pulls, in ms. A packet from a member that
   * counts more running members than this node holds records means this node
   * missed someone (typically in a join storm); it then pulls that member's
   * full state at once instead of waiting for the periodic push-pull. This
   * bounds the extra push-pull traffic per node.
   */
  catchUpIntervalMs: number;
  /** Deadline of one push-pull exchange (connect, send, reply), in ms. */
  tcpTimeoutMs: number;

  /**
   * Time after which a dead member is removed from the member list (a "reap"
   * event), in ms. Until then it is listed as dead. Its address is kept in
   * the reconnect list (reconnectTimeoutMs) after the reap.
   */
  deadReapMs: number;
  /** Same as deadReapMs for members that left gracefully. */
  leftReapMs: number;
  /**
   * Time between attempts to reach a member declared dead (or a seed that is
   * not a member) with a push-pull, in ms: this is what merges two halves of
   * a healed partition. One attempt per interval per node.
   */
  reconnectIntervalMs: number;
  /** How long a failed member stays a reconnect candidate, in ms. */
  reconnectTimeoutMs: number;
  /**
   * Back-off of join retries when no seed answers, and of re-contacting the
   * seeds while no other member is known to be running: starts at
   * joinRetryMinMs, doubles, stops growing at joinRetryMaxMs.
   */
  joinRetryMinMs: number;
  joinRetryMaxMs: number;

  /**
   * Largest total size of a member's tags (keys plus values, UTF-8 bytes).
   * Tags travel in every alive update, so they eat the packet budget.
   */
  maxTagBytes: number;
  /** Longest node name in UTF-8 bytes. */
  maxNameBytes: number;
}

/**
 * memberlist's DefaultLANConfig, plus what memberlist leaves to Serf
 * (reaping, reconnects). Reasoning for the values memberlist does not set:
 * - catchUpIntervalMs 250 ms: a node that misses members pulls at most 4
 *   full states a second, only while it misses some (in practice one or two
 *   pulls per joiner in a join storm). With 1 s, a simultaneous join of 40
 *   nodes took 1.6 s median in simulation; with 250 ms, 0.6 s (max 0.8 s);
 *   memberlist, which waits for its 60 s push-pull, had stragglers at 62-86 s;
 * - dead/left reaped after 30 s (memberlist's GossipToTheDeadTime), but
 *   reconnects go on for 24 h (Serf's ReconnectTimeout);
 * - reconnectIntervalMs 10 s (Serf uses 30 s): a healed partition merges
 *   within seconds since every node of each half tries;
 * - join retries back off from 1 s to 30 s.
 */
export function lanConfig(): SwimConfig {
  return {
    profile: "lan",
    probeIntervalMs: 1000,
    probeTimeoutMs: 500,
    indirectChecks: 3,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    awarenessMaxMultiplier: 8,
    gossipIntervalMs: 200,
    gossipNodes: 3,
    gossipToTheDeadMs: 30_000,
    retransmitMult: 4,
    packetSizeBytes: 1400,
    pushPullIntervalMs: 30_000,
    catchUpIntervalMs: 250,
    tcpTimeoutMs: 10_000,
    deadReapMs: 30_000,
    leftReapMs: 30_000,
    reconnectIntervalMs: 10_000,
    reconnectTimeoutMs: 24 * 3600_000,
    joinRetryMinMs: 1000,
    joinRetryMaxMs: 30_000,
    maxTagBytes: 512,
    maxNameBytes: 128,
  };
}

/**
 * For tests and single-host clusters (loopback round trips are well under a
 * millisecond, but 100 daemons on 2 cores can stall an event loop for tens of
 * ms, so the probe timeout keeps a wide margin):
 * - probe every 500 ms with a 200 ms timeout: a kill is noticed within about
 *   a second, and the minimum suspicion (4 x log10 N x 0.5 s) is 2 s at N=10,
 *   3.2 s at N=40, 4 s at N=100;
 * - gossip every 100 ms to 3 nodes: news crosses 100 nodes in about 0.5 s;
 * - push-pull every 10 s, dead members reaped after 15 s, reconnect every
 *   2 s, join retries from 250 ms to 5 s.
 * Measured in simulation (test/swim_*.test.ts): a node killed in a cluster of
 * 50 is declared dead by everyone in about 4.3 s; 500 nodes joining at once
 * converge in under a second.
 */
export function localConfig(): SwimConfig {
  return {
    ...lanConfig(),
    profile: "local",
    probeIntervalMs: 500,
    probeTimeoutMs: 200,
    gossipIntervalMs: 100,
    gossipToTheDeadMs: 15_000,
    pushPullIntervalMs: 10_000,
    catchUpIntervalMs: 250,
    tcpTimeoutMs: 2000,
    deadReapMs: 15_000,
    leftReapMs: 15_000,
    reconnectIntervalMs: 2000,
    reconnectTimeoutMs: 3600_000,
    joinRetryMinMs: 250,
    joinRetryMaxMs: 5000,
  };
}

const PROFILES = { lan: lanConfig, local: localConfig } as const;
/** The names of the timing profiles (-profile). */
export type ProfileName = keyof typeof PROFILES;

export const PROFILE_NAMES = Object.keys(PROFILES) as readonly ProfileName[];

/** A fresh copy of the named profile; throws when there is no such profile. */
export function profile(name: string): SwimConfig {
  const make = Object.hasOwn(PROFILES, name) ? PROFILES[name as ProfileName] : undefined;
  if (!make) throw new Error(`unknown membership profile "${name}": use one of ${PROFILE_NAMES.join(", ")}`);
  return make();
}

/**
 * What is wrong with a config (after overrides), one sentence per problem
 * naming the knob; empty when it is usable.
 */
export function checkConfig(c: SwimConfig): string[] {
  const problems: string[] = [];
  const positive: (keyof SwimConfig)[] = [
    "probeIntervalMs",
    "probeTimeoutMs",
    "suspicionMult",
    "suspicionMaxTimeoutMult",
    "awarenessMaxMultiplier",
    "gossipIntervalMs",
    "gossipNodes",
    "retransmitMult",
    "pushPullIntervalMs",
    "tcpTimeoutMs",
    "reconnectIntervalMs",
    "joinRetryMinMs",
    "joinRetryMaxMs",
    "maxNameBytes",
  ];
  for (const k of positive) {
    const v = c[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) problems.push(`${k} must be a positive number (got ${String(v)})`);
  }
  const nonNegative: (keyof SwimConfig)[] = ["indirectChecks", "gossipToTheDeadMs", "catchUpIntervalMs", "deadReapMs", "leftReapMs", "reconnectTimeoutMs", "maxTagBytes"];
  for (const k of nonNegative) {
    const v = c[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) problems.push(`${k} must be zero or more (got ${String(v)})`);
  }
  if (c.probeTimeoutMs >= c.probeIntervalMs) {
    problems.push(`probeTimeoutMs (${c.probeTimeoutMs}) must be below probeIntervalMs (${c.probeIntervalMs}): the indirect probe needs the rest of the period`);
  }
  if (c.suspicionMaxTimeoutMult < 1) problems.push(`suspicionMaxTimeoutMult must be at least 1 (got ${c.suspicionMaxTimeoutMult})`);
  if (c.joinRetryMaxMs < c.joinRetryMinMs) problems.push(`joinRetryMaxMs (${c.joinRetryMaxMs}) must be at least joinRetryMinMs (${c.joinRetryMinMs})`);
  // A probe packet carrying one alive update with the largest tags must fit.
  const minPacket = 64 + c.maxNameBytes * 2 + c.maxTagBytes + 64;
  if (c.packetSizeBytes < minPacket) {
    problems.push(`packetSizeBytes (${c.packetSizeBytes}) is too small for an alive update with ${c.maxTagBytes} bytes of tags and ${c.maxNameBytes}-byte names: use at least ${minPacket}`);
  }
  return problems;
}
