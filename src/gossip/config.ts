/**
 * Every knob of the dissemination layer, in one documented home, with two
 * profiles: `defaultGossipConfig()` for real clusters and
 * `localGossipConfig()` for tests and single-host clusters.
 */
export interface GossipConfig {
  /**
   * Burst fan-out: how many random reachable members a node forwards a new
   * envelope to on first receipt (the -gossip-group flag). Each envelope then
   * crosses about gossipGroup x N connections in total; higher values reach
   * everyone faster and with fewer anti-entropy repairs, at the cost of more
   * duplicate frames (each one a full copy of the payload).
   */
  gossipGroup: number;
  /**
   * How often (ms) a node advertises the IDs of its live envelopes. This
   * bounds how long a node the burst missed waits: about one or two
   * intervals. Each advertisement costs advertiseFanout small requests
   * (16 bytes per live ID), and none at all while nothing is live.
   */
  advertiseIntervalMs: number;
  /**
   * Each advertise interval is stretched or shrunk by a uniform random factor
   * in [1 - jitter, 1 + jitter] so that nodes do not advertise in lockstep.
   */
  advertiseJitter: number;
  /** How many random reachable members each advertisement goes to. */
  advertiseFanout: number;
  /**
   * While nothing new arrives, the advertise interval doubles after each
   * round, up to this (ms). A new envelope, a peer asking for this node's
   * IDs (its digest differed) or a member joining brings it back to
   * advertiseIntervalMs at once. Each advertisement is a TCP message that
   * costs its sender and receiver about as much CPU as a probe: at the base
   * interval they tripled an idle daemon's CPU for as long as any envelope
   * was live (5 minutes after the last batch). A node the burst missed still
   * hears a digest within an interval or two of the batch (the intervals are
   * short then), and a node cut off longer gets the live IDs in push-pull.
   */
  advertiseIdleMaxMs: number;
  /**
   * Directed repair at the origin: this long (ms) after publishing, the
   * origin advertises the envelope straight to each expected node that has
   * not answered; the delay doubles (up to advertiseIntervalMs) while some
   * still lack it. A node that answers that it has the envelope (it is busy
   * running it) is not asked again. Costs nothing when every reply arrives
   * in time, one 16-byte advertisement per slow node otherwise, and turns the
   * burst's occasional straggler (about 1 in e^gossipGroup nodes is missed)
   * into a wait of this delay instead of an advertise interval.
   */
  repairAfterMs: number;
  /**
   * The first repair round also waits until no reply has arrived for this
   * long (ms), though never past advertiseIntervalMs after publishing. While
   * replies still stream in, the silent nodes are most likely busy rather
   * than missed (a loaded host), and advertising to them would only add
   * frames to the load; once the stream stalls, the rest are likely misses.
   */
  repairQuietMs: number;
  /** Cap on IDs per advertisement or push-pull state (newest first): 16 bytes each. */
  maxAdvertiseIds: number;
  /**
   * Deadline (ms) of one gossip request (push, advertise, want, reply). It
   * must cover sending the largest envelope over a slow link.
   */
  requestTimeoutMs: number;
  /**
   * Delays (ms) between attempts to send a node's reply to the origin; the
   * last one repeats until the origin acknowledges or the envelope expires.
   * Each delay is jittered by +-25%. Attempts pause while the origin is
   * declared dead or left and resume if it comes back.
   */
  resultRetryMs: number[];
  /**
   * The origin acknowledges replies in rounds (src/gossip/acks.ts): at most
   * this long (ms) after a round's first reply, all of the round's
   * acknowledgements go out together, one frame per replying node however
   * many batches it answered. Replies are recorded and streamed at once; only
   * the replier's bookkeeping waits. Keep it well below requestTimeoutMs. 0:
   * acknowledge each reply at once.
   */
  replyAckDelayMs: number;
  /** TTL (ms) of an envelope published without one: 5 minutes. */
  defaultTtlMs: number;
  /**
   * Largest TTL (ms) accepted from a publisher or a peer. The seen-history
   * keeps an ID until its envelope expires, so this bounds its memory (and
   * the state file) to about (envelope rate) x maxTtlMs entries.
   */
  maxTtlMs: number;
  /**
   * Clock skew (ms) tolerated between nodes. An envelope whose createdMs is
   * further in the future than this is refused (it would otherwise stay live
   * for longer than its TTL); seen IDs are kept this long after their
   * envelope expires, so a small backward step of the local clock cannot make
   * a forgotten envelope acceptable again.
   */
  maxClockSkewMs: number;
  /**
   * Clock skew (ms) allowed for when deciding whether an envelope was created
   * before this node's seen-history began (data dir new, lost or unreadable):
   * such an envelope may have run here in a life whose record is gone, so it
   * is skipped, and the origin told. Envelopes created up to this long after
   * the history began are skipped too, so that an origin whose clock runs up
   * to this far ahead of ours cannot slip an old one past. Larger is safer
   * against bad clocks and refuses more batches in a fresh node's first
   * moments; NTP keeps a fleet within a few ms. On one host (the local
   * profile) every daemon reads the same clock, so 0 is exact.
   */
  historyStartSkewMs: number;
  /**
   * Largest encoded envelope (bytes) this node publishes, relays or delivers
   * in one frame. Must stay below the transport's maximum frame size (leave
   * a few KiB for framing and encryption); the default fits a 10 MB batch.
   */
  maxEnvelopeBytes: number;
  /**
   * Most replies the origin records for one envelope. Expected nodes answer
   * once each; this bounds what unexpected repliers (late joiners, or a
   * misbehaving key holder inventing node names) can make the origin hold.
   * Replies past it are dropped, counted and logged.
   */
  maxRepliesPerEnvelope: number;
  /**
   * Delay (ms) before the background fdatasync of the seen-history log after
   * an append. Each newly seen ID is appended (one write on an open fd)
   * before its envelope is consumed, so a process crash or kill -9 loses
   * nothing; this delay is the window a power loss or kernel crash can lose.
   */
  persistDebounceMs: number;
}

/** Defaults for real clusters. */
export function defaultGossipConfig(): GossipConfig {
  return {
    gossipGroup: 5,
    advertiseIntervalMs: 1000,
    advertiseJitter: 0.25,
    advertiseFanout: 3,
    advertiseIdleMaxMs: 30_000,
    repairAfterMs: 50,
    repairQuietMs: 20,
    maxAdvertiseIds: 4096,
    requestTimeoutMs: 10_000,
    resultRetryMs: [250, 500, 1000, 2000, 5000],
    replyAckDelayMs: 200,
    defaultTtlMs: 5 * 60_000,
    maxTtlMs: 24 * 60 * 60_000,
    maxClockSkewMs: 30_000,
    historyStartSkewMs: 1000,
    maxEnvelopeBytes: 15 * 1024 * 1024,
    maxRepliesPerEnvelope: 10_000,
    persistDebounceMs: 1000,
  };
}

/** Faster timings for tests and clusters on one host. */
export function localGossipConfig(): GossipConfig {
  return {
    ...defaultGossipConfig(),
    advertiseIntervalMs: 200,
    advertiseIdleMaxMs: 5000,
    requestTimeoutMs: 2000,
    resultRetryMs: [50, 100, 200, 500],
    replyAckDelayMs: 50,
    persistDebounceMs: 50,
    historyStartSkewMs: 0,
  };
}

/** ms stretched or shrunk by a uniform random factor in [1 - fraction, 1 + fraction]. */
export function jittered(ms: number, fraction: number, random: { float(): number }): number {
  return ms * (1 + fraction * (2 * random.float() - 1));
}
