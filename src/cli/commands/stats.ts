import { parseDuration } from "../../checks/duration.js";
import type { StatsEvent, StatsRequestBody } from "../../control/api_types.js";
import { type CliContext, connect, requireOutput } from "../context.js";
import { CliError } from "../errors.js";
import { followReport } from "../follow.js";
import { statsJson, statsSummary, statsTable } from "../output/stats.js";
import { StatsReport } from "../stats_report.js";
import { parseTags } from "../../cmdline/tags.js";

/*
 * `gcheck stats [-node N]... [-tag k=v]... [-timeout 10s]`: every targeted
 * node's load, memory, disk and uptime, asked through the cluster (a
 * STATS_REQUEST envelope) and gathered by the daemon gcheck talks to. Exit
 * 0 every expected node answered, 3 some node did not, 2 usage or
 * connection error.
 */

export interface StatsFlags {
  node?: string[];
  tag?: string[];
  timeout: string;
}

export async function stats(ctx: CliContext, flags: StatsFlags): Promise<number> {
  requireOutput(ctx, "stats", ["table", "json"]);
  const timeoutMs = parseDuration(flags.timeout);
  if (timeoutMs === null || timeoutMs <= 0) throw new CliError(`-timeout "${flags.timeout}": expected a duration such as 10s or 1m`);
  const tags = parseTags(flags.tag ?? []);
  if (!tags.ok) throw new CliError(tags.error);
  const body: StatsRequestBody = { nodes: flags.node ?? [], tags: tags.value, timeoutMs };

  const client = await connect(ctx);
  const report = new StatsReport();
  const elapsedMs = await followReport<StatsEvent>(ctx, client, "/v1/stats", body, timeoutMs, report, "the stats request");
  if (report.expected.length === 0) ctx.stderr.write("gcheck: no node matched the targeting (-node / -tag)\n");
  ctx.stdout.write(ctx.output === "json" ? statsJson(report, elapsedMs) : statsTable(report) + statsSummary(report, elapsedMs));
  return report.exitCode();
}
