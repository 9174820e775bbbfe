import type { KeysReport, KeyNodeOutcome } from "../keys_report.js";
import { formatDuration, renderTable } from "./table.js";

/*
 * `gcheck keys` output: a table per node (keys as fingerprints, primary
 * first and marked with *), then a summary: how many nodes applied the
 * operation, and for every key how many nodes hold it and use it as
 * primary. Or one JSON document (--output json).
 */

const STATE_LABEL: Record<KeyNodeOutcome["state"], string> = { ok: "OK", failed: "FAILED", unreachable: "UNREACHABLE", rejected: "REJECTED", silent: "NO ANSWER" };

export function keysTable(report: KeysReport): string {
  return renderTable(
    ["NODE", "STATUS", "KEYS", "MESSAGE"],
    report
      .outcomes()
      .map((n) => [
        n.node,
        STATE_LABEL[n.state],
        n.keys.length ? n.keys.map((k, i) => (i === 0 ? `${k}*` : k)).join(" ") : "-",
        n.error ?? (n.state === "silent" ? `no answer from ${n.address || n.node} before the end` : ""),
      ]),
  );
}

/** "install 1a2b3c4d: 3/3 nodes ok; 25ms" then one line per key. */
export function keysSummary(report: KeysReport, keyFingerprint: string | undefined, elapsedMs: number): string {
  const c = report.counts();
  const head = `${report.op}${keyFingerprint ? ` ${keyFingerprint}` : ""}`;
  const parts = [`${head}: ${c.ok}/${c.expected} nodes ok`];
  const trouble = [c.failed && `${c.failed} failed`, c.rejected && `${c.rejected} refused`, c.unreachable && `${c.unreachable} unreachable`, c.silent && `${c.silent} no answer`].filter(Boolean);
  if (trouble.length) parts.push(trouble.join(", "));
  parts.push(formatDuration(elapsedMs));
  if (report.timedOutWaiting) parts.push("timed out");
  const answered = report.outcomes().filter((n) => n.keys.length > 0).length;
  const keys = report.keyUsage().map((u) => `key ${u.fingerprint}: installed on ${u.installed}/${answered} nodes, primary on ${u.primary}\n`);
  return parts.join("; ") + "\n" + keys.join("");
}

export function keysJson(report: KeysReport, keyFingerprint: string | undefined, elapsedMs: number): string {
  const doc = {
    id: report.id,
    op: report.op,
    ...(keyFingerprint && { key: keyFingerprint }),
    origin: report.origin,
    elapsedMs,
    timedOut: report.timedOutWaiting,
    exitCode: report.exitCode(),
    summary: report.counts(),
    keys: report.keyUsage(),
    expected: report.expected,
    nodes: report.outcomes(),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
