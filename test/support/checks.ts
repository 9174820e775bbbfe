import assert from "node:assert/strict";
import { parseCheckObject, runBatch } from "../../src/checks/index.js";
import type { CheckResult, CheckSpec } from "../../src/checks/types.js";

/** One check parsed from check-file fields (it must be valid: the test fails naming the errors otherwise). */
export function checkSpec(fields: Record<string, unknown>): CheckSpec {
  const parsed = parseCheckObject({ c: fields }, "test");
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.errors.join("; "));
  return parsed.checks[0]!;
}

/** Runs one check as a batch of its own (actions allowed) and returns its result. */
export async function runOneCheck(spec: CheckSpec, opts: { allowCommands?: boolean } = {}): Promise<CheckResult> {
  const [r] = await runBatch([spec], { batchId: "b", node: "n", runActions: true, ...opts });
  return r!;
}
