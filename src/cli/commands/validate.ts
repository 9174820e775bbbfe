import { type CliContext, requireOutput } from "../context.js";
import { CliError, Exit } from "../errors.js";

/**
 * `gcheck validate -file F`: lints a check file offline, for CI pipelines.
 * 0 when valid; 2 when not, with every problem listed (not just the first).
 */
export async function validate(ctx: CliContext): Promise<number> {
  requireOutput(ctx, "validate", ["table", "json"]);
  if (ctx.file === undefined || ctx.file === "") throw new CliError("no check file: pass one with -file, e.g. gcheck -file checks.json validate");
  const { loadCheckFile } = await import("../../checks/parse.js");
  const parsed = await loadCheckFile(ctx.file);
  if (ctx.output === "json") {
    const doc = parsed.ok ? { file: ctx.file, valid: true, checks: parsed.checks.length, errors: [] } : { file: ctx.file, valid: false, checks: 0, errors: parsed.errors };
    ctx.stdout.write(JSON.stringify(doc, null, 2) + "\n");
  } else if (parsed.ok) {
    ctx.stdout.write(`${ctx.file}: valid, ${parsed.checks.length} check${parsed.checks.length === 1 ? "" : "s"}\n`);
  } else {
    ctx.stderr.write(parsed.errors.map((e) => e + "\n").join(""));
    ctx.stderr.write(`${ctx.file}: invalid, ${parsed.errors.length} problem${parsed.errors.length === 1 ? "" : "s"}\n`);
  }
  return parsed.ok ? Exit.Ok : Exit.Usage;
}
