import type { Logger as PinoLogger } from "pino";
import type { LogLevel } from "./flags.js";

/**
 * The daemon's logger: pino, JSON lines on stdout (one object per line, for
 * journald, Loki, jq); pretty, colourized lines only when stdout is a
 * terminal. pino-pretty is imported only then, so a daemon under systemd
 * never loads it. The result satisfies the Logger seam of src/base/logger.ts.
 */
export async function createDaemonLogger(level: LogLevel, fields: { name: string }): Promise<PinoLogger> {
  const { pino } = await import("pino");
  const options = { level, base: { node: fields.name, pid: process.pid } };
  if (process.stdout.isTTY) {
    const { default: pretty } = await import("pino-pretty");
    return pino(options, pretty({ colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", sync: true }));
  }
  // Synchronous writes: a line logged just before process.exit is not lost.
  return pino(options, pino.destination({ dest: 1, sync: true }));
}
