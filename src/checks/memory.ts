import { readFile } from "node:fs/promises";
import { freemem, totalmem } from "node:os";
import type { CheckRunContext, CheckTypeDef } from "./check_type.js";
import type { Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";
import { errorMessage } from "../base/result.js";
import { atLeastOne, bytes, percent } from "./thresholds.js";

/*
 * `memory`: this machine's available memory against a threshold, in bytes or
 * in percent of the total. "Available" is the kernel's MemAvailable (free
 * memory plus the page cache and reclaimable slabs it can give back without
 * swapping), the figure that says whether a new process fits; where
 * /proc/meminfo lacks it (a kernel before 3.14, or not Linux) os.freemem(),
 * and the message says which.
 */
const THRESHOLDS = ["min_available_bytes", "min_available_percent"] as const;

export const memoryCheck: CheckTypeDef = {
  type: "memory",
  subject: "",
  fields: {
    min_available_bytes: { type: { kind: "integer", min: 0, max: Number.MAX_SAFE_INTEGER }, doc: "the least memory that must be available, in bytes" },
    min_available_percent: { type: { kind: "number", min: 0, max: 100 }, doc: "the least memory that must be available, in percent of the total" },
  },
  rules: (p, field) => atLeastOne("memory", THRESHOLDS, p, field),
  evaluate: (p, ctx) => evaluateMemory(p, ctx),
};

interface Measured {
  available: number;
  total: number;
  source: string;
}

/** MemAvailable and MemTotal from /proc/meminfo (in kB there), or os.freemem()/totalmem(). */
export async function measureMemory(): Promise<Measured> {
  try {
    const text = await readFile("/proc/meminfo", "utf8");
    const kb = (key: string) => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(text);
      return m ? Number(m[1]) * 1024 : undefined;
    };
    const available = kb("MemAvailable");
    const total = kb("MemTotal");
    if (available !== undefined && total !== undefined && total > 0) return { available, total, source: "MemAvailable in /proc/meminfo" };
  } catch {
    // Not Linux, or /proc not mounted: os.freemem() below.
  }
  return { available: freemem(), total: totalmem(), source: "os.freemem()" };
}

async function evaluateMemory(p: Params, ctx: CheckRunContext): Promise<Evaluation> {
  let m: Measured;
  try {
    m = await ctx.memo("memory", measureMemory); // once per batch: the checks of a batch look at one moment
  } catch (e) {
    return { status: "error", message: `cannot measure memory: ${errorMessage(e)}` };
  }
  const problems: string[] = [];
  const found: string[] = [];
  const judge = (ok: boolean, text: string) => (ok ? found : problems).push(text);
  const pct = (m.available / m.total) * 100;
  const minBytes = p.min_available_bytes as number | undefined;
  if (minBytes !== undefined) judge(m.available >= minBytes, `${bytes(m.available)} available (min ${bytes(minBytes)})`);
  const minPct = p.min_available_percent as number | undefined;
  if (minPct !== undefined) judge(pct >= minPct, `${percent(pct)} of ${bytes(m.total)} available (min ${percent(minPct)})`);
  const from = ` (${m.source})`;
  if (problems.length > 0) return { status: "fail", message: `memory: ${problems.join("; ")}${found.length > 0 ? `; ${found.join(", ")}` : ""}${from}` };
  return { status: "pass", message: `memory: ${found.join(", ")}${from}` };
}
