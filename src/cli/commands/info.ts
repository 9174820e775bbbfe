import type { DaemonInfo } from "../../control/api_types.js";
import { type CliContext, connect, requireOutput } from "../context.js";
import { Exit } from "../errors.js";
import { infoJson, infoTable } from "../output/info.js";

/**
 * `gcheck info`: the daemon's GET /v1/info as a readable summary (name,
 * version, uptime, members by status, the counters that show trouble), or
 * the whole document with -output json. Exit 0, or 2 when no daemon answers.
 */
export async function info(ctx: CliContext): Promise<number> {
  requireOutput(ctx, "info", ["table", "json"]);
  const client = await connect(ctx);
  const doc = await client.getJson<DaemonInfo>("/v1/info");
  ctx.stdout.write(ctx.output === "json" ? infoJson(doc) : infoTable(doc, Date.now()));
  return Exit.Ok;
}
