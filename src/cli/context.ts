import type { Readable, Writable } from "node:stream";
import { parseDuration } from "../checks/duration.js";
import { ControlClient } from "./client.js";
import { CliError } from "./errors.js";

/** What every command gets from the global flags (-server, -file, -output, -token-file). */
export const OUTPUT_FORMATS = ["table", "json", "junit", "ndjson", "tap", "nagios"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface CliContext {
  /** host:port of the daemon's control API. */
  server: string;
  file?: string;
  output: OutputFormat;
  tokenFile?: string;
  env: NodeJS.ProcessEnv;
  /** Where `-file -` reads the check file from. */
  stdin: Readable;
  stdout: Writable;
  /** Also where the live progress line goes when it is a terminal. */
  stderr: Writable & { isTTY?: boolean };
}

/** Refuses an -output a command cannot produce, naming the ones it can. */
export function requireOutput(ctx: CliContext, command: string, allowed: readonly OutputFormat[]): void {
  if (!allowed.includes(ctx.output)) {
    throw new CliError(`-output ${ctx.output} is not available for ${command}: use ${allowed.join(" or ")}`);
  }
}

/** A client for the daemon, with the token from -token-file or GOSSIPCHECK_TOKEN. */
export async function connect(ctx: CliContext): Promise<ControlClient> {
  let token = ctx.env.GOSSIPCHECK_TOKEN?.trim() || undefined;
  if (ctx.tokenFile !== undefined) {
    const { readTokenFile } = await import("../control/token.js");
    const t = await readTokenFile(ctx.tokenFile, "-token-file");
    if (!t.ok) throw new CliError(t.error);
    token = t.token;
  }
  return new ControlClient({ server: ctx.server, ...(token !== undefined && { token }) });
}

/** A duration flag's ms (-timeout 10s); anything else is a usage error naming the flag. */
export function durationFlag(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === null || ms <= 0) throw new CliError(`-${flag} "${text}": expected a duration such as 30s, 2m or 1m30s`);
  return ms;
}
