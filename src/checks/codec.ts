import { pb } from "../proto/index.js";
import { ORIGINAL_CHECK_TYPES, type ActionOutcome, type CheckResult, type CheckSpec, type CheckStatus, type PerfDatum } from "./types.js";
import { paramsToJson } from "./fields.js";
import { paramFields, validateCheck } from "./validate.js";
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
  /** user@host of whoever ran gcheck, for the history (at most 256 characters kept). */
  submitter?: string;
}

/** A submitter longer than this is cut (it only names someone in the history). */
export const MAX_SUBMITTER_CHARS = 256;

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
      // A registered type's fields, and file_exists's attributes.
      paramsJson: c.params ? paramsToJson(paramFields(c.type), c.params) : "",
      // A scheduled check's fields (0 and "" = not given).
      intervalMs: c.intervalMs ?? 0,
      splayMs: c.splayMs ?? 0,
      quorum: c.quorum === undefined ? "" : String(c.quorum),
    })),
    dryRun: batch.dryRun,
    targetNodes: batch.targetNodes,
    targetTags: batch.targetTags,
    submitter: batch.submitter ?? "",
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
      const params = paramsFromJson(c.paramsJson, c.type ?? "");
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
    if (c.intervalMs) fields.interval = `${c.intervalMs}ms`;
    if (c.splayMs) fields.splay = `${c.splayMs}ms`;
    if (c.quorum) {
      const quorum = quorumFromWire(c.quorum);
      if (quorum === undefined) {
        errors.push(`check batch: check ${JSON.stringify(name)}: quorum ${JSON.stringify(c.quorum)} is neither "majority" nor a count of nodes`);
        continue;
      }
      fields.quorum = quorum;
    }
    const v = validateCheck(name, fields, "check batch");
    errors.push(...v.errors);
    if (v.spec) checks.push(v.spec);
  }
  if (checks.length === 0 && errors.length === 0) errors.push("check batch: no checks");
  if (errors.length > 0) return { ok: false, errors };
  const submitter = (wire.submitter ?? "").slice(0, MAX_SUBMITTER_CHARS);
  return { ok: true, batch: { checks, dryRun: wire.dryRun === true, targetNodes: wire.targetNodes ?? [], targetTags: { ...(wire.targetTags ?? {}) }, ...(submitter && { submitter }) } };
}

/** The wire's quorum ("majority" or a decimal count) as the check file writes it; undefined when it is neither. */
function quorumFromWire(q: string): number | "majority" | undefined {
  if (q === "majority") return q;
  return /^[1-9][0-9]{0,15}$/.test(q) ? Number(q) : undefined;
}

/**
 * A type's params from the wire: a JSON object whose keys cannot shadow the
 * common fields (nor, for an original type, path and check, which travel in
 * their own proto fields); or why not.
 */
function paramsFromJson(json: string, type: string): Record<string, unknown> | string {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    return `params are not JSON (${errorMessage(e)})`;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "params are not a JSON object";
  const original = (ORIGINAL_CHECK_TYPES as readonly string[]).includes(type);
  const shadowed = Object.keys(v).filter(
    (k) =>
      k === "type" ||
      k === "action" ||
      k === "timeout" ||
      k === "keep_children" ||
      k === "description" ||
      k === "interval" ||
      k === "splay" ||
      k === "quorum" ||
      (original && (k === "path" || k === "check")),
  );
  if (shadowed.length > 0) return `params may not carry ${shadowed.join(", ")}`;
  return v as Record<string, unknown>;
}

const toWireStatus: Record<CheckStatus, pb.CheckStatus> = {
  pass: pb.CheckStatus.PASS,
  warn: pb.CheckStatus.WARN,
  fail: pb.CheckStatus.FAIL,
  fixed: pb.CheckStatus.FIXED,
  error: pb.CheckStatus.ERROR,
};

/**
 * A node's report of its results, for the origin. Without the checks'
 * descriptions unless asked: the origin has them in its own batch
 * (fromWireReport fills them back in by check name), and a description
 * may be megabytes, which every node would otherwise send back.
 */
export function toWireReport(results: CheckResult[], opts: { descriptions?: boolean } = {}): pb.CheckReport.$Properties {
  return {
    results: results.map((r) => ({
      name: r.name,
      type: r.type,
      status: toWireStatus[r.status],
      message: r.message,
      durationMs: r.durationMs,
      description: opts.descriptions ? (r.description ?? "") : "",
      perfdataJson: r.perfdata ? JSON.stringify(r.perfdata) : "",
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

/** Each check's description by check name (the checks without one left out), for fromWireReport. */
export function descriptionsOf(checks: readonly { name: string; description?: string }[]): ReadonlyMap<string, string> {
  const m = new Map<string, string>();
  for (const c of checks) if (c.description) m.set(c.name, c.description);
  return m;
}

/**
 * Results from another node's report. A status this version does not know
 * becomes `error` (the operator sees it rather than a silent pass). A result
 * without a description gets its check's from `descriptions` (the batch as
 * the origin sent it): nodes leave them out of their reports, older nodes
 * send them.
 */
export function fromWireReport(report: pb.CheckReport.$Properties, descriptions?: ReadonlyMap<string, string>): CheckResult[] {
  return (report.results ?? []).map((r) => {
    const status = (Object.keys(toWireStatus) as CheckStatus[]).find((s) => toWireStatus[s] === r.status);
    const result: CheckResult = {
      name: r.name ?? "",
      type: r.type ?? "",
      status: status ?? "error",
      message: status ? (r.message ?? "") : `unknown status ${String(r.status)} from the node: ${r.message ?? ""}`,
      durationMs: r.durationMs ?? 0,
    };
    const description = r.description || descriptions?.get(result.name);
    if (description) result.description = description;
    if (r.action) result.action = fromWireAction(r.action);
    const perfdata = r.perfdataJson ? perfdataFromJson(r.perfdataJson) : [];
    if (perfdata.length > 0) result.perfdata = perfdata;
    return result;
  });
}

/** Performance data from another node: only well-formed items are kept, at most 64 (a report is data, never trusted shape). */
function perfdataFromJson(json: string): PerfDatum[] {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(v)) return [];
  const out: PerfDatum[] = [];
  for (const item of v.slice(0, 64)) {
    const d = item as Record<string, unknown>;
    if (typeof d !== "object" || d === null || typeof d.label !== "string" || typeof d.value !== "number" || typeof d.unit !== "string") continue;
    const p: PerfDatum = { label: d.label, value: d.value, unit: d.unit };
    if (typeof d.warn === "string") p.warn = d.warn;
    if (typeof d.crit === "string") p.crit = d.crit;
    if (typeof d.min === "number") p.min = d.min;
    if (typeof d.max === "number") p.max = d.max;
    out.push(p);
  }
  return out;
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
