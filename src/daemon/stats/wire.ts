import type { EnvelopeHandler } from "../../gossip/disseminator.js";
import { pb } from "../../proto/index.js";
import type { NodeStats } from "../../control/api_types.js";
import { MEMBER_STATUSES } from "../../control/api_types.js";
import type { StatsCollector } from "./collector.js";
import { errorMessage } from "../../base/result.js";
import { isTargeted } from "../../control/targeting.js";

/*
 * Node stats on the wire: the STATS_REQUEST payload (who answers), the
 * StatsReport a node sends back, and the handler that answers a request.
 * A report arrives from the network: decoding clips strings and lists, so a
 * hostile or buggy node cannot hand the origin's clients megabytes of text.
 */

export interface StatsTarget {
  targetNodes: string[];
  targetTags: Record<string, string>;
  /** A sample younger than this may be reused (ms); 0: the collector's default. */
  maxAgeMs: number;
}

/** The longest sample age a request may ask to reuse (ms): older figures would mislead. */
export const MAX_REQUESTED_AGE_MS = 60_000;

/** Longest string kept from a report (characters), and most error lines kept. */
const MAX_TEXT = 256;
const MAX_ERRORS = 16;

export function encodeStatsRequest(r: { nodes: string[]; tags: Record<string, string>; maxAgeMs?: number }): Uint8Array {
  return pb.StatsRequest.encode({ targetNodes: r.nodes, targetTags: r.tags, ...(r.maxAgeMs && { maxAgeMs: r.maxAgeMs }) }).finish();
}

/** Decodes a STATS_REQUEST payload from the network; never throws. */
export function decodeStatsRequest(bytes: Uint8Array): { ok: true; value: StatsTarget } | { ok: false; error: string } {
  try {
    const r = pb.StatsRequest.decode(bytes);
    return { ok: true, value: { targetNodes: r.targetNodes ?? [], targetTags: r.targetTags ?? {}, maxAgeMs: Math.min(r.maxAgeMs ?? 0, MAX_REQUESTED_AGE_MS) } };
  } catch (err) {
    return { ok: false, error: `undecodable stats request: ${errorMessage(err)}` };
  }
}

/**
 * What a node does with a STATS_REQUEST: a node outside the target answers
 * nothing (gossip relayed the request already); a targeted one answers with
 * its stats.
 */
export function statsRequestHandler(self: { name: string; tags: Record<string, string> }, collector: StatsCollector): EnvelopeHandler {
  return async (env) => {
    const request = decodeStatsRequest(env.payload);
    if (!request.ok) return { rejected: request.error };
    if (!isTargeted(request.value, self)) return null;
    return { stats: toWireStats(await collector.collect(request.value.maxAgeMs || undefined)) };
  };
}

export function toWireStats(s: NodeStats): pb.StatsReport.$Properties {
  return {
    sampledMs: s.sampledMs,
    cpu: { count: s.cpu.count, loadAverage: s.cpu.loadAverage, ...(s.cpu.loadPercent !== undefined && { loadPercent: s.cpu.loadPercent }), ...(s.cpu.model !== undefined && { model: s.cpu.model }) },
    ...(s.memory && { memory: s.memory }),
    ...(s.disk && { disk: s.disk }),
    ...(s.os && { os: s.os }),
    hostUptimeMs: s.uptime.hostMs,
    daemonUptimeMs: s.uptime.daemonMs,
    process: s.process,
    version: s.gossipcheck.version,
    members: s.gossipcheck.members,
    errors: s.errors,
  };
}

/** A node's StatsReport as the control API shows it; missing numbers are 0, strings clipped. */
export function fromWireStats(node: string, r: pb.StatsReport.$Properties): NodeStats {
  const c = r.cpu ?? {};
  const [l1, l5, l15] = [0, 1, 2].map((i) => num(c.loadAverage?.[i])) as [number, number, number];
  const members = Object.fromEntries(MEMBER_STATUSES.map((s) => [s, num(r.members?.[s])])) as NodeStats["gossipcheck"]["members"];
  const m = r.memory;
  const d = r.disk;
  const o = r.os;
  const p = r.process ?? {};
  return {
    node,
    sampledMs: num(r.sampledMs),
    cpu: { count: num(c.count), loadAverage: [l1, l5, l15], ...(c.loadPercent != null && { loadPercent: num(c.loadPercent) }), ...(c.model != null && { model: text(c.model) }) },
    ...(m && {
      memory: { totalBytes: num(m.totalBytes), usedBytes: num(m.usedBytes), availableBytes: num(m.availableBytes), swapTotalBytes: num(m.swapTotalBytes), swapUsedBytes: num(m.swapUsedBytes) },
    }),
    ...(d && { disk: { mount: text(d.mount), fs: text(d.fs), type: text(d.type), totalBytes: num(d.totalBytes), usedBytes: num(d.usedBytes), availableBytes: num(d.availableBytes) } }),
    ...(o && { os: { platform: text(o.platform), distro: text(o.distro), release: text(o.release), kernel: text(o.kernel), arch: text(o.arch), hostname: text(o.hostname) } }),
    uptime: { hostMs: num(r.hostUptimeMs), daemonMs: num(r.daemonUptimeMs) },
    process: { pid: num(p.pid), rssBytes: num(p.rssBytes), heapUsedBytes: num(p.heapUsedBytes), heapTotalBytes: num(p.heapTotalBytes) },
    gossipcheck: { version: text(r.version), membersAlive: members.alive, members },
    errors: (r.errors ?? []).slice(0, MAX_ERRORS).map(text),
  };
}

function num(v: number | null | undefined): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

function text(v: string | null | undefined): string {
  return (v ?? "").slice(0, MAX_TEXT);
}
