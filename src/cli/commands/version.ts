import { VERSION } from "../../cmdline/version.js";
import type { DaemonInfo } from "../../control/api_types.js";
import { type CliContext, connect, requireOutput } from "../context.js";
import { Exit } from "../errors.js";
import { errorMessage } from "../../base/result.js";

/*
 * `gcheck version`: gcheck's version and, when a daemon answers at -server,
 * that daemon's name, version and protocol. Exit 0 whenever gcheck's own
 * version is printed, daemon or not: the command answers "what am I
 * running?" (bug reports, install checks on a host with no daemon yet), and
 * says on the daemon's line why none answered. `gcheck info` is the one that
 * fails (exit 2) when no daemon answers.
 */

/** How long to wait for the daemon before saying it did not answer (ms). */
const DAEMON_WAIT_MS = 5_000;

type DaemonAnswer = { ok: true; info: DaemonInfo } | { ok: false; error: string };

async function askDaemon(ctx: CliContext): Promise<DaemonAnswer> {
  const signal = AbortSignal.timeout(DAEMON_WAIT_MS);
  try {
    const client = await connect(ctx);
    return { ok: true, info: await client.getJson<DaemonInfo>("/v1/info", signal) };
  } catch (e) {
    if (signal.aborted) return { ok: false, error: `gossipcheckd at ${ctx.server} did not answer within ${DAEMON_WAIT_MS / 1000}s` };
    return { ok: false, error: errorMessage(e) };
  }
}

export async function version(ctx: CliContext): Promise<number> {
  requireOutput(ctx, "version", ["table", "json"]);
  const daemon = await askDaemon(ctx);
  if (ctx.output === "json") {
    const d = daemon.ok ? { name: daemon.info.name, version: daemon.info.version, protocolVersion: daemon.info.protocolVersion, server: ctx.server } : null;
    ctx.stdout.write(JSON.stringify({ gcheck: { version: VERSION }, daemon: d, ...(!daemon.ok && { daemonError: daemon.error }) }, null, 2) + "\n");
  } else {
    const d = daemon.ok ? `${daemon.info.version} (node ${daemon.info.name}, protocol ${daemon.info.protocolVersion}, at ${ctx.server})` : `none answered: ${daemon.error}`;
    ctx.stdout.write(`gcheck        ${VERSION}\ngossipcheckd  ${d}\n`);
  }
  return Exit.Ok;
}
