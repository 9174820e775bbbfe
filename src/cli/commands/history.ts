import type { HistoryEvent, HistoryRequestBody } from "../../control/watch_types.js";
import type { CheckStatus } from "../../checks/types.js";
import { type CliContext, connect, durationFlag, requireOutput } from "../context.js";
import { CliError, Exit } from "../errors.js";
import { followReport } from "../follow.js";
import { HistoryReport } from "../history_report.js";
import { historyJson, historyText, mergeHistory } from "../output/history.js";
import { parseTags } from "../../cmdline/tags.js";

/*
 * `gcheck history [-node N]... [-tag k=v]... [-check C] [-since 1h]
 * [-status fail] [-limit 100]`: the batches the nodes ran and the
 * transitions of their scheduled checks, asked of every (targeted) node's
 * history through the cluster (POST /v1/history) and merged newest first.
 * Exit 0 every expected node answered, 3 some node did not, 2 usage or
 * connection error.
 */

export interface HistoryFlags {
  node?: string[];
  tag?: string[];
  check?: string;
  since?: string;
  status?: CheckStatus;
  limit: string;
  timeout: string;
  audit?: boolean;
}

/** The most entries of each kind -limit may ask for (the API's bound, validate_watch.ts). */
const MAX_LIMIT = 10_000;

export async function history(ctx: CliContext, flags: HistoryFlags): Promise<number> {
  requireOutput(ctx, "history", ["table", "json"]);
  const timeoutMs = durationFlag("timeout", flags.timeout);
  const tags = parseTags(flags.tag ?? []);
  if (!tags.ok) throw new CliError(tags.error);
  const limit = Number(flags.limit);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new CliError(`-limit "${flags.limit}": expected a whole number from 1 to ${MAX_LIMIT}`);
  const body: HistoryRequestBody = { nodes: flags.node ?? [], tags: tags.value, limit, timeoutMs };
  if (flags.since !== undefined) body.sinceMs = Date.now() - durationFlag("since", flags.since);
  if (flags.check !== undefined) body.check = flags.check;
  if (flags.status !== undefined) body.status = flags.status;
  if (flags.audit) {
    if (flags.check !== undefined || flags.status !== undefined) throw new CliError("-audit takes no -check or -status: the audit log is about the node, not a check");
    body.audit = true;
  }

  const client = await connect(ctx);
  const report = new HistoryReport();
  const elapsedMs = await followReport<HistoryEvent>(ctx, client, "/v1/history", body, timeoutMs, report, "the history request");
  if (report.expected.length === 0) ctx.stderr.write("gcheck: no node matched the targeting (-node / -tag)\n");
  const merged = mergeHistory(report, limit);
  const c = report.counts();
  const exitCode = c.unreachable + c.rejected + c.silent > 0 ? Exit.NodesMissing : Exit.Ok;
  ctx.stdout.write(ctx.output === "json" ? historyJson(report, merged, elapsedMs, exitCode) : historyText(report, merged, elapsedMs));
  return exitCode;
}
