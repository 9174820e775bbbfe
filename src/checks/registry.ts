import type { CheckTypeDef } from "./check_type.js";
import { commandCheck } from "./command.js";
import { nagiosCheck } from "./nagios.js";
import { diskUsageCheck } from "./disk_usage.js";
import { fileCheck } from "./file.js";
import { loadCheck } from "./load.js";
import { memoryCheck } from "./memory.js";
import { groupCheck, userCheck } from "./accounts.js";
import { kernelParamCheck } from "./kernel_param.js";
import { mountCheck } from "./mount.js";
import { packageCheck } from "./package.js";
import { portCheck } from "./port.js";
import { serviceCheck } from "./service.js";
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

const REGISTERED: readonly CheckTypeDef[] = [
  commandCheck,
  nagiosCheck,
  httpCheck,
  tcpCheck,
  dnsCheck,
  fileCheck,
  diskUsageCheck,
  memoryCheck,
  loadCheck,
  portCheck,
  serviceCheck,
  packageCheck,
  userCheck,
  groupCheck,
  kernelParamCheck,
  mountCheck,
];

const byType = new Map(REGISTERED.map((d) => [d.type, d]));

/** The definition of a registered type, or undefined (an original type, or none). */
export function registeredType(type: string): CheckTypeDef | undefined {
  return byType.get(type);
}

export function registeredTypes(): readonly CheckTypeDef[] {
  return REGISTERED;
}
