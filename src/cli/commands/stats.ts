import { parseDuration } from "../../checks/duration.js";
import type { StatsEvent, StatsRequestBody } from "../../control/api_types.js";
import { STATS_INTERVAL_DEFAULT_MS, STATS_INTERVAL_MAX_MS, STATS_INTERVAL_MIN_MS } from "../../control/stream_types.js";
import { type CliContext, connect, requireOutput } from "../context.js";
import { CliError } from "../errors.js";
import { followReport } from "../follow.js";
import { liveStreamName } from "../live_follow.js";
import { LIVE_SEAMS, type LiveSeams, runLive } from "../live_run.js";
import { intervalText, LiveStats, statsStreamPath } from "../live_stats.js";
import { statsJson, statsSummary, statsTable } from "../output/stats.js";
import { StatsReport } from "../stats_report.js";
import { parseTags } from "../../cmdline/tags.js";

/*
 * `gcheck stats [-node N]... [-tag k=v]... [-timeout 10s]`: every targeted
 * node's load, memory, disk and uptime, asked through the cluster (a
 * STATS_REQUEST envelope) and gathered by the daemon gcheck talks to. Exit
 * 0 every expected node answered, 3 some node did not, 2 usage or
 * connection error. With -watch [-interval 2s]: the same table every
 * round of the daemon's stats stream until Ctrl-C (live_stats.ts), exit 0.
 */

export interface StatsFlags {
  node?: string[];
  tag?: string[];
  /** No commander default: -watch refuses a -timeout given (its rounds last -interval). */
  timeout?: string;
  watch?: boolean;
  interval?: string;
}

/** -timeout when none is given (ms). */
const STATS_TIMEOUT_DEFAULT = "10s";

export function stats(ctx: CliContext, flags: StatsFlags): Promise<number> {
  return statsWith(ctx, flags, LIVE_SEAMS);
}

/** stats with the clocks and SIGINT of -watch replaceable (tests). */
export async function statsWith(ctx: CliContext, flags: StatsFlags, seams: LiveSeams): Promise<number> {
  requireOutput(ctx, "stats", ["table", "json"]);
  const tags = parseTags(flags.tag ?? []);
  if (!tags.ok) throw new CliError(tags.error);
  if (flags.watch) return watchStats(ctx, flags, seams);
  if (flags.interval !== undefined) throw new CliError("-interval is the period of -watch's rounds: add -watch, or leave -interval out");
  const timeout = flags.timeout ?? STATS_TIMEOUT_DEFAULT;
  const timeoutMs = parseDuration(timeout);
  if (timeoutMs === null || timeoutMs <= 0) throw new CliError(`-timeout "${timeout}": expected a duration such as 10s or 1m`);
  const body: StatsRequestBody = { nodes: flags.node ?? [], tags: tags.value, timeoutMs };

  const client = await connect(ctx);
  const report = new StatsReport();
  const elapsedMs = await followReport<StatsEvent>(ctx, client, "/v1/stats", body, timeoutMs, report, "the stats request");
  if (report.expected.length === 0) ctx.stderr.write("gcheck: no node matched the targeting (-node / -tag)\n");
  ctx.stdout.write(ctx.output === "json" ? statsJson(report, elapsedMs) : statsTable(report) + statsSummary(report, elapsedMs));
  return report.exitCode();
}

async function watchStats(ctx: CliContext, flags: StatsFlags, seams: LiveSeams): Promise<number> {
  if (flags.timeout !== undefined) throw new CliError("-timeout does not apply to -watch: each round waits for the nodes' answers for most of -interval (default 2s)");
  const intervalMs = flags.interval === undefined ? STATS_INTERVAL_DEFAULT_MS : parseDuration(flags.interval);
  if (intervalMs === null || intervalMs < STATS_INTERVAL_MIN_MS || intervalMs > STATS_INTERVAL_MAX_MS) {
    throw new CliError(`-interval "${flags.interval}": expected a duration from ${intervalText(STATS_INTERVAL_MIN_MS)} to ${intervalText(STATS_INTERVAL_MAX_MS)}, such as 2s`);
  }
  const client = await connect(ctx);
  const view = new LiveStats(liveStreamName({ stream: "stats", server: ctx.server }));
  return runLive(ctx, client, "stats", statsStreamPath(intervalMs, flags.node ?? [], flags.tag ?? []), view, seams);
}
