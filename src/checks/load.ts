import { availableParallelism, loadavg } from "node:os";
import type { CheckTypeDef } from "./check_type.js";
import type { Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";
import { atLeastOne } from "./thresholds.js";

/*
 * `load`: the load averages over 1, 5 and 15 minutes divided by the CPUs
 * this process may use (os.availableParallelism(): a container's CPU set),
 * so one threshold fits machines of every size: 1.0 is every CPU busy with
 * nothing waiting.
 */
const THRESHOLDS = ["max_per_cpu_1m", "max_per_cpu_5m", "max_per_cpu_15m"] as const;
const doc = (window: string) => `the most load per CPU over ${window} (the load average divided by the CPUs)`;

export const loadCheck: CheckTypeDef = {
  type: "load",
  subject: "",
  fields: {
    max_per_cpu_1m: { type: { kind: "number", min: 0, max: 1e6 }, doc: doc("1 minute") },
    max_per_cpu_5m: { type: { kind: "number", min: 0, max: 1e6 }, doc: doc("5 minutes") },
    max_per_cpu_15m: { type: { kind: "number", min: 0, max: 1e6 }, doc: doc("15 minutes") },
  },
  rules: (p, field) => atLeastOne("load", THRESHOLDS, p, field),
  evaluate: evaluateLoad,
};

async function evaluateLoad(p: Params): Promise<Evaluation> {
  const cpus = availableParallelism();
  const averages = loadavg();
  const problems: string[] = [];
  const found: string[] = [];
  THRESHOLDS.forEach((f, i) => {
    const max = p[f] as number | undefined;
    if (max === undefined) return;
    const perCpu = averages[i]! / cpus;
    const window = f.slice("max_per_cpu_".length);
    (perCpu <= max ? found : problems).push(`${window} ${round(perCpu)} per CPU (load ${round(averages[i]!)}, max ${max})`);
  });
  const on = ` on ${cpus} CPU${cpus === 1 ? "" : "s"}`;
  if (problems.length > 0) return { status: "fail", message: `load: ${problems.join("; ")}${found.length > 0 ? `; ${found.join(", ")}` : ""}${on}` };
  return { status: "pass", message: `load: ${found.join(", ")}${on}` };
}

function round(x: number): number {
  return Number(x.toFixed(2));
}
