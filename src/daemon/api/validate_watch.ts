import { CHECK_STATUSES, type CheckStatus } from "../../checks/types.js";
import type { Result } from "../../base/result.js";
import { checkDocument } from "../../control/check_document.js";
import { decodeSchedule } from "../../control/schedule_codec.js";
import { missingIntervalProblem, scheduleNameProblem } from "../../control/schedule_rules.js";
import type { HistoryRequest, ResultsRequest, ScheduleRemoveRequest, ScheduleSetRequest } from "./backend.js";
import {
  DEFAULT_STATS_TIMEOUT_MS,
  LABEL,
  MAX_CHECKS_PER_BATCH,
  MAX_TIMEOUT_MS,
  MIN_TIMEOUT_MS,
  asObject,
  boundedMs,
  describeJson,
  fail,
  fieldsOutsideSigned,
  onlyKnown,
  validateChecks,
  validateSignedEnvelope,
  validateTargeting,
} from "./validate.js";

/*
 * Validation of the always-on bodies (issue 14): schedules set and removed,
 * a past batch's results, history and status questions. The same rules as
 * validate.ts (unknown fields refused, bounds, errors naming the field); a
 * signed schedule's name, checks and targeting come from its payload
 * (src/control/schedule_codec.ts), never from fields beside it.
 */

/** Most batches and transitions one node lists for gcheck history; the default when the body gives none. */
export const MAX_HISTORY_LIMIT = 10_000;
export const DEFAULT_HISTORY_LIMIT = 100;
const MAX_SUBMITTER = 256;
const MAX_CHECK_NAME = 256;

const SCHEDULE_SET_FIELDS = ["name", "checks", "nodes", "tags", "submitter", "signed"] as const;

function submitterOf(v: unknown): Result<string> {
  if (v === undefined) return { ok: true, value: "" };
  if (typeof v !== "string" || v.length > MAX_SUBMITTER) return fail(`${LABEL}: field "submitter" must be a string of at most ${MAX_SUBMITTER} characters (user@host), got ${describeJson(v)}`);
  return { ok: true, value: v };
}

/**
 * POST /v1/schedules: a name, a check document whose every check has an
 * interval, targeting and the submitter; or {signed}: an operator-signed
 * SCHEDULE envelope carrying all of them.
 */
export function validateScheduleSetBody(body: unknown): Result<ScheduleSetRequest> {
  const obj = asObject(body, LABEL);
  if (!obj.ok) return obj;
  const b = obj.value;
  const unknown = onlyKnown(b, SCHEDULE_SET_FIELDS, LABEL);
  if (unknown) return fail(unknown);

  if (b.signed !== undefined) {
    const outside = fieldsOutsideSigned(b, ["name", "checks", "nodes", "tags", "submitter"], "a signed schedule");
    if (outside) return fail(outside);
    const signed = validateSignedEnvelope(b.signed);
    if (!signed.ok) return signed;
    const decoded = decodeSchedule(signed.value.payload);
    if (!decoded.ok) return fail(`${LABEL}: field "signed.payload": ${decoded.error}`);
    const s = decoded.schedule;
    if (s.removed) return fail(`${LABEL}: field "signed.payload": schedule ${s.name} is a removal: send it with DELETE /v1/schedules/${s.name}`);
    if (s.batch.checks.length > MAX_CHECKS_PER_BATCH) return fail(`${LABEL}: ${s.batch.checks.length} checks is too many; at most ${MAX_CHECKS_PER_BATCH} per schedule`);
    const noInterval = missingIntervalProblem(s.batch.checks, `${LABEL}: field "signed.payload": schedule ${s.name}`);
    if (noInterval) return fail(noInterval);
    const { checks, targetNodes: nodes, targetTags: tags } = s.batch;
    return { ok: true, value: { name: s.name, checks, document: checkDocument(checks), nodes, tags, submitter: s.submitter, signed: signed.value } };
  }

  const badName = b.name === undefined ? `${LABEL}: field "name" is missing: name the schedule` : scheduleNameProblem(b.name, `${LABEL}: field "name"`);
  if (badName) return fail(badName);
  const checks = validateChecks(b.checks);
  if (!checks.ok) return checks;
  const noInterval = missingIntervalProblem(checks.value, `${LABEL}: field "checks"`);
  if (noInterval) return fail(noInterval);
  const target = validateTargeting(b);
  if (!target.ok) return target;
  const submitter = submitterOf(b.submitter);
  if (!submitter.ok) return submitter;
  return { ok: true, value: { name: b.name as string, checks: checks.value, document: b.checks as Record<string, unknown>, ...target.value, submitter: submitter.value } };
}

/**
 * DELETE /v1/schedules/NAME: the name from the path (already checked), and
 * an optional body {submitter} or {signed}: a signed removal whose payload
 * names the same schedule.
 */
export function validateScheduleRemoveBody(name: string, body: unknown): Result<ScheduleRemoveRequest> {
  if (body === undefined) return { ok: true, value: { name, submitter: "" } };
  const obj = asObject(body, LABEL);
  if (!obj.ok) return obj;
  const b = obj.value;
  const unknown = onlyKnown(b, ["submitter", "signed"], LABEL);
  if (unknown) return fail(unknown);
  if (b.signed !== undefined) {
    const outside = fieldsOutsideSigned(b, ["submitter"], "a signed removal");
    if (outside) return fail(outside);
    const signed = validateSignedEnvelope(b.signed);
    if (!signed.ok) return signed;
    const decoded = decodeSchedule(signed.value.payload);
    if (!decoded.ok) return fail(`${LABEL}: field "signed.payload": ${decoded.error}`);
    const s = decoded.schedule;
    if (!s.removed) return fail(`${LABEL}: field "signed.payload": schedule ${s.name} is not a removal: set a schedule with POST /v1/schedules`);
    if (s.name !== name) return fail(`${LABEL}: field "signed.payload" removes schedule ${s.name}, but the path names ${name}`);
    return { ok: true, value: { name, submitter: s.submitter, signed: signed.value } };
  }
  const submitter = submitterOf(b.submitter);
  if (!submitter.ok) return submitter;
  return { ok: true, value: { name, submitter: submitter.value } };
}

function timeoutOf(b: Record<string, unknown>): Result<number> {
  return boundedMs(b.timeoutMs, "timeoutMs", DEFAULT_STATS_TIMEOUT_MS, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS);
}

/** POST /v1/results: a batch ID (32 lowercase hex digits, as gcheck check prints it), targeting and how long to wait. */
export function validateResultsBody(body: unknown): Result<ResultsRequest> {
  const obj = asObject(body, LABEL);
  if (!obj.ok) return obj;
  const b = obj.value;
  const unknown = onlyKnown(b, ["batchId", "nodes", "tags", "timeoutMs"], LABEL);
  if (unknown) return fail(unknown);
  if (typeof b.batchId !== "string" || !/^[0-9a-f]{32}$/.test(b.batchId)) {
    return fail(`${LABEL}: field "batchId" must be a batch ID: 32 lowercase hex digits, as gcheck check -output json prints it, got ${describeJson(b.batchId)}`);
  }
  const timeoutMs = timeoutOf(b);
  if (!timeoutMs.ok) return timeoutMs;
  const target = validateTargeting(b);
  if (!target.ok) return target;
  return { ok: true, value: { batchId: b.batchId, ...target.value, timeoutMs: timeoutMs.value } };
}

const HISTORY_FIELDS = ["nodes", "tags", "check", "sinceMs", "status", "limit", "timeoutMs", "audit"] as const;

/** POST /v1/history: targeting, the filters (check name, since when, status), how many entries per node, how long to wait. */
export function validateHistoryBody(body: unknown): Result<HistoryRequest> {
  const obj = asObject(body, LABEL);
  if (!obj.ok) return obj;
  const b = obj.value;
  const unknown = onlyKnown(b, HISTORY_FIELDS, LABEL);
  if (unknown) return fail(unknown);
  const timeoutMs = timeoutOf(b);
  if (!timeoutMs.ok) return timeoutMs;
  const target = validateTargeting(b);
  if (!target.ok) return target;
  const out: HistoryRequest = { ...target.value, limit: DEFAULT_HISTORY_LIMIT, timeoutMs: timeoutMs.value };
  if (b.check !== undefined) {
    if (typeof b.check !== "string" || b.check === "" || b.check.length > MAX_CHECK_NAME)
      return fail(`${LABEL}: field "check" must be a check name (1 to ${MAX_CHECK_NAME} characters), got ${describeJson(b.check)}`);
    out.check = b.check;
  }
  if (b.sinceMs !== undefined) {
    if (typeof b.sinceMs !== "number" || !Number.isFinite(b.sinceMs) || b.sinceMs < 0) return fail(`${LABEL}: field "sinceMs" must be a time in ms since the epoch, got ${describeJson(b.sinceMs)}`);
    out.sinceMs = b.sinceMs;
  }
  if (b.status !== undefined) {
    if (typeof b.status !== "string" || !(CHECK_STATUSES as readonly string[]).includes(b.status))
      return fail(`${LABEL}: field "status" must be one of ${CHECK_STATUSES.join(", ")}, got ${describeJson(b.status)}`);
    out.status = b.status as CheckStatus;
  }
  if (b.limit !== undefined) {
    if (typeof b.limit !== "number" || !Number.isSafeInteger(b.limit) || b.limit < 1 || b.limit > MAX_HISTORY_LIMIT) {
      return fail(`${LABEL}: field "limit" must be a whole number from 1 to ${MAX_HISTORY_LIMIT}, got ${describeJson(b.limit)}`);
    }
    out.limit = b.limit;
  }
  if (b.audit !== undefined) {
    if (typeof b.audit !== "boolean") return fail(`${LABEL}: field "audit" must be true or false, got ${describeJson(b.audit)}`);
    if (b.audit && (out.check !== undefined || out.status !== undefined)) return fail(`${LABEL}: "audit" takes no "check" or "status" filter (the audit log is about the node, not a check)`);
    out.audit = b.audit;
  }
  return { ok: true, value: out };
}

/** POST /v1/status: targeting and how long to wait (a status question has no filters). */
export function validateStatusBody(body: unknown): Result<HistoryRequest> {
  const obj = asObject(body, LABEL);
  if (!obj.ok) return obj;
  const b = obj.value;
  const unknown = onlyKnown(b, ["nodes", "tags", "timeoutMs"], LABEL);
  if (unknown) return fail(unknown);
  const timeoutMs = timeoutOf(b);
  if (!timeoutMs.ok) return timeoutMs;
  const target = validateTargeting(b);
  if (!target.ok) return target;
  return { ok: true, value: { ...target.value, limit: DEFAULT_HISTORY_LIMIT, timeoutMs: timeoutMs.value } };
}
