import type { DaemonInfo } from "../../control/api_types.js";
import { formatUptime } from "./stats.js";
import { renderTable } from "./table.js";

/*
 * `gcheck info` output: the daemon's identity, uptime and members, then the
 * few of its ~130 counters that show trouble, grouped, each with what it
 * counts; or (-output json) the daemon's whole GET /v1/info document, every
 * counter included, for scripts. The counters keep the daemon's names
 * (net_decryptFailures), so a row can be looked up in the JSON and /metrics.
 */

/** [counter, what it counts]: those an operator looks at first, by kind. */
export const INFO_COUNTERS: readonly (readonly [group: string, counters: readonly (readonly [name: string, meaning: string])[]])[] = [
  [
    "Dropped on arrival",
    [
      ["net_decryptFailures", "packets and frames no installed key opened: a node with another key, or a stranger probing the port"],
      ["net_labelMismatches", "packets and frames of another cluster (its -label differs)"],
      ["net_badVersion", "frames of a protocol version this node does not speak"],
      ["net_undecodable", "frames that did not decode"],
      ["net_oversizePackets", "packets over the size limit"],
      ["net_oversizeFrames", "frames over the size limit"],
      ["gossip_invalidDropped", "envelopes refused as malformed (bad id, TTL, creation time, size)"],
      ["gossip_expiredDropped", "envelopes that arrived after their TTL"],
    ],
  ],
  [
    "Connections refused or closed",
    [
      ["net_firstFrameRefused", "inbound connections whose first frame declared more than the first-frame limit"],
      ["net_connectionsRefused", "inbound connections refused: the connection limit was reached"],
      ["net_connectionsRefusedPerAddress", "inbound connections refused: too many unauthenticated ones from that address"],
      ["net_connectionsEvicted", "unauthenticated connections closed to make room"],
      ["net_idleConnectionsEvicted", "idle member connections closed to make room at the connection limit"],
      ["net_frameTimeouts", "connections closed because a frame took too long to arrive"],
      ["api_connectionsRefused", "control API connections refused at its connection limit"],
      ["swim_joinsRefused", "joins refused: the joiner's name is taken"],
    ],
  ],
  [
    "Envelopes (batches, key operations, stats requests)",
    [
      ["gossip_published", "sent out by this node as origin"],
      ["gossip_consumed", "run on this node"],
      ["gossip_refusedAdmission", "refused: bad signature, or unsigned where signatures are required (-trusted-keys)"],
      ["gossip_refusedUnsafe", "not run: this node cannot rule out having run them already (seen-history)"],
      ["gossip_repliesAbandoned", "results this node gave up sending to their origin"],
    ],
  ],
  [
    "Membership",
    [
      ["swim_suspicions", "members this node suspected of having failed"],
      ["swim_failures", "members this node declared dead"],
      ["swim_refutes", "suspicions about this node that it refuted"],
    ],
  ],
];

export function infoTable(info: DaemonInfo, nowMs: number): string {
  const tags = Object.entries(info.tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  const members = Object.entries(info.members)
    .map(([status, n]) => `${n} ${status}`)
    .join(", ");
  const since = new Date(nowMs - info.uptimeMs).toISOString().replace(/\.\d+Z$/, "Z");
  const head = renderTable(
    ["node", info.name],
    [
      ["version", `gossipcheckd ${info.version} (protocol ${info.protocolVersion})`],
      ["address", `${info.address} (cluster), ${info.cliAddress} (control API)`],
      ["uptime", `${formatUptime(info.uptimeMs)} (since ${since}), pid ${info.pid}`],
      ["tags", tags || "-"],
      ["actions", info.actionsEnabled ? "enabled" : "disabled (-no-actions): checks are evaluated, no action runs"],
      ["members", members],
    ],
  );

  const value = (name: string) => (name in info.counters ? String(info.counters[name]) : "-");
  const all = INFO_COUNTERS.flatMap(([, counters]) => counters.map(([name]) => value(name)));
  const width = Math.max("VALUE".length, ...all.map((v) => v.length));
  const lines = renderTable(
    ["COUNTER", "VALUE".padStart(width), "WHAT IT COUNTS"],
    INFO_COUNTERS.flatMap(([, counters]) => counters.map(([name, meaning]) => [name, value(name).padStart(width), meaning])),
  ).split("\n");
  // A heading before each group's rows (line 0 is the header).
  const out = [`  ${lines[0]!}`];
  let at = 1;
  for (const [group, counters] of INFO_COUNTERS) {
    out.push(`${group}:`, ...lines.slice(at, at + counters.length).map((l) => `  ${l}`));
    at += counters.length;
  }
  return `${head}\n${out.join("\n")}\nevery counter: gcheck info -output json\n`;
}

export function infoJson(info: DaemonInfo): string {
  return JSON.stringify(info, null, 2) + "\n";
}
