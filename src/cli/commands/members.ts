import { MEMBER_STATUSES, type MembersResponse, type MemberView } from "../../control/api_types.js";
import { type CliContext, connect, requireOutput } from "../context.js";
import { CliError, Exit } from "../errors.js";
import { liveStreamName } from "../live_follow.js";
import { LiveMembers } from "../live_members.js";
import { LIVE_SEAMS, type LiveSeams, runLive } from "../live_run.js";
import { membersJson } from "../output/json.js";
import { membersTable } from "../output/table.js";

/**
 * `gcheck members [--status alive|suspect|dead|left] [-watch]`: the cluster
 * as the daemon sees it; with -watch, kept current from its members stream
 * until Ctrl-C (live_run.ts: a terminal, a pipe, -output json).
 */
export function members(ctx: CliContext, opts: MembersFlags): Promise<number> {
  return membersWith(ctx, opts, LIVE_SEAMS);
}

export interface MembersFlags {
  status?: string;
  watch?: boolean;
}

/** members with the clocks and SIGINT of -watch replaceable (tests). */
export async function membersWith(ctx: CliContext, opts: MembersFlags, seams: LiveSeams): Promise<number> {
  requireOutput(ctx, "members", ["table", "json"]);
  if (opts.status !== undefined && !(MEMBER_STATUSES as readonly string[]).includes(opts.status)) {
    throw new CliError(`-status "${opts.status}": expected one of ${MEMBER_STATUSES.join(", ")}`);
  }
  if (opts.watch && opts.status !== undefined && ctx.output === "json") {
    throw new CliError("-status does not apply to -watch -output json, which prints every event of the stream as it comes: filter them with jq");
  }
  const client = await connect(ctx);
  if (opts.watch) {
    const view = new LiveMembers(liveStreamName({ stream: "members", server: ctx.server }), opts.status as MemberView["status"] | undefined, seams.timing.now);
    // Redrawn every second as well: the SINCE column moves with the clock.
    return runLive(ctx, client, "members", "/v1/streams/members", view, seams, 1000);
  }
  const res = await client.getJson<MembersResponse>(`/v1/members${opts.status ? `?status=${opts.status}` : ""}`);
  ctx.stdout.write(ctx.output === "json" ? membersJson(res.node, res.members) : membersTable(res.members));
  return Exit.Ok;
}
