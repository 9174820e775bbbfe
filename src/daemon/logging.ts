import type { Logger as PinoLogger } from "pino";
import type { LogFormat, LogLevel } from "./flags.js";

/*
 * The daemon's logger: pino, in one of two shapes (-log-format).
 *
 * - json: one object per line on stdout, for journald, Loki, jq. The level is
 *   its name ("level":"info"), not pino's number, so a reader needs no table.
 * - pretty: one line per event for a person at a terminal: time, level, the
 *   message, then the fields as key=value on the same line. Coloured only on
 *   a terminal, and never when NO_COLOR is set to anything but "" (no-color.org).
 *
 * auto (the default) is pretty when stdout is a terminal, json otherwise.
 * pino-pretty is imported only for pretty, so a daemon under systemd never
 * loads it. The result satisfies the Logger seam of src/base/logger.ts.
 */

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** This node's name, on every line as `node`. */
  name: string;
}

/** Where the lines go and what decides their shape; tests pass their own. */
export interface LogOutput {
  /** Written synchronously; undefined means fd 1. */
  stream?: NodeJS.WritableStream;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

export interface LogStyle {
  pretty: boolean;
  colorize: boolean;
}

/** What a format means on this output: auto follows the terminal; colour needs a terminal and no NO_COLOR. */
export function logStyle(format: LogFormat, out: Pick<LogOutput, "isTTY" | "env">): LogStyle {
  const pretty = format === "pretty" || (format === "auto" && out.isTTY);
  const noColor = (out.env.NO_COLOR ?? "") !== "";
  return { pretty, colorize: pretty && out.isTTY && !noColor };
}

export async function createDaemonLogger(opts: LoggerOptions, out: LogOutput = { isTTY: process.stdout.isTTY === true, env: process.env }): Promise<PinoLogger> {
  // default, not the named export: in the daemon's bundle (scripts/build-bins.mjs) a lazily imported CommonJS package has only its default.
  const { default: pino } = await import("pino");
  const options = {
    level: opts.level,
    base: { node: opts.name, pid: process.pid },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const style = logStyle(opts.format, out);
  if (style.pretty) {
    const { default: pretty } = await import("pino-pretty");
    const stream = pretty({
      colorize: style.colorize,
      translateTime: "SYS:HH:MM:ss.l",
      // The fields are in the message line (prettyMessage); pino-pretty would put each on a line of its own.
      hideObject: true,
      // name too: pino-pretty would print it as "(name)" before the message; prettyMessage keeps it as a field.
      ignore: "pid,hostname,name",
      messageFormat: (log, messageKey) => prettyMessage(log, messageKey),
      sync: true,
      destination: out.stream ?? 1,
    });
    return pino(options, stream);
  }
  // Synchronous writes: a line logged just before process.exit is not lost.
  return pino(options, out.stream ?? pino.destination({ dest: 1, sync: true }));
}

/** Keys pretty output shows elsewhere (time, level, message) or not at all (pid, hostname). */
const PRETTY_SKIP = new Set(["time", "level", "pid", "hostname"]);

/**
 * "message key=value key=value": strings without spaces, quotes or `=` stay
 * bare, everything else is JSON, so the line stays one line (newlines are
 * escaped) and a value can be read back unambiguously.
 */
export function prettyMessage(log: Record<string, unknown>, messageKey = "msg"): string {
  const msg = log[messageKey];
  const parts = [typeof msg === "string" ? msg.replace(/\r?\n/g, "\\n") : ""];
  for (const [key, value] of Object.entries(log)) {
    if (key === messageKey || PRETTY_SKIP.has(key) || value === undefined) continue;
    parts.push(`${key}=${prettyValue(value)}`);
  }
  return parts.filter((p) => p !== "").join(" ");
}

function prettyValue(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=\\\x00-\x1f\x7f]+$/.test(value) ? value : JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value); // a bigint or a cycle
  }
}
