import { checkFileLabel, readCheckFile, toCheckFileObject } from "../check_file.js";
import { type CliContext, requireOutput } from "../context.js";
import { CliError, Exit } from "../errors.js";

/**
 * `gcheck -file goss.yaml import`: prints the JSON check file equivalent to
 * -file (a Goss gossfile, gossipcheck's format in YAML, or JSON), validated
 * with the same rules as check and local-check. 0 printed; 2 invalid, with
 * every problem listed.
 */
export async function importFile(ctx: CliContext): Promise<number> {
  requireOutput(ctx, "import", ["table", "json"]);
  if (ctx.file === undefined || ctx.file === "") throw new CliError("no check file: pass one with -file (- for standard input), e.g. gcheck -file goss.yaml import");
  const parsed = await readCheckFile(ctx, ctx.file);
  if (!parsed.ok) {
    ctx.stderr.write(parsed.errors.map((e) => e + "\n").join(""));
    ctx.stderr.write(`${checkFileLabel(ctx.file)}: not imported, ${parsed.errors.length} problem${parsed.errors.length === 1 ? "" : "s"}\n`);
    return Exit.Usage;
  }
  ctx.stdout.write(JSON.stringify(parsed.document ?? (await toCheckFileObject(parsed.checks)), null, 2) + "\n");
  return Exit.Ok;
}
