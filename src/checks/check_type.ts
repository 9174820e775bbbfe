import type { BatchContext, Evaluation } from "./evaluation.js";
import type { FieldSpec, Params } from "./fields.js";

/* What a registered check type declares (registry.ts lists them). */

/** What an evaluation may need beyond the batch's shared context. */
export interface CheckRunContext extends BatchContext {
  check: string;
  batchId: string;
  node: string;
  /** The check's `timeout` (ms), which bounds a command it runs as it bounds its action; undefined = the default. */
  timeoutMs: number | undefined;
  /** False on a report-only node (-no-actions): a check that runs code must not run it. */
  allowCommands: boolean;
}

export interface CheckTypeDef {
  type: string;
  /** The field that names what the check looks at ("command", "url"...), listed first in docs; "" for a type that looks at the whole machine (memory, load). */
  subject: string;
  fields: Readonly<Record<string, FieldSpec>>;
  /** Rules across fields, beyond each field's own: messages, "" when none. */
  rules?(p: Params, field: (f: string) => string): string[];
  /** Runs code of the check file's (command, nagios): refused on a report-only node. */
  runsCode?: boolean;
  evaluate(p: Params, ctx: CheckRunContext): Promise<Evaluation>;
}
