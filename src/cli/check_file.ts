import type { ParseResult } from "../checks/parse.js";
import type { CheckSpec } from "../checks/types.js";
import type { CheckFileObject } from "../control/api_types.js";
import type { CliContext } from "./context.js";
import { CliError } from "./errors.js";
import { errorMessage } from "../base/result.js";

/** `-file -`: the check file comes from standard input (a pipe, a heredoc). */
export const STDIN_FILE = "-";

/** The name messages give the check file: its path, or "standard input". */
export function checkFileLabel(file: string): string {
  return file === STDIN_FILE ? "standard input" : file;
}

/**
 * Reads and parses -file (a path, or - for standard input), JSON or YAML
 * (gossipcheck's format or a Goss gossfile: src/checks/goss); every problem
 * comes back as an error naming the file. The checks engine's parser is
 * imported only when a file is actually read (gcheck starts fast).
 */
export async function readCheckFile(ctx: CliContext, file: string): Promise<ParseResult> {
  const { loadCheckFile, parseCheckInput } = await import("../checks/parse.js");
  if (file !== STDIN_FILE) return loadCheckFile(file);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of ctx.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  } catch (e) {
    return { ok: false, errors: [`standard input: cannot read the check file: ${errorMessage(e)}`] };
  }
  return parseCheckInput(Buffer.concat(chunks), checkFileLabel(file));
}

/**
 * The -file of local-check and check: read and validated here, before
 * anything is sent, so a bad file is reported with its name, line and field
 * (exit 2) instead of as a 400 from the daemon.
 */
export async function loadChecks(ctx: CliContext): Promise<CheckSpec[]> {
  if (ctx.file === undefined || ctx.file === "") throw new CliError("no check file: pass one with -file (- for standard input), e.g. gcheck -file checks.json check");
  const parsed = await readCheckFile(ctx, ctx.file);
  if (!parsed.ok) throw new CliError(parsed.errors.join("\n"));
  return parsed.checks;
}

/**
 * Validated checks back in check-file form, the shape the control API takes
 * (src/control/check_document.ts; loaded when a command sends checks).
 */
export async function toCheckFileObject(checks: CheckSpec[]): Promise<CheckFileObject> {
  const { checkDocument } = await import("../control/check_document.js");
  return checkDocument(checks);
}
