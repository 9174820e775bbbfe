import { PassThrough, Writable } from "node:stream";
import type { CliContext, OutputFormat } from "../../src/cli/context.js";

/*
 * A gcheck context for calling a command function in the test process:
 * stdout and stderr collected as text, -file when given, and stdout a
 * terminal of 30 rows x 120 columns when tty (what -watch redraws on).
 */

export interface CollectedContext {
  ctx: CliContext;
  out: () => string;
  err: () => string;
}

export function collectingContext(server: string, output: OutputFormat, o: { file?: string; tty?: boolean } = {}): CollectedContext {
  let out = "";
  let err = "";
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        f(chunk.toString());
        cb();
      },
    });
  const stdout = Object.assign(
    sink((s) => (out += s)),
    o.tty ? { isTTY: true, rows: 30, columns: 120 } : {},
  );
  const ctx: CliContext = { server, output, env: {}, stdin: new PassThrough(), stdout, stderr: sink((s) => (err += s)), ...(o.file !== undefined && { file: o.file }) };
  return { ctx, out: () => out, err: () => err };
}
