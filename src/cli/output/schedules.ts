import type { ScheduleInfo } from "../../control/watch_types.js";
import { formatTime, renderTable } from "./table.js";

/*
 * `gcheck schedule list | show` output: a table of the schedules one node
 * knows, or one schedule with its check document; JSON as the control API
 * answers it (--output json).
 */

/** "every node", or the node names and tags a schedule targets. */
export function targeting(s: Pick<ScheduleInfo, "nodes" | "tags">): string {
  const tags = Object.entries(s.tags).map(([k, v]) => `${k}=${v}`);
  const parts = [s.nodes.length > 0 && `nodes ${s.nodes.join(",")}`, tags.length > 0 && `tags ${tags.join(",")}`].filter(Boolean);
  return parts.length ? parts.join("; ") : "every node";
}

export function schedulesTable(schedules: ScheduleInfo[]): string {
  return renderTable(
    ["NAME", "VERSION", "CHECKS", "TARGET", "SOURCE", "RUNS HERE", "SIGNER"],
    [...schedules].sort((a, b) => a.name.localeCompare(b.name)).map((s) => [s.name, formatTime(s.version), String(s.checks), targeting(s), s.source, s.runsHere ? "yes" : "no", s.signer || "-"]),
  );
}

/** The fields one per line, then the check document as JSON. */
export function scheduleText(s: ScheduleInfo): string {
  const rows: [string, string][] = [
    ["name", s.name],
    ["version", `${s.version} (${formatTime(s.version)})`],
    ["id", s.id || "-"],
    ["source", s.source],
    ["origin", s.origin || "-"],
    ["submitter", s.submitter || "-"],
    ["signer", s.signer || "unsigned"],
    ["target", targeting(s)],
    ["runs here", s.runsHere ? "yes" : "no"],
    ["checks", String(s.checks)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const head = rows.map(([k, v]) => `${(k + ":").padEnd(width + 1)} ${v}\n`).join("");
  return head + (s.document ? `\n${JSON.stringify(s.document, null, 2)}\n` : "");
}
