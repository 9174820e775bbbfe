import { performance } from "node:perf_hooks";
import { runAction, runningActionGroups } from "./action.js";
import { batchMemo, type BatchContext, type Evaluation } from "./evaluation.js";
import { evaluateFileContains } from "./file_contains.js";
import { evaluateFileExists } from "./file_exists.js";
import { registeredType } from "./registry.js";
import { syncFileIoAllowed } from "./local_fs.js";
import { evaluateProcessRunning } from "./process_running.js";
import { takeProcessSnapshot, type ProcessSnapshot } from "./processes.js";
import type { ActionOutcome, CheckResult, CheckSpec } from "./types.js";
import { errorMessage } from "../base/result.js";

/*
 * Runs the checks of a batch: evaluate each, and for a failing check with an
 * action run the action and evaluate again (`fixed`, `warn` or still `fail`;
 * a `warn` or an `error` runs no action). The cluster path (runBatch) and
 * local-check (runLocalCheck) share it.
 */

export interface RunOptions {
  batchId: string;
  /** This node's name, exported to actions as GOSSIPCHECK_NODE. */
  node: string;
  runActions: boolean;
  /** Why actions are skipped when runActions is false ("dry run", "actions disabled on this node"). */
  skipReason?: string;
  /** Checks evaluated at once (default 8), so one slow action does not hold up the rest. */
  concurrency?: number;
  /** Action timeout for checks that set none (ms); default 60 s. */
  defaultActionTimeoutMs?: number;
  /**
   * Whether checks that run code of the check file (command) may run it;
   * default true. False on a report-only node (-no-actions): such a check is
   * an error there, saying why.
   */
  allowCommands?: boolean;
  /**
   * How a check is evaluated; default: by its type. Tests inject one to get
   * outcomes no check type gives on demand (warn, a pass after an action).
   */
  evaluate?: (spec: CheckSpec, ctx: BatchContext) => Promise<Evaluation>;
}

export const DEFAULT_CONCURRENCY = 8;

/** Results in the order of `checks`. Never rejects: a check that throws becomes an `error` result. */
export async function runBatch(checks: CheckSpec[], opts: RunOptions): Promise<CheckResult[]> {
  const ctx = batchContext(checks);
  const results = new Array<CheckResult>(checks.length);
  let next = 0;
  const worker = async () => {
    while (next < checks.length) {
      const i = next++;
      const spec = checks[i]!;
      try {
        results[i] = await runCheck(spec, opts, ctx);
      } catch (e) {
        // A bug, not a check outcome; still one result per check, never a rejected batch.
        results[i] = { name: spec.name, type: spec.type, status: "error", message: `internal error: ${String(e)}`, durationMs: 0 };
      }
    }
  };
  const width = Math.max(1, Math.min(opts.concurrency ?? DEFAULT_CONCURRENCY, checks.length));
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

/**
 * The original's local-check: every check evaluated on this host, one after
 * the other, every result reported (no stop at the first failure), and no
 * action ever run.
 */
export function runLocalCheck(checks: CheckSpec[]): Promise<CheckResult[]> {
  return runBatch(checks, {
    batchId: "local-check",
    node: "",
    runActions: false,
    skipReason: "local-check never runs actions",
    concurrency: 1,
  });
}

/**
 * One snapshot per batch, started before any check runs (so no action of
 * this batch can be in it), and only if the batch has a process check.
 */
function batchContext(checks: CheckSpec[]): BatchContext {
  let snapshot: Promise<ProcessSnapshot> | undefined;
  if (checks.some((c) => c.type === "process_running")) {
    snapshot = takeProcessSnapshot();
    snapshot.catch(() => {}); // a failure is reported by each check that awaits it
  }
  return { processes: () => (snapshot ??= takeProcessSnapshot()), syncFileIo: syncFileIoAllowed(), memo: batchMemo(), checks };
}

/** A context with a new snapshot: the state after an action must be looked at afresh. */
function freshContext(spec: CheckSpec): BatchContext {
  return { processes: () => takeProcessSnapshot(), syncFileIo: syncFileIoAllowed(), memo: batchMemo(), checks: [spec] };
}

async function evaluate(spec: CheckSpec, ctx: BatchContext, opts: RunOptions): Promise<Evaluation> {
  try {
    switch (spec.type) {
      case "file_exists":
        return await evaluateFileExists(spec.path!, ctx.syncFileIo, spec.params);
      case "file_contains":
        return await evaluateFileContains(spec.path!, spec.check!, undefined, ctx.syncFileIo);
      case "process_running":
        return evaluateProcessRunning(await ctx.processes(), {
          path: spec.path,
          check: spec.check,
          excludeGroups: runningActionGroups(),
        });
      default: {
        const def = registeredType(spec.type);
        if (!def) return { status: "error", message: `unknown check type ${JSON.stringify(spec.type)}` };
        return await def.evaluate(spec.params ?? {}, { ...ctx, check: spec.name, batchId: opts.batchId, node: opts.node, timeoutMs: spec.timeoutMs, allowCommands: opts.allowCommands !== false });
      }
    }
  } catch (e) {
    return { status: "error", message: `${spec.type} failed: ${errorMessage(e) ?? String(e)}` };
  }
}

async function runCheck(spec: CheckSpec, opts: RunOptions, ctx: BatchContext): Promise<CheckResult> {
  const started = performance.now();
  const result = (r: Omit<CheckResult, "name" | "type" | "durationMs" | "description">): CheckResult => ({
    name: spec.name,
    type: spec.type,
    ...r,
    durationMs: performance.now() - started,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
  });
  const evaluateCheck = opts.evaluate ?? ((c: CheckSpec, x: BatchContext) => evaluate(c, x, opts));
  const before = await evaluateCheck(spec, ctx);
  // Only a definite fail triggers the action: after an `error` we do not know
  // the state, and a remediation such as "shutdown -r now" must not run on a
  // guess. Nor on a `warn`: a warning asks a person to look (disk 85% full, a
  // Nagios WARNING), and a remediation that restarts or deletes things must
  // not run before the check says the state is actually bad.
  if (before.status !== "fail" || spec.action === undefined) return result(before);
  if (!opts.runActions) {
    const skipped = `action skipped: ${opts.skipReason ?? "actions are not run for this batch"}`;
    return result({ ...(before.perfdata && { perfdata: before.perfdata }), status: "fail", message: `${before.message} (${skipped})`, action: skippedOutcome(spec.action, skipped) });
  }
  const action = await runAction({
    command: spec.action,
    check: spec.name,
    batchId: opts.batchId,
    node: opts.node,
    timeoutMs: spec.timeoutMs ?? opts.defaultActionTimeoutMs,
    keepChildren: spec.keepChildren === true,
  });
  if (action.skipped !== undefined) {
    return result({ ...(before.perfdata && { perfdata: before.perfdata }), status: "fail", message: `${before.message} (${action.skipped})`, action });
  }
  const after = await evaluateCheck(spec, freshContext(spec));
  const how = actionSummary(action);
  const data = after.perfdata ? { perfdata: after.perfdata } : {};
  if (after.status === "pass") return result({ ...data, status: "fixed", message: `fixed by the action (${how}): ${after.message}; before the action: ${before.message}`, action });
  // Better than before, not good: the warning is what a person must see (not `fixed`).
  if (after.status === "warn")
    return result({ ...data, status: "warn", message: `no longer failing after the action (${how}), but warning: ${after.message}; before the action: ${before.message}`, action });
  if (after.status === "fail") return result({ ...data, status: "fail", message: `still failing after the action (${how}): ${after.message}`, action });
  return result({ status: "error", message: `cannot evaluate after the action (${how}): ${after.message}`, action });
}

function skippedOutcome(command: string, skipped: string): ActionOutcome {
  return { command, exitCode: null, signal: null, timedOut: false, output: "", outputTruncated: false, durationMs: 0, leftoversKilled: 0, skipped };
}

/** "exit code 1", "exit code 0, killed 1 leftover process", "timed out after 60000 ms, process group killed: the shell and 1 more process". */
function actionSummary(a: ActionOutcome): string {
  const n = a.leftoversKilled;
  const processes = `${n} leftover process${n === 1 ? "" : "es"}`;
  if (a.timedOut) return `timed out after ${Math.round(a.durationMs)} ms, process group killed${n > 0 ? `: the shell and ${n} more process${n === 1 ? "" : "es"}` : ""}`;
  const how = a.signal !== null ? `killed by ${a.signal}` : `exit code ${a.exitCode}`;
  return n > 0 ? `${how}, killed ${processes}` : how;
}
