import { CHECK_STATUSES, type CheckResult } from "../../checks/types.js";
import type { GossipCounters } from "../../gossip/counters.js";
import type { NetCounters } from "../../net/counters.js";
import type { SwimCounters } from "../../swim/counters.js";
import type { MemberStatus } from "../../swim/types.js";
import type { StatsCounters } from "../stats/collector.js";
import type { Families, Observe } from "../api/lazy_metrics.js";

/*
 * The metric families of a cluster node (GET /metrics): the node, its
 * members by status, the batches it originated and ran, and every counter
 * of the transport, membership, dissemination and stats layers, each as a
 * family of its own named with its unit (the tables below). The layers keep
 * plain running totals; the families read them at scrape time. Decrypt
 * failures keep their short name: it is the family an operator alerts on (a
 * node with the wrong key, or someone probing the port).
 *
 * Three histograms are observed as things end: the origin's batch round
 * trip (submission to the last node's result), and, from the results a
 * batch produced on this node, each check's evaluation time and each
 * action's run time. src/checks knows nothing of metrics: the results carry
 * their timings.
 */

/** How one layer counter becomes a metric: its own family, or one label value of a family it shares. */
export interface Family {
  name: string;
  help: string;
  gauge?: true;
  /** [label name, label value] when several counters of one quantity share the family. */
  label?: [string, string];
}

export const f = (name: string, help: string, label?: [string, string]): Family => ({ name, help, ...(label && { label }) });
export const g = (name: string, help: string, label?: [string, string]): Family => ({ ...f(name, help, label), gauge: true });

const NET_DROPS = "Connections closed by a transport limit, by reason.";
const NET_REFUSED = "Inbound connections refused, by reason.";

/** Every NetCounters field (the compiler keeps this table complete). */
const NET: Record<keyof NetCounters, Family> = {
  packetsIn: f("gossipcheck_net_packets_received_total", "UDP packets received."),
  packetsOut: f("gossipcheck_net_packets_sent_total", "UDP packets sent."),
  packetBytesIn: f("gossipcheck_net_packet_received_bytes_total", "UDP packet bytes received (sealed, on the wire)."),
  packetBytesOut: f("gossipcheck_net_packet_sent_bytes_total", "UDP packet bytes sent (sealed, on the wire)."),
  framesIn: f("gossipcheck_net_frames_received_total", "TCP frames received."),
  framesOut: f("gossipcheck_net_frames_sent_total", "TCP frames sent."),
  frameBytesIn: f("gossipcheck_net_frame_received_bytes_total", "TCP frame bytes received (sealed, length prefix included)."),
  frameBytesOut: f("gossipcheck_net_frame_sent_bytes_total", "TCP frame bytes sent (sealed, length prefix included)."),
  requestsOut: f("gossipcheck_net_requests_sent_total", "Requests sent (a reply expected)."),
  requestsIn: f("gossipcheck_net_requests_received_total", "Requests received."),
  oneWayOut: f("gossipcheck_net_one_way_messages_sent_total", "One-way messages sent (no reply expected)."),
  oneWayIn: f("gossipcheck_net_one_way_messages_received_total", "One-way messages received."),
  oneWayErrors: f("gossipcheck_net_one_way_handler_errors_total", "One-way messages whose handler failed on this node."),
  knownSkipped: f("gossipcheck_net_known_frames_skipped_total", "One-way frames dropped unopened: this node already had what they carry."),
  relayed: f("gossipcheck_net_messages_relayed_total", "One-way messages forwarded as received (burst pushes passed on)."),
  requestTimeouts: f("gossipcheck_net_request_timeouts_total", "Requests that got no reply within their deadline."),
  requestErrors: f("gossipcheck_net_request_errors_total", "Requests the peer answered with an error."),
  decryptFailures: f("gossipcheck_decrypt_failures_total", "Packets and frames dropped because no installed key opened them."),
  labelMismatches: f("gossipcheck_net_label_mismatches_total", "Packets and frames whose cluster label did not match this node's."),
  badVersion: f("gossipcheck_net_bad_version_frames_total", "Frames with a protocol version this node does not speak."),
  undecodable: f("gossipcheck_net_undecodable_messages_total", "Frames (and plaintext packets) that did not decode."),
  oversizePackets: f("gossipcheck_net_oversize_packets_total", "Packets not sent or dropped for exceeding the packet size limit."),
  oversizeFrames: f("gossipcheck_net_oversize_frames_total", "Frames refused for exceeding -max-frame-size."),
  firstFrameRefused: f("gossipcheck_net_connections_refused_total", NET_REFUSED, ["reason", "first_frame_too_large"]),
  connectionsRefusedPerAddress: f("gossipcheck_net_connections_refused_total", NET_REFUSED, ["reason", "per_address_limit"]),
  connectionsRefused: f("gossipcheck_net_connections_refused_total", NET_REFUSED, ["reason", "connection_limit"]),
  pendingBudgetClosed: f("gossipcheck_net_connections_closed_total", NET_DROPS, ["reason", "pending_budget"]),
  frameTimeouts: f("gossipcheck_net_connections_closed_total", NET_DROPS, ["reason", "frame_timeout"]),
  connectionsEvicted: f("gossipcheck_net_connections_closed_total", NET_DROPS, ["reason", "evicted"]),
  idleConnectionsEvicted: f("gossipcheck_net_connections_closed_total", NET_DROPS, ["reason", "idle_evicted"]),
  stalledPeers: f("gossipcheck_net_connections_closed_total", NET_DROPS, ["reason", "peer_stalled"]),
  coalescedReplies: f("gossipcheck_net_replies_coalesced_total", "Requests answered by a reply frame shared with an equal request."),
  handlerErrors: f("gossipcheck_net_packet_handler_errors_total", "Packets whose handler threw (a bug, logged)."),
  packetSendErrors: f("gossipcheck_net_packet_send_errors_total", "Packets that could not be sent."),
  connectionsOpened: f("gossipcheck_net_connections_opened_total", "Outbound TCP connections established."),
  connectionsAccepted: f("gossipcheck_net_connections_accepted_total", "Inbound TCP connections accepted."),
  dialFailures: f("gossipcheck_net_dial_failures_total", "Outbound connection attempts that failed."),
  dialBackoffRejects: f("gossipcheck_net_dial_backoff_rejects_total", "Requests failed fast because their peer was in dial backoff."),
  openConnectionsIn: g("gossipcheck_net_open_connections", "TCP connections open now, by direction.", ["direction", "in"]),
  openConnectionsOut: g("gossipcheck_net_open_connections", "TCP connections open now, by direction.", ["direction", "out"]),
  pendingRequests: g("gossipcheck_net_pending_requests", "Requests waiting for their reply now."),
  pendingFrameBytesIn: g("gossipcheck_net_pending_frame_bytes", "Bytes of incomplete inbound frames buffered now."),
};

const SWIM_DROPS = "Membership packets dropped, by reason.";

/** Every SwimCounters field. */
const SWIM: Record<keyof SwimCounters, Family> = {
  packetsIn: f("gossipcheck_swim_packets_received_total", "Membership packets received."),
  packetsOut: f("gossipcheck_swim_packets_sent_total", "Membership packets sent."),
  bytesIn: f("gossipcheck_swim_received_bytes_total", "Membership packet bytes received (opened)."),
  bytesOut: f("gossipcheck_swim_sent_bytes_total", "Membership packet bytes sent (before sealing)."),
  droppedBadVersion: f("gossipcheck_swim_packets_dropped_total", SWIM_DROPS, ["reason", "bad_version"]),
  droppedUndecodable: f("gossipcheck_swim_packets_dropped_total", SWIM_DROPS, ["reason", "undecodable"]),
  droppedWrongTarget: f("gossipcheck_swim_packets_dropped_total", SWIM_DROPS, ["reason", "wrong_target"]),
  droppedUnknownSeq: f("gossipcheck_swim_packets_dropped_total", SWIM_DROPS, ["reason", "unknown_seq"]),
  droppedInvalidUpdates: f("gossipcheck_swim_updates_dropped_total", "Member updates dropped as invalid (no name, address or known kind)."),
  updatesSent: f("gossipcheck_swim_updates_sent_total", "Member updates piggybacked or gossiped (one per update per packet)."),
  gossipPackets: f("gossipcheck_swim_gossip_packets_sent_total", "Gossip-round packets sent (updates only)."),
  probes: f("gossipcheck_swim_probes_total", "Probes started."),
  probesFailed: f("gossipcheck_swim_probes_failed_total", "Probes that got no ack, direct or relayed."),
  pingReqsSent: f("gossipcheck_swim_ping_reqs_sent_total", "Indirect probe requests sent."),
  pingReqsRelayed: f("gossipcheck_swim_ping_reqs_relayed_total", "Indirect probes relayed for another member."),
  nacksSent: f("gossipcheck_swim_nacks_sent_total", "Nacks sent."),
  nacksReceived: f("gossipcheck_swim_nacks_received_total", "Nacks received."),
  suspicions: f("gossipcheck_swim_suspicions_total", "Members this node marked suspect."),
  refutes: f("gossipcheck_swim_refutes_total", "Suspicions (or deaths) of this node it refuted."),
  failures: f("gossipcheck_swim_failures_total", "Members this node declared dead."),
  leaves: f("gossipcheck_swim_leaves_total", "Members this node marked left."),
  reaped: f("gossipcheck_swim_members_reaped_total", "Dead or left members removed from the table."),
  corrections: f("gossipcheck_swim_corrections_total", "Corrections sent: stale accusations answered with the newer alive, and members held left or dead told so when they said they were alive."),
  staleNotices: f("gossipcheck_swim_stale_notices_total", "Suspect and dead notices about an earlier process under a member's name (another address), ignored."),
  nameConflicts: f("gossipcheck_swim_name_conflicts_total", "Alive updates claiming a taken name from another address, ignored."),
  pushPulls: f("gossipcheck_swim_push_pulls_total", "Push-pull state exchanges started."),
  pushPullsFailed: f("gossipcheck_swim_push_pulls_failed_total", "Push-pulls that failed."),
  pushPullsServed: f("gossipcheck_swim_push_pulls_served_total", "Push-pulls answered for other members."),
  digestChecks: f("gossipcheck_swim_digest_checks_total", "Periodic push-pulls that compared member-table digests before any full state."),
  digestChecksServed: f("gossipcheck_swim_digest_checks_served_total", "Member-table digest checks answered for other members."),
  digestMismatches: f("gossipcheck_swim_digest_mismatches_total", "Digest checks that found the tables differ, so a full push-pull followed."),
  catchUpPulls: f("gossipcheck_swim_catch_up_pulls_total", "Pulls started because a member knew more members."),
  joinsRefused: f("gossipcheck_swim_joins_refused_total", "Joins refused because the joiner's name was taken."),
  reconnectAttempts: f("gossipcheck_swim_reconnect_attempts_total", "Push-pulls attempted to dead members or absent seeds."),
};

const GOSSIP_DROPS = "Envelopes dropped on receipt, by reason.";
const GOSSIP_DIGESTS = "Periodic advertisements received, by whether their digest matched this node's live set.";
const GOSSIP_REFUSED = "Envelopes received but not run, by reason.";

/** The current values Swim.counters() adds to its totals (its members* duplicate gossipcheck_members). */
const SWIM_GAUGES = {
  healthScore: g("gossipcheck_swim_health_score", "Lifeguard local health score: 0 is healthy, higher means this node is likely the slow one."),
  queuedUpdates: g("gossipcheck_swim_queued_updates", "Member updates waiting to be gossiped."),
  incarnation: g("gossipcheck_swim_incarnation", "This node's incarnation number."),
};

/** Every GossipCounters field. */
const GOSSIP: Record<keyof GossipCounters, Family> = {
  published: f("gossipcheck_gossip_envelopes_published_total", "Envelopes this node published."),
  received: f("gossipcheck_gossip_envelopes_received_total", "Envelopes received for the first time."),
  duplicates: f("gossipcheck_gossip_envelopes_dropped_total", GOSSIP_DROPS, ["reason", "duplicate"]),
  expiredDropped: f("gossipcheck_gossip_envelopes_dropped_total", GOSSIP_DROPS, ["reason", "expired"]),
  invalidDropped: f("gossipcheck_gossip_envelopes_dropped_total", GOSSIP_DROPS, ["reason", "invalid"]),
  consumed: f("gossipcheck_gossip_envelopes_consumed_total", "Envelopes handed to their consumer (batches run, key operations applied)."),
  refusedUnsafe: f("gossipcheck_gossip_envelopes_refused_total", GOSSIP_REFUSED, ["reason", "unsafe_history"]),
  refusedAdmission: f("gossipcheck_gossip_envelopes_refused_total", GOSSIP_REFUSED, ["reason", "admission"]),
  forwarded: f("gossipcheck_gossip_burst_forwards_total", "Burst forwards sent."),
  forwardFailed: f("gossipcheck_gossip_burst_forwards_failed_total", "Burst forwards that failed."),
  advertisements: f("gossipcheck_gossip_advertisements_sent_total", "Anti-entropy advertisements sent."),
  advertisedIds: f("gossipcheck_gossip_advertised_ids_total", "Envelope IDs carried by advertisements (periodic ones carry a digest instead)."),
  digestMatches: f("gossipcheck_gossip_advertised_digests_total", GOSSIP_DIGESTS, ["result", "match"]),
  digestMismatches: f("gossipcheck_gossip_advertised_digests_total", GOSSIP_DIGESTS, ["result", "mismatch"]),
  liveIdsServed: f("gossipcheck_gossip_live_ids_served_total", "Requests for this node's live IDs answered (a peer's digest differed)."),
  repairs: f("gossipcheck_gossip_repairs_total", "Directed advertisements the origin sent to expected nodes that had not answered."),
  wanted: f("gossipcheck_gossip_envelopes_wanted_total", "Envelope IDs this node asked a peer for."),
  served: f("gossipcheck_gossip_envelopes_served_total", "Envelopes served to peers that wanted them."),
  repliesSent: f("gossipcheck_gossip_replies_sent_total", "Node replies sent to an origin (first attempts)."),
  repliesRetried: f("gossipcheck_gossip_replies_retried_total", "Node reply attempts after the first."),
  repliesAcked: f("gossipcheck_gossip_replies_acked_total", "Node replies the origin acknowledged."),
  repliesAbandoned: f("gossipcheck_gossip_replies_abandoned_total", "Node replies given up on."),
  repliesReceived: f("gossipcheck_gossip_replies_received_total", "Node replies that reached this node as origin."),
  repliesDropped: f("gossipcheck_gossip_replies_dropped_total", "Node replies for unknown or finished envelopes."),
  bytesSent: f("gossipcheck_gossip_sent_bytes_total", "Gossip request body bytes sent."),
  bytesReceived: f("gossipcheck_gossip_received_bytes_total", "Gossip request body bytes received."),
  decodeErrors: f("gossipcheck_gossip_decode_errors_total", "Gossip messages that failed to decode."),
  standingSent: f("gossipcheck_gossip_standing_sent_total", "Standing envelopes (schedules) handed over in push-pull states."),
  standingReceived: f("gossipcheck_gossip_standing_received_total", "Standing envelopes received in push-pull states and admitted."),
  historySize: g("gossipcheck_gossip_history_ids", "Envelope IDs in the seen-history now."),
  liveEnvelopes: g("gossipcheck_gossip_live_envelopes", "Envelopes live (not expired) in the seen-history now."),
};

/** Every StatsCounters field. */
const STATS: Record<keyof StatsCounters, Family> = {
  samples: f("gossipcheck_stats_samples_total", "Host stats samples taken (each runs the probes)."),
  samplesReused: f("gossipcheck_stats_samples_reused_total", "Stats requests answered from a recent or running sample."),
  probeTimeouts: f("gossipcheck_stats_probe_timeouts_total", "Host probes that timed out."),
  probeFailures: f("gossipcheck_stats_probe_failures_total", "Host probes that failed."),
  systeminformationLoaded: g("gossipcheck_stats_systeminformation_loaded", "1 once the systeminformation module is loaded."),
};

/**
 * Histogram buckets (s). A file check takes tens of microseconds, a
 * process_running check a few milliseconds; an action runs a shell command
 * (up to its timeout, 60 s by default); a batch round trip is a few
 * milliseconds on one host, under a second on a LAN, and at most its
 * -timeout when a node is slow.
 */
const CHECK_BUCKETS_S = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
const ACTION_BUCKETS_S = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const ROUND_TRIP_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Where the families read their numbers. */
export interface MetricSources {
  node: string;
  version: string;
  uptimeMs: () => number;
  members: () => Record<MemberStatus, number>;
  net: () => Record<string, number>;
  swim: () => Record<string, number>;
  gossip: () => GossipCounters;
  stats: () => StatsCounters;
}

/** What this node did with batches: counted here, read by the families at scrape time. */
export class ClusterMetrics {
  // Every status from the start, at 0: a scraper sees warn (and the rest)
  // before the first one, so rate() and alerts on it work from the first scrape.
  readonly byStatus = new Map<string, number>(CHECK_STATUSES.map((s) => [s, 0]));
  localChecks = 0;
  keyOps = 0;
  /** Batches submitted to this node (it was their origin). */
  batchesSubmitted = 0;
  /** Set once the registry is built (lazy_metrics.ts); until then nothing is observed. */
  private checkSeconds: Observe | null = null;
  private actionSeconds: Observe | null = null;
  private roundTripSeconds: Observe | null = null;

  constructor(private readonly s: MetricSources) {}

  /** Defines the node's families (LazyMetrics.add runs this when the registry is built). */
  register(f: Families): void {
    const s = this.s;
    f.gauges("gossipcheck_info", "Always 1; labels say which node and version.", ["node", "version"], () => [{ labels: { node: s.node, version: s.version }, value: 1 }]);
    f.gauge("gossipcheck_uptime_seconds", "Seconds since the daemon started.", () => s.uptimeMs() / 1000);
    f.gauges("gossipcheck_members", "Known members by status, this node included.", ["status"], () => byLabel("status", s.members()));
    f.total("gossipcheck_batches_submitted_total", "Batches submitted to this node (it was their origin).", () => this.batchesSubmitted);
    f.total("gossipcheck_local_checks_total", "local-check requests served.", () => this.localChecks);
    f.total("gossipcheck_key_operations_total", "Key operations (gcheck keys) applied on this node.", () => this.keyOps);
    f.totals("gossipcheck_check_results_total", "Check results of batches run on this node, by status.", ["status"], () => byLabel("status", Object.fromEntries(this.byStatus)));
    families(f, NET, s.net);
    families(f, SWIM, s.swim);
    families(f, SWIM_GAUGES, s.swim);
    families(f, GOSSIP, () => ({ ...s.gossip() }));
    families(f, STATS, () => ({ ...s.stats() }));
    this.checkSeconds = f.histogram("gossipcheck_check_evaluation_seconds", "Time a check took on this node, its action excluded, by check type.", ["type"], CHECK_BUCKETS_S);
    this.actionSeconds = f.histogram(
      "gossipcheck_action_duration_seconds",
      "Run time of each action that ran on this node, by outcome (ok: exit 0, failed: other exit or signal, timed_out).",
      ["outcome"],
      ACTION_BUCKETS_S,
    );
    this.roundTripSeconds = f.histogram(
      "gossipcheck_batch_round_trip_seconds",
      "At the origin: time from a batch's submission to the last node's result, for batches that completed (every expected node answered or was declared unreachable).",
      [],
      ROUND_TRIP_BUCKETS_S,
    );
  }

  /** The results of a batch this node ran: counted by status, timed by check type and action. */
  addResults(results: CheckResult[]): void {
    for (const r of results) {
      this.byStatus.set(r.status, (this.byStatus.get(r.status) ?? 0) + 1);
      const a = r.action;
      const ran = a !== undefined && a.skipped === undefined;
      // A check's durationMs covers its action and the re-check after it.
      this.checkSeconds?.({ type: r.type }, Math.max(0, r.durationMs - (ran ? a.durationMs : 0)) / 1000);
      if (ran) this.actionSeconds?.({ outcome: a.timedOut ? "timed_out" : a.exitCode === 0 ? "ok" : "failed" }, a.durationMs / 1000);
    }
  }

  /** A batch this node originated completed, its last result `ms` after submission. */
  batchRoundTrip(ms: number): void {
    this.roundTripSeconds?.({}, ms / 1000);
  }
}

function byLabel(label: string, values: Record<string, number>): { labels: Record<string, string>; value: number }[] {
  return Object.entries(values).map(([v, value]) => ({ labels: { [label]: v }, value }));
}

/** Defines the families of one layer's table, reading its counters at each scrape. */
export function families<K extends string>(f: Families, table: Record<K, Family>, read: () => Record<string, number>): void {
  const byName = new Map<string, { family: Family; keys: K[] }>();
  for (const key of Object.keys(table) as K[]) {
    const family = table[key];
    const entry = byName.get(family.name) ?? { family, keys: [] };
    entry.keys.push(key);
    byName.set(family.name, entry);
  }
  for (const { family, keys } of byName.values()) {
    if (family.label) {
      const labelName = family.label[0];
      const samples = () => {
        const c = read();
        return keys.map((k) => ({ labels: { [labelName]: table[k].label![1] }, value: c[k] ?? 0 }));
      };
      if (family.gauge) f.gauges(family.name, family.help, [labelName], samples);
      else f.totals(family.name, family.help, [labelName], samples);
    } else {
      const key = keys[0]!;
      const value = () => read()[key] ?? 0;
      if (family.gauge) f.gauge(family.name, family.help, value);
      else f.total(family.name, family.help, value);
    }
  }
}
