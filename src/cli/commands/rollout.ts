import type { RolloutStatus, RolloutsResponse } from "../../control/api_types.js";
import { type CliContext, connect, requireOutput } from "../context.js";
import { CliError, Exit } from "../errors.js";

/*
 * `gcheck rollout list | status ID | abort ID`: a rollout belongs to the
 * daemon that runs it (the origin, -server), so all three ask that daemon
 * (GET /v1/rollouts[/ID], POST /v1/rollouts/ID/abort). list prints one line
 * per rollout it ran, newest first (exit 0). status prints its waves and
 * nodes; exit 0 running or complete, 1 stopped on failures, 3 aborted or
 * cut short by a disconnected gcheck (nodes not reached). abort lets no
 * further wave start (the current one finishes: its envelope is out) and
 * prints the state after it.
 */

export interface RolloutFlags {
  /** Positional arguments: the operation and the rollout ID. */
  args: string[];
}

const USAGE = "use gcheck rollout list, gcheck rollout status ID or gcheck rollout abort ID (ID: 32 hex digits, printed by gcheck check)";

export async function rollout(ctx: CliContext, flags: RolloutFlags): Promise<number> {
  requireOutput(ctx, "rollout", ["table", "json"]);
  const [op, id, ...extra] = flags.args;
  if (op === "list") {
    if (id !== undefined) throw new CliError(`unexpected argument "${id}": ${USAGE}`);
    const list = await (await connect(ctx)).getJson<RolloutsResponse>("/v1/rollouts");
    ctx.stdout.write(ctx.output === "json" ? JSON.stringify(list, null, 2) + "\n" : rolloutList(list));
    return Exit.Ok;
  }
  if (op !== "status" && op !== "abort") throw new CliError(op === undefined ? `no operation: ${USAGE}` : `unknown operation "${op}": ${USAGE}`);
  if (id === undefined) throw new CliError(`no rollout ID: ${USAGE}`);
  if (extra.length) throw new CliError(`unexpected argument "${extra[0]}": ${USAGE}`);
  const rolloutId = id.toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(rolloutId)) throw new CliError(`"${id}" is not a rollout ID: ${USAGE}`);
  const client = await connect(ctx);
  const path = `/v1/rollouts/${rolloutId}`;
  const status = op === "status" ? await client.getJson<RolloutStatus>(path) : await client.postJson<RolloutStatus>(`${path}/abort`, {});
  ctx.stdout.write(ctx.output === "json" ? JSON.stringify(status, null, 2) + "\n" : rolloutTable(status, op === "abort"));
  if (status.outcome === "stopped" || status.failures > 0) return Exit.ChecksFailed;
  if (status.outcome === "aborted" || status.outcome === "disconnected") return Exit.NodesMissing;
  return Exit.Ok;
}

/** The rollout as text: one line for it, one per wave, then the nodes that did not pass. */
export function rolloutTable(s: RolloutStatus, aborting: boolean): string {
  const lines: string[] = [];
  const outcome = aborting && s.outcome === "running" ? "running (aborted: no further wave starts)" : s.outcome;
  lines.push(`rollout ${s.id} on ${s.origin} (${s.mode}): ${outcome}, wave ${s.currentWave} of ${s.waves.length}, ${s.failures} failures (max ${s.maxFailures})`);
  if (s.reason) lines.push(`  ${s.reason}`);
  for (const w of s.waves) lines.push(`  wave ${w.wave} ${w.state}${w.batchId ? ` batch ${w.batchId}` : ""}: ${w.nodes.join(", ")}`);
  const notPassed = s.nodes.filter((n) => n.state !== "pass");
  if (notPassed.length) {
    lines.push("  nodes not passed:");
    for (const n of notPassed) lines.push(`    ${n.node} (wave ${n.wave}) ${n.state}${n.reason ? `: ${n.reason}` : ""}`);
  }
  return lines.join("\n") + "\n";
}

/** One line per rollout: ID, start, mode, outcome, waves run of planned, failures. */
export function rolloutList(r: RolloutsResponse): string {
  if (r.rollouts.length === 0) return `no rollouts on ${r.node}\n`;
  return (
    r.rollouts
      .map((s) => {
        const run = s.waves.filter((w) => w.state === "done" || w.state === "running").length;
        return `${s.id}  ${new Date(s.startedMs).toISOString()}  ${s.mode}  ${s.outcome}  waves ${run}/${s.waves.length}  failures ${s.failures} (max ${s.maxFailures})`;
      })
      .join("\n") + "\n"
  );
}
