import type { HistoryEvent } from "../../control/watch_types.js";
import type { StatsRequestBody } from "../../control/api_types.js";
import { type CliContext, connect, durationFlag, requireOutput } from "../context.js";
import { CliError, type FailOn } from "../errors.js";
import { followReport } from "../follow.js";
import { HistoryReport } from "../history_report.js";
import { aggregateStatus, statusExitCode, statusJson, statusText } from "../output/status.js";
import { parseTags } from "../../cmdline/tags.js";

/*
 * `gcheck status [-node N]... [-tag k=v]... [-timeout 10s]`: the current
 * state of every scheduled check on every (targeted) node, asked through
 * the cluster (POST /v1/status), aggregated by check, with the quorum
 * checks' verdicts. Exit codes: output/status.ts (1 a check fails
 * somewhere or a quorum verdict fails, 3 a node did not answer, 0 else).
 */

export interface StatusFlags {
  node?: string[];
  tag?: string[];
  timeout: string;
  failOn: FailOn;
}

export async function status(ctx: CliContext, flags: StatusFlags): Promise<number> {
  requireOutput(ctx, "status", ["table", "json"]);
  const timeoutMs = durationFlag("timeout", flags.timeout);
  const tags = parseTags(flags.tag ?? []);
  if (!tags.ok) throw new CliError(tags.error);
  // A status question has the shape of a stats request: targeting and a wait.
  const body: StatsRequestBody = { nodes: flags.node ?? [], tags: tags.value, timeoutMs };

  const client = await connect(ctx);
  const report = new HistoryReport();
  const elapsedMs = await followReport<HistoryEvent>(ctx, client, "/v1/status", body, timeoutMs, report, "the status request");
  if (report.expected.length === 0) ctx.stderr.write("gcheck: no node matched the targeting (-node / -tag)\n");
  const agg = aggregateStatus(report.answers("status"));
  ctx.stdout.write(ctx.output === "json" ? statusJson(report, agg, elapsedMs, flags.failOn) : statusText(report, agg, elapsedMs));
  return statusExitCode(report, agg, flags.failOn);
}
