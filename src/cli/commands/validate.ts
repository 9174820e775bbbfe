import { checkFileLabel, readCheckFile } from "../check_file.js";
import { type CliContext, requireOutput } from "../context.js";
import { CliError, Exit } from "../errors.js";

/**
 * `gcheck validate -file F`: lints a check file (or, with -file -, what
 * comes on standard input) offline, for CI pipelines. 0 when valid; 2 when
 * not, with every problem listed (not just the first).
 */
export async function validate(ctx: CliContext): Promise<number> {
  requireOutput(ctx, "validate", ["table", "json"]);
  if (ctx.file === undefined || ctx.file === "") throw new CliError("no check file: pass one with -file (- for standard input), e.g. gcheck -file checks.json validate");
  const label = checkFileLabel(ctx.file);
  const parsed = await readCheckFile(ctx, ctx.file);
  if (ctx.output === "json") {
    const doc = parsed.ok ? { file: label, valid: true, checks: parsed.checks.length, errors: [] } : { file: label, valid: false, checks: 0, errors: parsed.errors };
    ctx.stdout.write(JSON.stringify(doc, null, 2) + "\n");
  } else if (parsed.ok) {
    ctx.stdout.write(`${label}: valid, ${parsed.checks.length} check${parsed.checks.length === 1 ? "" : "s"}\n`);
  } else {
    ctx.stderr.write(parsed.errors.map((e) => e + "\n").join(""));
    ctx.stderr.write(`${label}: invalid, ${parsed.errors.length} problem${parsed.errors.length === 1 ? "" : "s"}\n`);
  }
  return parsed.ok ? Exit.Ok : Exit.Usage;
}
