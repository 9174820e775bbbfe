import type { Writable } from "node:stream";
import type { BatchReport, NodeOutcome } from "../report.js";

/*
 * `-output ndjson` (gcheck check, gcheck results): one JSON object per line
 * as the answers arrive, so a pipe (jq, a log shipper) sees each node's
 * results the moment the origin has them, like `serf query`'s streaming.
 * Every line has an `event`:
 *
 *   accepted     {batchId, origin, createdMs, expected: [node names]}
 *   result       {node, address, elapsedMs, results[, wave]}
 *   unreachable  {node, address, reason}   the origin gave up on it
 *   rejected     {node, address, reason}   it refused the batch
 *   notRun       {node, address, reason}   gcheck results: no record of it
 *   skipped      {node, address, reason, wave}  a rollout never reached it
 *   summary      {batchId, origin, elapsedMs, exitCode, failOn, timedOut,
 *                 interrupted, summary (the counts of -output json), missing}
 *
 * The summary line is always the last, also after a timeout or SIGINT.
 * Each line is one write, so a reader never sees half a line.
 */

export class NdjsonWriter {
  private accepted = false;
  /** Nodes already written: each gets exactly one line. */
  private readonly written = new Set<string>();

  constructor(private readonly out: Writable) {}

  /** Writes what the report learned since the last call (after each stream event). */
  update(report: BatchReport): void {
    if (!report.accepted) return;
    if (!this.accepted) {
      this.accepted = true;
      this.line({ event: "accepted", batchId: report.batchId, origin: report.origin, createdMs: report.createdMs, expected: report.expected.map((n) => n.name) });
    }
    for (const n of report.outcomes()) {
      if (n.state === "silent" || this.written.has(n.node)) continue;
      this.written.add(n.node);
      this.line(nodeLine(n));
    }
  }

  /** The final summary line (after any node lines still unwritten). */
  finish(report: BatchReport, elapsedMs: number): void {
    this.update(report);
    this.line({
      event: "summary",
      batchId: report.batchId,
      origin: report.origin,
      elapsedMs,
      exitCode: report.exitCode(),
      failOn: report.failOn,
      timedOut: report.timedOutWaiting && !report.interrupted,
      interrupted: report.interrupted,
      summary: report.summary(),
      missing: report.missing(),
    });
  }

  private line(doc: object): void {
    this.out.write(JSON.stringify(doc) + "\n");
  }
}

function nodeLine(n: NodeOutcome): object {
  if (n.state === "answered") return { event: "result", node: n.node, address: n.address, elapsedMs: n.elapsedMs, results: n.results, ...(n.wave !== undefined && { wave: n.wave }) };
  if (n.skipped) return { event: "skipped", node: n.node, address: n.address, reason: n.reason ?? "", ...(n.wave !== undefined && { wave: n.wave }) };
  return { event: n.state, node: n.node, address: n.address, reason: n.reason ?? "" };
}
