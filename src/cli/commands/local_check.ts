import type { LocalCheckResponse } from "../../control/api_types.js";
import { loadChecks, toCheckFileObject } from "../check_file.js";
import { type CliContext, connect } from "../context.js";
import { resultsJson } from "../output/json.js";
import { resultsJunit } from "../output/junit.js";
import { resultsTable } from "../output/table.js";
import { resultsExitCode } from "../report.js";

/**
 * `gcheck -file F local-check`: every check evaluated on the daemon's own
 * host, one after the other, no action run (as the original). 0 all passed,
 * 1 some check failed or errored.
 */
export async function localCheck(ctx: CliContext): Promise<number> {
  const checks = await loadChecks(ctx);
  const client = await connect(ctx);
  const res = await client.postJson<LocalCheckResponse>("/v1/local-check", { checks: toCheckFileObject(checks) });
  const code = resultsExitCode(res.results);
  if (ctx.output === "json") ctx.stdout.write(resultsJson(res.node, res.results, res.elapsedMs, code));
  else if (ctx.output === "junit") ctx.stdout.write(resultsJunit(res.node, res.results, res.elapsedMs));
  else {
    ctx.stdout.write(resultsTable(res.results));
    const n = (s: string) => res.results.filter((r) => r.status === s).length;
    ctx.stdout.write(`${res.node}: ${n("pass")} passed, ${n("fail")} failed, ${n("error")} errored\n`);
  }
  return code;
}
