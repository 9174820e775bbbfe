import { pb } from "../proto/index.js";
import type { ActionOutcome, CheckResult, CheckSpec, CheckStatus } from "./types.js";
import { validateCheck } from "./validate.js";
import { asFileValues } from "./fields.js";
import { registeredType } from "./registry.js";
import { errorMessage } from "../base/result.js";

/*
 * The checks section of the wire schema: a check batch as an envelope payload
 * (pb.CheckBatch) and a node's results (pb.CheckReport), to and from the plain
 * data the runner uses. Kept out of index.ts so that importing the checks
 * engine does not load protobufjs (gcheck starts fast).
 *
 * A decoded batch came from the network: its checks go through the same
 * validation as a check file before anything runs them.
 */

export interface CheckBatch {
  checks: CheckSpec[];
  /** Evaluate everywhere, run no action. */
  dryRun: boolean;
  /** Targeting: empty = every node; nodes outside the target relay but do not run. */
  targetNodes: string[];
  targetTags: Record<string, string>;
}

export function encodeCheckBatch(batch: CheckBatch): Uint8Array {
  return pb.CheckBatch.encode({
    checks: batch.checks.map((c) => ({
      name: c.name,
      type: c.type,
      path: c.path,
      check: c.check,
      action: c.action,
      timeoutMs: c.timeoutMs ?? 0,
      description: c.description,
      keepChildren: c.keepChildren === true,
      paramsJson: c.params ? JSON.stringify(asFileValues(registeredType(c.type)?.fields ?? {}, c.params)) : "",
    })),
    dryRun: batch.dryRun,
    targetNodes: batch.targetNodes,
    targetTags: batch.targetTags,
  }).finish();
}

/** Decodes and validates a batch payload; never throws. */
export function decodeCheckBatch(bytes: Uint8Array): { ok: true; batch: CheckBatch } | { ok: false; errors: string[] } {
  let wire: pb.CheckBatch;
  try {
    wire = pb.CheckBatch.decode(bytes);
  } catch (e) {
    return { ok: false, errors: [`check batch: undecodable payload: ${errorMessage(e)}`] };
  }
  const checks: CheckSpec[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const c of wire.checks) {
    const name = c.name ?? "";
    if (seen.has(name)) errors.push(`check batch: check ${JSON.stringify(name)} appears twice: check names must be unique`);
    seen.add(name);
    const fields: Record<string, unknown> = { type: c.type ?? "" };
    if (c.paramsJson) {
      const params = paramsFromJson(c.paramsJson);
      if (typeof params === "string") {
        errors.push(`check batch: check ${JSON.stringify(name)}: ${params}`);
        continue;
      }
      Object.assign(fields, params);
    }
    if (c.path != null) fields.path = c.path;
    if (c.check != null) fields.check = c.check;
    if (c.action != null) fields.action = c.action;
    if (c.timeoutMs) fields.timeout = `${c.timeoutMs}ms`;
    if (c.description != null) fields.description = c.description;
    if (c.keepChildren) fields.keep_children = true;
    const v = validateCheck(name, fields, "check batch");
    errors.push(...v.errors);
    if (v.spec) checks.push(v.spec);
  }
  if (checks.length === 0 && errors.length === 0) errors.push("check batch: no checks");
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, batch: { checks, dryRun: wire.dryRun === true, targetNodes: wire.targetNodes ?? [], targetTags: { ...(wire.targetTags ?? {}) } } };
}

/** A registered type's fields from the wire: a JSON object whose keys cannot shadow the common fields; or why not. */
function paramsFromJson(json: string): Record<string, unknown> | string {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    return `params are not JSON (${errorMessage(e)})`;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "params are not a JSON object";
  const shadowed = Object.keys(v).filter((k) => k === "type" || k === "action" || k === "timeout" || k === "keep_children" || k === "description");
  if (shadowed.length > 0) return `params may not carry ${shadowed.join(", ")}`;
  return v as Record<string, unknown>;
}

const toWireStatus: Record<CheckStatus, pb.CheckStatus> = {
  pass: pb.CheckStatus.PASS,
  fail: pb.CheckStatus.FAIL,
  fixed: pb.CheckStatus.FIXED,
  error: pb.CheckStatus.ERROR,
};

export function toWireReport(results: CheckResult[]): pb.CheckReport.$Properties {
  return {
    results: results.map((r) => ({
      name: r.name,
      type: r.type,
      status: toWireStatus[r.status],
      message: r.message,
      durationMs: r.durationMs,
      description: r.description ?? "",
      action: r.action && {
        command: r.action.command,
        exitCode: r.action.exitCode ?? -1, // the schema's "no exit code"
        signal: r.action.signal ?? "",
        timedOut: r.action.timedOut,
        output: r.action.output,
        outputTruncated: r.action.outputTruncated,
        durationMs: r.action.durationMs,
        skipped: r.action.skipped ?? "",
        leftoversKilled: r.action.leftoversKilled,
      },
    })),
  };
}

/**
 * Results from another node's report. A status this version does not know
 * becomes `error` (the operator sees it rather than a silent pass).
 */
export function fromWireReport(report: pb.CheckReport.$Properties): CheckResult[] {
  return (report.results ?? []).map((r) => {
    const status = (Object.keys(toWireStatus) as CheckStatus[]).find((s) => toWireStatus[s] === r.status);
    const result: CheckResult = {
      name: r.name ?? "",
      type: r.type ?? "",
      status: status ?? "error",
      message: status ? (r.message ?? "") : `unknown status ${String(r.status)} from the node: ${r.message ?? ""}`,
      durationMs: r.durationMs ?? 0,
    };
    if (r.description) result.description = r.description;
    if (r.action) result.action = fromWireAction(r.action);
    return result;
  });
}

function fromWireAction(a: pb.ActionOutcome.$Properties): ActionOutcome {
  const exitCode = a.exitCode ?? -1;
  const outcome: ActionOutcome = {
    command: a.command ?? "",
    exitCode: exitCode < 0 ? null : exitCode,
    signal: a.signal ? a.signal : null,
    timedOut: a.timedOut === true,
    output: a.output ?? "",
    outputTruncated: a.outputTruncated === true,
    durationMs: a.durationMs ?? 0,
    leftoversKilled: a.leftoversKilled ?? 0,
  };
  if (a.skipped) outcome.skipped = a.skipped;
  return outcome;
}
