import { submitter } from "../submitter.js";
import type { ScheduleSetBody, ScheduleInfo, ScheduleSetResponse, SchedulesResponse } from "../../control/watch_types.js";
import type { DaemonInfo, SignedEnvelopeBody } from "../../control/api_types.js";
import { SCHEDULE_OPS, missingIntervalProblem, scheduleNameProblem } from "../../control/schedule_rules.js";
import { checkFileLabel, loadChecks, toCheckFileObject } from "../check_file.js";
import { type CliContext, connect, requireOutput } from "../context.js";
import { CliError } from "../errors.js";
import { scheduleText, schedulesTable } from "../output/schedules.js";
import { formatTime } from "../output/table.js";
import { parseTags } from "../../cmdline/tags.js";

/*
 * `gcheck schedule set -name NAME -file F [-tag k=v]... [-node N]...
 * [-sign-key F] | list | show NAME | remove NAME [-sign-key F]`: the
 * cluster's named schedules. set publishes a new version of a schedule
 * (every check of the file needs an "interval"); every node that the
 * targeting selects runs it on time from then on, including nodes that join
 * later. list and show are what the daemon gcheck talks to knows (its
 * -checks-dir schedules too). -sign-key signs the schedule, as check's
 * -sign-key signs a batch: nodes with -trusted-keys accept only signed ones.
 * Exit 0 done, 2 usage, file or connection error, or the daemon's refusal.
 */

export interface ScheduleFlags {
  name?: string;
  node?: string[];
  tag?: string[];
  signKey?: string;
  /** Positional arguments: the operation, then the schedule's name (show, remove). */
  args: string[];
}

const USAGE = "use gcheck schedule set -name NAME -file F | list | show NAME | remove NAME";

export async function schedule(ctx: CliContext, flags: ScheduleFlags): Promise<number> {
  requireOutput(ctx, "schedule", ["table", "json"]);
  const [op, nameArg, ...extra] = flags.args;
  if (op === undefined || !(SCHEDULE_OPS as readonly string[]).includes(op)) {
    throw new CliError(`${op === undefined ? "no schedule operation" : `unknown schedule operation "${op}"`}: ${USAGE}`);
  }
  if (extra.length) throw new CliError(`unexpected argument "${extra[0]}": ${USAGE}`);
  if (op === "list") {
    if (nameArg !== undefined || flags.name !== undefined) throw new CliError(`schedule list takes no name: ${USAGE}`);
    return list(ctx);
  }
  if (nameArg !== undefined && flags.name !== undefined && nameArg !== flags.name) throw new CliError(`schedule ${op}: two names, "${nameArg}" and -name "${flags.name}": give one`);
  const name = nameArg ?? flags.name;
  if (name === undefined) throw new CliError(`schedule ${op} needs the schedule's name: ${USAGE}`);
  const bad = scheduleNameProblem(name, op === "set" && flags.name !== undefined ? "-name" : "NAME");
  if (bad) throw new CliError(bad);
  if (op !== "set" && (flags.node !== undefined || flags.tag !== undefined)) throw new CliError(`schedule ${op} takes no -node or -tag: the targeting belongs to schedule set`);
  if (op === "show") return show(ctx, name);
  if (op === "remove") return remove(ctx, name, flags.signKey);
  return set(ctx, name, flags);
}

async function set(ctx: CliContext, name: string, flags: ScheduleFlags): Promise<number> {
  const tags = parseTags(flags.tag ?? []);
  if (!tags.ok) throw new CliError(tags.error);
  const checks = await loadChecks(ctx);
  const noInterval = missingIntervalProblem(checks, checkFileLabel(ctx.file!));
  if (noInterval) throw new CliError(noInterval);
  const nodes = flags.node ?? [];
  const client = await connect(ctx);
  let body: ScheduleSetBody;
  if (flags.signKey !== undefined) {
    const { signSchedule } = await import("../signing.js");
    const batch = { checks, dryRun: false, targetNodes: nodes, targetTags: tags.value };
    body = { signed: await signSchedule(client, flags.signKey, { name, version: Date.now(), removed: false, batch, submitter: submitter() }) };
  } else {
    body = { name, checks: await toCheckFileObject(checks), nodes, tags: tags.value, submitter: submitter() };
  }
  const change = await client.postJson<ScheduleSetResponse>("/v1/schedules", body);
  return changed(ctx, await nodeName(ctx, client), change);
}

async function remove(ctx: CliContext, name: string, signKey: string | undefined): Promise<number> {
  const client = await connect(ctx);
  let signed: SignedEnvelopeBody | undefined;
  if (signKey !== undefined) {
    const { signSchedule } = await import("../signing.js");
    signed = await signSchedule(client, signKey, { name, version: Date.now(), removed: true, batch: { checks: [], dryRun: false, targetNodes: [], targetTags: {} }, submitter: submitter() });
  }
  const change = await client.deleteJson<ScheduleSetResponse>(`/v1/schedules/${encodeURIComponent(name)}`, signed ? { signed } : { submitter: submitter() });
  return changed(ctx, await nodeName(ctx, client), change);
}

async function nodeName(ctx: CliContext, client: Awaited<ReturnType<typeof connect>>): Promise<string> {
  return (await client.getJson<DaemonInfo>("/v1/info")).name || ctx.server;
}

/** "schedule web version 1748786589000 (2025-06-01T14:03:09Z) set on node-a; spreading to the cluster". */
function changed(ctx: CliContext, node: string, c: ScheduleSetResponse): number {
  if (ctx.output === "json") {
    ctx.stdout.write(JSON.stringify({ node, ...c }, null, 2) + "\n");
  } else {
    ctx.stdout.write(`schedule ${c.name} version ${c.version} (${formatTime(c.version)}) ${c.removed ? "removed" : "set"} on ${node}; spreading to the cluster\n`);
  }
  return 0;
}

async function list(ctx: CliContext): Promise<number> {
  const client = await connect(ctx);
  const answer = await client.getJson<SchedulesResponse>("/v1/schedules");
  if (ctx.output === "json") ctx.stdout.write(JSON.stringify(answer, null, 2) + "\n");
  else if (answer.schedules.length === 0) ctx.stdout.write(`${answer.node} knows no schedules (set one with gcheck schedule set -name NAME -file F)\n`);
  else ctx.stdout.write(schedulesTable(answer.schedules));
  return 0;
}

async function show(ctx: CliContext, name: string): Promise<number> {
  const client = await connect(ctx);
  const info = await client.getJson<ScheduleInfo>(`/v1/schedules/${encodeURIComponent(name)}`);
  ctx.stdout.write(ctx.output === "json" ? JSON.stringify(info, null, 2) + "\n" : scheduleText(info));
  return 0;
}
