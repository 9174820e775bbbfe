import type { CheckResult } from "../../checks/types.js";
import type { MemberStatus } from "../../swim/types.js";
import { PromText, type Sample } from "../api/prometheus.js";

/*
 * GET /metrics of a cluster node, in the Prometheus text format: the node,
 * its members by status, the batches it originated and ran, and every
 * counter of the transport, membership and dissemination layers (totals as
 * counters, the few current values as gauges). Decrypt failures get a family
 * of their own: it is the one an operator alerts on (a node with the wrong
 * key, or someone probing the port).
 */

/** What this node did with batches, for the metrics. */
export class ResultCounts {
  readonly byStatus = new Map<string, number>();
  localChecks = 0;
  keyOps = 0;

  add(results: CheckResult[]): void {
    for (const r of results) this.byStatus.set(r.status, (this.byStatus.get(r.status) ?? 0) + 1);
  }
}

export interface MetricsInput {
  node: string;
  version: string;
  uptimeMs: number;
  members: Record<MemberStatus, number>;
  /** Batches originated here (the history kept). */
  batches: number;
  results: ResultCounts;
  net: Record<string, number>;
  swim: Record<string, number>;
  gossip: Record<string, number>;
}

/** Counters of each layer that are current values, not totals. */
const GAUGES = new Set([
  "openConnectionsIn",
  "openConnectionsOut",
  "pendingRequests",
  "pendingFrameBytesIn",
  "membersAlive",
  "membersSuspect",
  "membersDead",
  "membersLeft",
  "healthScore",
  "queuedUpdates",
  "incarnation",
  "historySize",
  "liveEnvelopes",
]);

export function clusterMetrics(m: MetricsInput): string {
  const t = new PromText()
    .family("gossipcheck_info", "gauge", "Always 1; labels say which node and version.", [{ labels: { node: m.node, version: m.version }, value: 1 }])
    .family("gossipcheck_uptime_seconds", "gauge", "Seconds since the daemon started.", m.uptimeMs / 1000)
    .family(
      "gossipcheck_members",
      "gauge",
      "Known members by status, this node included.",
      Object.entries(m.members).map(([status, value]) => ({ labels: { status }, value })),
    )
    .family("gossipcheck_batches_total", "counter", "Batches submitted to this node (it was their origin), up to the history kept.", m.batches)
    .family("gossipcheck_local_checks_total", "counter", "local-check requests served.", m.results.localChecks)
    .family("gossipcheck_key_operations_total", "counter", "Key operations (gcheck keys) applied on this node.", m.results.keyOps)
    .family("gossipcheck_decrypt_failures_total", "counter", "Packets and frames dropped because no installed key opened them.", m.net.decryptFailures ?? 0);
  const results = [...m.results.byStatus].map(([status, value]) => ({ labels: { status }, value }));
  if (results.length) t.family("gossipcheck_check_results_total", "counter", "Check results of batches run on this node, by status.", results);
  layer(t, "net", "Transport (UDP packets, TCP frames, connections, drops)", m.net);
  layer(t, "swim", "Membership (probes, suspicions, push-pulls, drops)", m.swim);
  layer(t, "gossip", "Dissemination (envelopes, bursts, anti-entropy, replies)", m.gossip);
  return t.toString();
}

function layer(t: PromText, name: string, what: string, counters: Record<string, number>): void {
  const totals: Sample[] = [];
  const gauges: Sample[] = [];
  for (const [counter, value] of Object.entries(counters)) (GAUGES.has(counter) ? gauges : totals).push({ labels: { counter }, value });
  if (totals.length) t.family(`gossipcheck_${name}_total`, "counter", `${what}: totals since start, by counter.`, totals);
  if (gauges.length) t.family(`gossipcheck_${name}_current`, "gauge", `${what}: current values, by name.`, gauges);
}
