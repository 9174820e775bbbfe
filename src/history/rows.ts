/*
 * Between records and rows: what a batch, a result, a transition and an
 * audit entry look like in the tables (schema.ts), and back.
 */
import { ACTION_OUTPUT_LIMIT_BYTES } from "../checks/action.js";
import type { CheckResult, CheckStatus } from "../checks/types.js";
import type { AuditRecord, BatchRecord, TransitionRecord } from "../control/watch_types.js";

export interface BatchRow {
  seq: number;
  batch_id: string;
  origin: string;
  submitter: string;
  signer: string;
  created_ms: number;
  finished_ms: number;
  dry_run: number;
  schedule: string;
  checks: string;
  counts: string;
}

export interface TransitionRow {
  node: string;
  schedule: string;
  check_name: string;
  from_status: string;
  to_status: string;
  at_ms: number;
  message: string;
}

export interface AuditRow {
  at_ms: number;
  kind: string;
  summary: string;
  subject: string;
}

export function countByStatus(results: readonly CheckResult[]): Partial<Record<CheckStatus, number>> {
  const counts: Partial<Record<CheckStatus, number>> = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

export function batchFromRow(row: BatchRow): BatchRecord {
  return {
    batchId: row.batch_id,
    origin: row.origin,
    submitter: row.submitter,
    signer: row.signer,
    createdMs: row.created_ms,
    finishedMs: row.finished_ms,
    dryRun: row.dry_run !== 0,
    schedule: row.schedule,
    counts: JSON.parse(row.counts) as BatchRecord["counts"],
  };
}

export function transitionFromRow(row: TransitionRow): TransitionRecord {
  return {
    node: row.node,
    schedule: row.schedule,
    check: row.check_name,
    from: row.from_status as TransitionRecord["from"],
    to: row.to_status as CheckStatus,
    atMs: row.at_ms,
    message: row.message,
  };
}

export function auditFromRow(row: AuditRow): AuditRecord {
  return { atMs: row.at_ms, kind: row.kind, summary: row.summary, subject: row.subject };
}

/**
 * A result as stored: JSON, with the action's output held to the runner's
 * own capture bound. The runner already caps it (ACTION_OUTPUT_LIMIT_BYTES);
 * the store checks again because a row that size is written on every run of
 * a failing check, and the bound is what keeps a batch's rows small.
 */
export function resultJson(r: CheckResult): string {
  const a = r.action;
  if (!a || (fits(a.output) && (a.stderr === undefined || fits(a.stderr)))) return JSON.stringify(r);
  const output = clip(a.output);
  const stderr = a.stderr === undefined ? undefined : clip(a.stderr);
  return JSON.stringify({
    ...r,
    action: {
      ...a,
      output: output.text,
      outputTruncated: a.outputTruncated || output.clipped,
      ...(stderr ? { stderr: stderr.text, stderrTruncated: (a.stderrTruncated ?? false) || stderr.clipped } : {}),
    },
  });
}

// A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, two units, is 4).
function fits(s: string): boolean {
  return s.length * 3 <= ACTION_OUTPUT_LIMIT_BYTES || Buffer.byteLength(s) <= ACTION_OUTPUT_LIMIT_BYTES;
}

function clip(s: string): { text: string; clipped: boolean } {
  if (fits(s)) return { text: s, clipped: false };
  return { text: Buffer.from(s).subarray(0, ACTION_OUTPUT_LIMIT_BYTES).toString(), clipped: true };
}
