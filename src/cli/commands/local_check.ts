import type { LocalCheckResponse } from "../../control/api_types.js";
import { loadChecks, toCheckFileObject } from "../check_file.js";
import { type CliContext, connect, requireOutput } from "../context.js";
import type { FailOn } from "../errors.js";
import { resultsJson } from "../output/json.js";
import { resultsJunit } from "../output/junit.js";
import { checkCounts, resultsTable } from "../output/table.js";
import { countChecks, resultsExitCode } from "../report.js";

export interface LocalCheckFlags {
  failOn: FailOn;
}

/**
 * `gcheck -file F local-check`: every check evaluated on the daemon's own
 * host, one after the other, no action run (as the original). 0 all passed
 * (or warned, unless -fail-on warn), 1 some check failed or errored.
 */
export async function localCheck(ctx: CliContext, flags: LocalCheckFlags): Promise<number> {
  requireOutput(ctx, "local-check", ["table", "json", "junit"]);
  const checks = await loadChecks(ctx);
  const client = await connect(ctx);
  const res = await client.postJson<LocalCheckResponse>("/v1/local-check", { checks: await toCheckFileObject(checks) });
  const code = resultsExitCode(res.results, flags.failOn);
  if (ctx.output === "json") ctx.stdout.write(resultsJson(res.node, res.results, res.elapsedMs, code, flags.failOn));
  else if (ctx.output === "junit") ctx.stdout.write(resultsJunit(res.node, res.results, res.elapsedMs, flags.failOn));
  else {
    ctx.stdout.write(resultsTable(res.results));
    // No "fixed" count: local-check runs no action.
    ctx.stdout.write(`${res.node}: ${checkCounts(countChecks(res.results), false)}\n`);
  }
  return code;
}
