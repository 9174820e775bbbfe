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
 * (so the daemon validates with the very same rules). Timeouts travel as
 * "<ms>ms", which the duration parser reads back exactly; a type's own
 * fields (params) as the wire encodes them (durations likewise).
 */
export async function toCheckFileObject(checks: CheckSpec[]): Promise<CheckFileObject> {
  const { paramsToJson } = await import("../checks/fields.js");
  const { paramFields } = await import("../checks/validate.js");
  const doc: CheckFileObject = {};
  for (const c of checks) {
    doc[c.name] = {
      type: c.type,
      ...(c.params !== undefined && (JSON.parse(paramsToJson(paramFields(c.type), c.params)) as Record<string, unknown>)),
      ...(c.path !== undefined && { path: c.path }),
      ...(c.check !== undefined && { check: c.check }),
      ...(c.action !== undefined && { action: c.action }),
      ...(c.timeoutMs !== undefined && { timeout: `${c.timeoutMs}ms` }),
      ...(c.keepChildren === true && { keep_children: true }),
      ...(c.description !== undefined && { description: c.description }),
    };
  }
  return doc;
}
