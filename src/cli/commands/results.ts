import { followBatch, type TableView, withErrorDocument, writeBatchReport } from "../batch_output.js";
import { type CliContext, connect, durationFlag } from "../context.js";
import { CliError, type FailOn } from "../errors.js";
import { BatchReport } from "../report.js";
import { parseTags } from "../../cmdline/tags.js";

/*
 * `gcheck results BATCH_ID [-node N]... [-tag k=v]... [-timeout 10s]`: a
 * past batch's results, asked of every node's history through the cluster
 * (POST /v1/results), so a batch whose gcheck was killed, or whose
 * terminal closed, can still be read. The same report, outputs (table,
 * json, junit, ndjson, tap, nagios) and exit codes as `gcheck check`; a node that has no record
 * of the batch did not run it (not targeted, or not a member then) and is
 * listed apart, not counted as failing or missing.
 */

export interface ResultsFlags extends TableView {
  node?: string[];
  tag?: string[];
  timeout: string;
  failOn: FailOn;
  /** Positional arguments: the batch ID. */
  args: string[];
}

const USAGE = "use gcheck results BATCH_ID (32 hex digits, as gcheck check -output json prints it)";

export function results(ctx: CliContext, flags: ResultsFlags): Promise<number> {
  return withErrorDocument(ctx, () => runResults(ctx, flags));
}

async function runResults(ctx: CliContext, flags: ResultsFlags): Promise<number> {
  const [id, ...extra] = flags.args;
  if (id === undefined) throw new CliError(`no batch ID: ${USAGE}`);
  if (extra.length) throw new CliError(`unexpected argument "${extra[0]}": ${USAGE}`);
  const batchId = id.toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(batchId)) throw new CliError(`"${id}" is not a batch ID: ${USAGE}`);
  const timeoutMs = durationFlag("timeout", flags.timeout);
  const tags = parseTags(flags.tag ?? []);
  if (!tags.ok) throw new CliError(tags.error);

  const client = await connect(ctx);
  const report = new BatchReport(flags.failOn, true);
  const body = { batchId, nodes: flags.node ?? [], tags: tags.value, timeoutMs };
  const { elapsedMs, ndjson } = await followBatch(ctx, client, "/v1/results", body, timeoutMs, report, "the results request");
  const s = report.summary();
  if (!report.interrupted && s.answered === 0 && s.expected === s.notRun) {
    throw new CliError(`no node has a record of batch ${batchId}${s.expected === 0 ? " (no node matched -node / -tag)" : ""}: check the ID, or it is older than the nodes' -history-retention`);
  }
  return writeBatchReport(ctx, report, elapsedMs, flags, ndjson);
}
