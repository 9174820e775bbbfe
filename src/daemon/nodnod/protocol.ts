import type { NodeStats } from "../../control/api_types.js";

/*
 * NodNod's websocket protocol (mohabusama/nodnod, Go, 2016), served as it
 * is so NodNod clients and scripts work against gossipcheckd unchanged.
 * This file decodes requests (bytes from the network: bounded, never
 * throws) and encodes responses; server.ts holds the connections.
 *
 * What NodNod does, read from its source (HEAD 11fa281):
 * - nodnod.go: one handler on http.Handle("/", ...), so every path is the
 *   endpoint (its client and examples dial "ws://HOST:PORT/"). Default
 *   listen address 127.0.0.1:7070; no authentication of any kind.
 * - service.go: a non-GET request gets 405 "Method not allowed"; the
 *   upgrade is gorilla/websocket's Upgrader with its default CheckOrigin
 *   (a request whose Origin header names another host than Host is refused
 *   with 403) and no read limit. Then a loop on one connection, one request
 *   at a time: ReadJSON, answer, read the next. So a connection serves many
 *   requests, in order, one in flight (a pipelining client waits in TCP).
 *   - type 0 (STAT): `nodes` holds this node only; type 1 (STATALL): this
 *     node plus every configured peer; any other type: a warning in the log
 *     and NO answer, the connection stays open.
 *   - ReadJSON failing (not JSON, a value of the wrong JSON type such as
 *     "type": "1" or a top-level array, an empty message) ends the loop:
 *     the connection is closed, nothing is answered. `null` and `{}` are
 *     STAT (Go leaves the zero value); unknown keys are ignored; keys match
 *     case-insensitively ("Type" is type), the last one wins; statType is
 *     decoded (a wrong JSON type closes too) but never used (0 = ALL).
 *   - WriteJSON: one text message, the JSON followed by "\n" (json.Encoder).
 * - stats/stats.go: the shapes and units.
 *   MessageRequest {"type": int, "statType": int};
 *   MessageResponse {"host": this node's -name, "nodes": {NAME: NodeStats},
 *   "error": ""}; Go sorts map keys, so `nodes` is in name order.
 *   NodeStats {"name": string, "cpuUsed": float64 percent 0-100 (gopsutil
 *   cpu.CPUPercent(0, false): busy share of all CPUs since the previous
 *   call), "diskTotal"/"diskUsed": uint64 bytes summed over every partition
 *   (disk.DiskPartitions(true)), "diskUsedPercent": used / total * 100,
 *   "memoryTotal": uint64 bytes, "memoryUsed": uint64 bytes = total minus
 *   available, "memoryUsedPercent": float64 percent (gopsutil's
 *   UsedPercent, (total - available) / total * 100), "error": string, ""
 *   when none}. Every field is always present (no omitempty). The uint64
 *   fields must be whole numbers: Go's decoder refuses 1.5 into a uint64.
 * - collector.go and node.go: STATALL asks every peer in parallel and waits
 *   at most 10 s in all; a peer whose connection is down is listed with
 *   its name (its address until it was first reached) and `error` set
 *   ("Client is not connected"), a peer that fails answers with `error`
 *   set; a peer still silent after 10 s is left out. NodNod never removes
 *   a peer: its list is the config file.
 * - client/client.go: dials ws://SERVER/ without headers, sends a request
 *   and waits 10 s for the next response; a non-empty top-level `error` is
 *   a failed stat (StatFailedErr). Top-level error is set only when the
 *   node cannot read its own stats.
 *
 * What gossipcheckd does the same: the paths (any), the request decoding
 * above, the shapes, field names, JSON types and units, many requests per
 * connection answered in order one at a time, no answer to an unknown
 * type, the connection closed on a malformed request (with a close frame
 * 1007 saying why, where NodNod drops TCP: a client sees an error either
 * way), the Origin rule. Where it differs, and why:
 * - disk figures are the root filesystem's (NodeStats.disk), not a sum over
 *   every partition: NodNod's sum counted tmpfs, proc and bind mounts twice
 *   or more, so its diskUsedPercent meant nothing on a modern host;
 * - STATALL lists the members of the cluster: alive or suspect ones that
 *   answered with their figures, those that did not answer within the wait
 *   (server.ts: 5 s, under the client's 10 s) with `error` "no answer within
 *   5000 ms", and dead or left ones (until the membership forgets them)
 *   with `error` saying so. That is NodNod's "listed, error set" for a lost
 *   peer; a member reaped from the list is no longer listed, as a peer
 *   removed from NodNod's config file would not be;
 * - a node whose probe failed has its figures 0 and `error` naming the
 *   probe ("memory: no answer within 2000 ms"), where NodNod sent zeros
 *   without a word;
 * - requests larger than MAX_REQUEST_BYTES are refused (close 1009): a real
 *   request is about 25 bytes, and NodNod read any size;
 * - a message must be one JSON value: Go's decoder read the first value and
 *   ignored what followed ('{"type": 1}}' was STATALL); here it is malformed;
 * - a token when the control API has one (server.ts).
 */

/** Request types (stats.go: STAT, STATALL). statType 0 (ALL) is the only stat type. */
export const STAT = 0;
export const STATALL = 1;

/** Largest request accepted (bytes). A real one is about 25 bytes; this leaves room for whitespace and unknown keys. */
export const MAX_REQUEST_BYTES = 4096;

/** A decoded request: what to answer, or why the connection must close. */
export type NodnodRequest = { kind: "stat" } | { kind: "statall" } | { kind: "unknown"; type: number } | { kind: "malformed"; error: string };

/** One node in a response (stats.go: NodeStats). */
export interface NodnodNode {
  name: string;
  /** Busy share of all CPUs (percent, 0-100). */
  cpuUsed: number;
  /** Bytes, whole numbers. */
  diskTotal: number;
  diskUsed: number;
  /** Percent, 0-100. */
  diskUsedPercent: number;
  /** Bytes, whole numbers. */
  memoryTotal: number;
  memoryUsed: number;
  /** Percent, 0-100. */
  memoryUsedPercent: number;
  /** "" when the figures are whole. */
  error: string;
}

/** The response (stats.go: MessageResponse). */
export interface NodnodResponse {
  host: string;
  nodes: Record<string, NodnodNode>;
  error: string;
}

const REQUEST_SHAPE = 'expected a JSON object like {"type": 1, "statType": 0}';

/** Decodes one websocket message as NodNod's ReadJSON would take it. Never throws. */
export function decodeRequest(data: Buffer | string): NodnodRequest {
  const size = typeof data === "string" ? Buffer.byteLength(data) : data.length;
  if (size > MAX_REQUEST_BYTES) return { kind: "malformed", error: `request of ${size} bytes is larger than ${MAX_REQUEST_BYTES}` };
  let value: unknown;
  try {
    value = JSON.parse(typeof data === "string" ? data : data.toString("utf8"));
  } catch {
    return { kind: "malformed", error: `not JSON: ${REQUEST_SHAPE}` };
  }
  if (value === null) return { kind: "stat" };
  if (typeof value !== "object" || Array.isArray(value)) return { kind: "malformed", error: `a JSON ${Array.isArray(value) ? "array" : typeof value}: ${REQUEST_SHAPE}` };
  const fields = value as Record<string, unknown>;
  let type = 0;
  for (const key of Object.keys(fields)) {
    const field = key.toLowerCase();
    if (field !== "type" && field !== "stattype") continue;
    const v = fields[key];
    if (v === null) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v)) return { kind: "malformed", error: `"${key}" must be a whole number: ${REQUEST_SHAPE}` };
    if (field === "type") type = v;
  }
  if (type === STAT) return { kind: "stat" };
  if (type === STATALL) return { kind: "statall" };
  return { kind: "unknown", type };
}

/** A count of bytes as Go's uint64 decodes it: a whole number, at least 0. */
function bytes(n: number | undefined): number {
  return n !== undefined && Number.isFinite(n) && n > 0 ? Math.min(Math.round(n), Number.MAX_SAFE_INTEGER) : 0;
}

function percent(used: number, total: number): number {
  return total > 0 ? (used / total) * 100 : 0;
}

/** The probes behind NodNod's figures (collector.ts names them so in `errors`). */
const FIGURE_PROBES = ["cpu load:", "memory:", "disk:"];

/** A node's stats as NodNod reports them; a failed probe's figures are 0 and named in `error`. */
export function nodnodNode(s: NodeStats): NodnodNode {
  const diskTotal = bytes(s.disk?.totalBytes);
  const diskUsed = bytes(s.disk?.usedBytes);
  const memoryTotal = bytes(s.memory?.totalBytes);
  const memoryUsed = bytes(s.memory?.usedBytes);
  const cpu = s.cpu.loadPercent;
  return {
    name: s.node,
    cpuUsed: cpu !== undefined && Number.isFinite(cpu) ? cpu : 0,
    diskTotal,
    diskUsed,
    diskUsedPercent: percent(diskUsed, diskTotal),
    memoryTotal,
    memoryUsed,
    memoryUsedPercent: percent(memoryUsed, memoryTotal),
    error: s.errors.filter((e) => FIGURE_PROBES.some((p) => e.startsWith(p))).join("; "),
  };
}

/** A node listed without figures (it did not answer, or is gone), as NodNod lists a lost peer. */
export function nodnodLostNode(name: string, error: string): NodnodNode {
  return { name, cpuUsed: 0, diskTotal: 0, diskUsed: 0, diskUsedPercent: 0, memoryTotal: 0, memoryUsed: 0, memoryUsedPercent: 0, error };
}

/** The text message of a response: nodes keyed and sorted by name (as Go marshals a map), then "\n" (as json.Encoder). */
export function encodeResponse(host: string, nodes: NodnodNode[], error = ""): string {
  // fromEntries defines own properties: a node named "__proto__" is a key like any other.
  const keyed = Object.fromEntries([...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((n) => [n.name, n]));
  const response: NodnodResponse = { host, nodes: keyed, error };
  return JSON.stringify(response) + "\n";
}
