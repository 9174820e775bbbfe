import { MAX_SUBMITTER_CHARS } from "../../checks/codec.js";
import type { Result } from "../../base/result.js";
import { EVENT_PAYLOAD_MAX_BYTES, EVENT_TIMEOUT_DEFAULT_MS, eventNameProblem, QUERY_TIMEOUT_DEFAULT_MS, TALK_TIMEOUT_MAX_MS, TALK_TIMEOUT_MIN_MS } from "../../control/talk_rules.js";
import type { EventRequest, QueryRequest } from "./backend.js";
import { asObject, boundedMs, describeJson, fail, LABEL, onlyKnown, validateTargeting } from "./validate.js";

/*
 * Validation of POST /v1/events and POST /v1/queries bodies (talk_types.ts):
 * the name rule, the payload (base64, strictly, or payloadText, never both,
 * at most EVENT_PAYLOAD_MAX_BYTES decoded), targeting as a batch's, the
 * timeout, the submitter. Unknown fields are refused like everywhere else.
 */

const EVENT_FIELDS = ["name", "payload", "payloadText", "nodes", "tags", "waitHandlers", "timeoutMs", "submitter"] as const;
const QUERY_FIELDS = ["name", "payload", "payloadText", "nodes", "tags", "timeoutMs", "submitter"] as const;
/**
 * Base64 with its padding (Buffer.from would skip anything else silently):
 * the alphabet, then at most two "=", in a length that is a multiple of 4. A
 * flat character class: a grouped pattern recurses per group in V8 and
 * overflows the stack on a 13 MB string.
 */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function validateEventBody(body: unknown): Result<EventRequest> {
  const common = validateTalk(body, EVENT_FIELDS, EVENT_TIMEOUT_DEFAULT_MS);
  if (!common.ok) return common;
  const b = body as Record<string, unknown>;
  if (b.waitHandlers !== undefined && typeof b.waitHandlers !== "boolean") return fail(`${LABEL}: field "waitHandlers" must be true or false, got ${describeJson(b.waitHandlers)}`);
  return { ok: true, value: { ...common.value, waitHandlers: b.waitHandlers === true } };
}

export function validateQueryBody(body: unknown): Result<QueryRequest> {
  return validateTalk(body, QUERY_FIELDS, QUERY_TIMEOUT_DEFAULT_MS);
}

function validateTalk(body: unknown, known: readonly string[], defaultTimeoutMs: number): Result<QueryRequest> {
  const obj = asObject(body, LABEL);
  if (!obj.ok) return obj;
  const b = obj.value;
  const unknown = onlyKnown(b, known, LABEL);
  if (unknown) return fail(unknown);
  const bad = eventNameProblem(b.name, `${LABEL}: field "name"`);
  if (bad) return fail(bad);
  const payload = validatePayload(b);
  if (!payload.ok) return payload;
  const target = validateTargeting(b);
  if (!target.ok) return target;
  const timeoutMs = boundedMs(b.timeoutMs, "timeoutMs", defaultTimeoutMs, TALK_TIMEOUT_MIN_MS, TALK_TIMEOUT_MAX_MS);
  if (!timeoutMs.ok) return timeoutMs;
  if (b.submitter !== undefined && (typeof b.submitter !== "string" || b.submitter.length > MAX_SUBMITTER_CHARS))
    return fail(`${LABEL}: field "submitter" must be a string of at most ${MAX_SUBMITTER_CHARS} characters (user@host), got ${describeJson(b.submitter)}`);
  const submitter = b.submitter as string | undefined;
  return { ok: true, value: { name: b.name as string, payload: payload.value, ...target.value, timeoutMs: timeoutMs.value, ...(submitter && { submitter }) } };
}

function validatePayload(b: Record<string, unknown>): Result<Uint8Array> {
  if (b.payload !== undefined && b.payloadText !== undefined) return fail(`${LABEL}: send "payload" (base64) or "payloadText" (UTF-8), not both`);
  let bytes: Buffer;
  if (b.payloadText !== undefined) {
    if (typeof b.payloadText !== "string") return fail(`${LABEL}: field "payloadText" must be a string, got ${describeJson(b.payloadText)}`);
    bytes = Buffer.from(b.payloadText, "utf8");
  } else if (b.payload !== undefined) {
    if (typeof b.payload !== "string") return fail(`${LABEL}: field "payload" must be a base64 string, got ${describeJson(b.payload)}`);
    // The length first: a regular expression over 20 MB of text is cheap, but not free.
    if (b.payload.length > Math.ceil(EVENT_PAYLOAD_MAX_BYTES / 3) * 4) return tooLarge(Math.floor((b.payload.length * 3) / 4));
    if (b.payload.length % 4 !== 0 || !BASE64.test(b.payload)) return fail(`${LABEL}: field "payload" is not base64 (A-Z a-z 0-9 + / with = padding; send text as "payloadText" instead)`);
    bytes = Buffer.from(b.payload, "base64");
  } else {
    bytes = Buffer.alloc(0);
  }
  if (bytes.length > EVENT_PAYLOAD_MAX_BYTES) return tooLarge(bytes.length);
  return { ok: true, value: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) };
}

function tooLarge(bytes: number): Result<Uint8Array> {
  return fail(`${LABEL}: the payload of ${bytes} bytes is larger than the limit of ${EVENT_PAYLOAD_MAX_BYTES} bytes (the envelope must fit one frame): send a path or a URL instead`);
}
