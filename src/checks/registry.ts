import type { CheckTypeDef } from "./check_type.js";
import { commandCheck } from "./command.js";
import { dnsCheck } from "./dns.js";
import { httpCheck } from "./http.js";
import { tcpCheck } from "./tcp.js";

/*
 * The check types beyond the original three, one file each, declared here
 * so that validation (validate.ts), the wire (codec.ts: their fields travel
 * as JSON and are validated again on receipt) and the runner (runner.ts)
 * all take them from one table. A type declares its fields (fields.ts), its
 * cross-field rules, and how to evaluate it.
 */

const REGISTERED: readonly CheckTypeDef[] = [commandCheck, httpCheck, tcpCheck, dnsCheck];

const byType = new Map(REGISTERED.map((d) => [d.type, d]));

/** The definition of a registered type, or undefined (an original type, or none). */
export function registeredType(type: string): CheckTypeDef | undefined {
  return byType.get(type);
}

export function registeredTypes(): readonly CheckTypeDef[] {
  return REGISTERED;
}
