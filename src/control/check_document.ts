import { paramsToJson } from "../checks/fields.js";
import type { CheckSpec } from "../checks/types.js";
import { paramFields } from "../checks/validate.js";
import type { CheckFileObject } from "./api_types.js";

/*
 * Validated checks back in check-file form: what gcheck sends to the
 * control API (so the daemon validates with the very same rules), and the
 * document a schedule shows when it arrived signed (its checks travel
 * encoded, not as the operator's file). Durations travel as "<ms>ms",
 * which the duration parser reads back exactly; a type's own fields
 * (params) as the wire encodes them (durations likewise).
 */
export function checkDocument(checks: readonly CheckSpec[]): CheckFileObject {
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
      ...(c.intervalMs !== undefined && { interval: `${c.intervalMs}ms` }),
      ...(c.splayMs !== undefined && { splay: `${c.splayMs}ms` }),
      ...(c.quorum !== undefined && { quorum: c.quorum }),
    };
  }
  return doc;
}
