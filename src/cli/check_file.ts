import type { CheckSpec } from "../checks/types.js";
import type { CheckFileObject } from "../control/api_types.js";
import { CliError } from "./errors.js";

/**
 * The -file of local-check and check: read and validated here, before
 * anything is sent, so a bad file is reported with its name, line and field
 * (exit 2) instead of as a 400 from the daemon. The checks engine's parser
 * is imported only when a file is actually read (gcheck starts fast).
 */
export async function loadChecks(file: string | undefined): Promise<CheckSpec[]> {
  if (file === undefined || file === "") throw new CliError("no check file: pass one with -file, e.g. gcheck -file checks.json check");
  const { loadCheckFile } = await import("../checks/parse.js");
  const parsed = await loadCheckFile(file);
  if (!parsed.ok) throw new CliError(parsed.errors.join("\n"));
  return parsed.checks;
}

/**
 * Validated checks back in check-file form, the shape the control API takes
 * (so the daemon validates with the very same rules). Timeouts travel as
 * "<ms>ms", which the duration parser reads back exactly.
 */
export function toCheckFileObject(checks: CheckSpec[]): CheckFileObject {
  const doc: CheckFileObject = {};
  for (const c of checks) {
    doc[c.name] = {
      type: c.type,
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
