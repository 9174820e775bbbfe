import type { MembersResponse } from "../../control/api_types.js";
import { parseTags } from "../../cmdline/tags.js";
import { HttpStatusError } from "../client.js";
import { type CliContext, connect, durationFlag, requireOutput } from "../context.js";
import { CliError, Exit } from "../errors.js";
import { membersJson } from "../output/json.js";
import { membersTable } from "../output/table.js";

/*
 * `gcheck wait -tag service=db -count 2 -timeout 60s`: node-discovery's
 * need/ready. One long poll, GET /v1/members?wait=1&tag=..&count=..&timeout=..
 * (src/daemon/api/members_wait.ts): the daemon answers as soon as enough
 * alive members carry the tags (exit 0, the members printed), or 408 at the
 * timeout with how many it saw (exit 3).
 */

export interface WaitFlags {
  tag?: string[];
  count: string;
  timeout: string;
}

/** The daemon's bound on a wait (members_wait.ts: WAIT_MAX_MS). */
const MAX_WAIT_MS = 10 * 60_000;

export async function wait(ctx: CliContext, flags: WaitFlags): Promise<number> {
  requireOutput(ctx, "wait", ["table", "json"]);
  const tags = parseTags(flags.tag ?? []);
  if (!tags.ok) throw new CliError(tags.error);
  if (!/^\d{1,6}$/.test(flags.count) || Number(flags.count) < 1) throw new CliError(`-count "${flags.count}": expected a whole number of members, at least 1`);
  const timeoutMs = durationFlag("timeout", flags.timeout);
  if (timeoutMs > MAX_WAIT_MS) throw new CliError(`-timeout ${flags.timeout}: at most 10m (the daemon's bound); run gcheck wait again to wait longer`);
  const q = new URLSearchParams({ wait: "1", count: flags.count, timeout: `${timeoutMs}ms` });
  for (const [k, v] of Object.entries(tags.value)) q.append("tag", `${k}=${v}`);
  const client = await connect(ctx);
  try {
    const res = await client.getJson<MembersResponse>(`/v1/members?${q}`);
    ctx.stdout.write(ctx.output === "json" ? membersJson(res.node, res.members) : membersTable(res.members));
    return Exit.Ok;
  } catch (e) {
    if (e instanceof HttpStatusError && e.status === 408) throw new CliError(e.message.replace(/^gossipcheckd at \S+ answered 408: /, "gave up: "), Exit.NodesMissing);
    throw e;
  }
}
