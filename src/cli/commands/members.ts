import { MEMBER_STATUSES, type MembersResponse } from "../../control/api_types.js";
import { type CliContext, connect, requireOutput } from "../context.js";
import { CliError, Exit } from "../errors.js";
import { membersJson } from "../output/json.js";
import { membersTable } from "../output/table.js";

/** `gcheck members [--status alive|suspect|dead|left]`: the cluster as the daemon sees it. */
export async function members(ctx: CliContext, opts: { status?: string }): Promise<number> {
  requireOutput(ctx, "members", ["table", "json"]);
  if (opts.status !== undefined && !(MEMBER_STATUSES as readonly string[]).includes(opts.status)) {
    throw new CliError(`-status "${opts.status}": expected one of ${MEMBER_STATUSES.join(", ")}`);
  }
  const client = await connect(ctx);
  const res = await client.getJson<MembersResponse>(`/v1/members${opts.status ? `?status=${opts.status}` : ""}`);
  ctx.stdout.write(ctx.output === "json" ? membersJson(res.node, res.members) : membersTable(res.members));
  return Exit.Ok;
}
