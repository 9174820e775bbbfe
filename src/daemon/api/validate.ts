import { decodeCheckBatch, MAX_SUBMITTER_CHARS } from "../../checks/codec.js";
import { parseCheckInput, parseCheckObject } from "../../checks/parse.js";
import { checkDocument } from "../../control/check_document.js";
import type { CheckSpec } from "../../checks/types.js";
import { KeyringError, decodeKey } from "../../net/keyring.js";
import { KEY_BYTES } from "../../net/seal.js";
import { KEY_OPS, type KeyOpName, MIN_TTL_MS } from "../../control/api_types.js";
import type { BatchRequest, KeyOpRequest, RolloutSpec, SignedEnvelope, StatsRequest } from "./backend.js";
import { parseRolloutOrder, parseRolloutSize } from "../../control/rollout_rules.js";
import type { Result } from "../../base/result.js";
import { decodeKeyOp } from "../../control/key_op.js";

/*
 * Validation of control API request bodies. The body is hostile input: every
 * field is checked for type and bounds, unknown fields are refused (a typo
 * like "dry_run" must not silently run actions), and the checks go through
 * the same rules as a check file. Errors are one line a person can act on.
 * The shared rules are exported for validate_watch.ts (schedules, history).
 */

/** Checks in one batch (bounded so one request cannot make every node run millions). */
export const MAX_CHECKS_PER_BATCH = 10_000;
/** Names in a -node target list. */
export const MAX_TARGET_NODES = 100_000;
const MAX_TAGS = 64;
export const DEFAULT_TTL_MS = 5 * 60_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_TTL_MS = 24 * 3_600_000;
export const MIN_TIMEOUT_MS = 100;
export const MAX_TIMEOUT_MS = 24 * 3_600_000;
/** How many check errors one 400 lists before "and N more". */
export const MAX_LISTED_ERRORS = 5;

export const LABEL = "request body";

export function fail<T>(error: string): Result<T> {
  return { ok: false, error };
}

export function describeJson(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)}`.slice(0, 60);
}

export function asObject(v: unknown, what: string): Result<Record<string, unknown>> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return fail(`${what} must be a JSON object, got ${describeJson(v)}`);
  return { ok: true, value: v as Record<string, unknown> };
}

export function onlyKnown(obj: Record<string, unknown>, known: readonly string[], what: string): string | undefined {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) return `${what}: unknown field ${JSON.stringify(k)} (known fields: ${known.join(", ")})`;
  }
  return undefined;
}

/** The checks of a body, in check-file form, through the check-file rules. */
export function validateChecks(v: unknown): Result<CheckSpec[]> {
  if (v === undefined) return fail(`${LABEL}: field "checks" is missing: send {"checks": <the contents of a check file>}`);
  const obj = asObject(v, `${LABEL}: field "checks"`);
  if (!obj.ok) return obj;
  const count = Object.keys(obj.value).length;
  if (count > MAX_CHECKS_PER_BATCH) return fail(`${LABEL}: ${count} checks is too many; at most ${MAX_CHECKS_PER_BATCH} per batch`);
  const parsed = parseCheckObject(obj.value, `${LABEL} "checks"`);
  if (parsed.ok) return { ok: true, value: parsed.checks };
  const more = parsed.errors.length - MAX_LISTED_ERRORS;
  return fail(parsed.errors.slice(0, MAX_LISTED_ERRORS).join("; ") + (more > 0 ? `; and ${more} more` : ""));
}

/**
 * A POST /v1/check body with "checkFile" (a check file's text, JSON or YAML,
 * gossipcheck's or Goss's format: what the web view's form sends) turned
 * into the same body with "checks", parsed with gcheck's own parser, so it
 * is validated like any other. A gossfile's includes are refused: the
 * daemon reads no file named by a request.
 */
export async function resolveCheckFile(body: unknown): Promise<Result<unknown>> {
  if (typeof body !== "object" || body === null || Array.isArray(body) || !("checkFile" in body)) return { ok: true, value: body };
  const { checkFile, ...rest } = body as Record<string, unknown>;
  if (rest.checks !== undefined) return fail(`${LABEL}: send "checks" or "checkFile", not both`);
  if (typeof checkFile !== "string" || checkFile.trim() === "") return fail(`${LABEL}: field "checkFile" must be the text of a check file (JSON or YAML), got ${describeJson(checkFile)}`);
  const parsed = await parseCheckInput(Buffer.from(checkFile, "utf8"), "the check file", { baseDir: null });
  if (!parsed.ok) {
    const more = parsed.errors.length - MAX_LISTED_ERRORS;
    return fail(parsed.errors.slice(0, MAX_LISTED_ERRORS).join("; ") + (more > 0 ? `; and ${more} more` : ""));
  }
  if (parsed.checks.length > MAX_CHECKS_PER_BATCH) return fail(`${LABEL}: ${parsed.checks.length} checks is too many; at most ${MAX_CHECKS_PER_BATCH} per batch`);
  return { ok: true, value: { ...rest, checks: checkDocument(parsed.checks) } };
}

export function validateLocalCheckBody(body: unknown): Result<CheckSpec[]> {
  const obj = asObject(body, LABEL);
  if (!obj.ok) return obj;
  const unknown = onlyKnown(obj.value, ["checks"], LABEL);
  if (unknown) return fail(unknown);
  return validateChecks(obj.value.checks);
}

const BATCH_FIELDS = ["checks", "dryRun", "nodes", "tags", "ttlMs", "timeoutMs", "signed", "rollout", "signedWaves", "submitter", "on"] as const;
const ROLLOUT_FIELDS = ["canary", "batchSize", "batchWaitMs", "maxFailures", "order", "count", "detach"] as const;
const MAX_BATCH_WAIT_MS = 24 * 3_600_000;

/**
 * A rollout ("rollout" in a batch body): waves (canary, batchSize) or count,
 * with their knobs. presigned: the waves come signed (signedWaves), so only
 * the knobs may be given.
 */
export function validateRollout(v: unknown, presigned = false): Result<RolloutSpec> {
  const what = `${LABEL}: field "rollout"`;
  const obj = asObject(v, what);
  if (!obj.ok) return obj;
  const r = obj.value;
  const unknown = onlyKnown(r, ROLLOUT_FIELDS, what);
  if (unknown) return fail(unknown);
  const whole = (f: string, min: number): Result<number> => {
    const x = r[f];
    if (x === undefined) return { ok: true, value: 0 };
    return typeof x === "number" && Number.isInteger(x) && x >= min && x <= 1_000_000
      ? { ok: true, value: x }
      : fail(`${what}.${f} must be a whole number of nodes, at least ${min}, got ${describeJson(x)}`);
  };
  const canary = whole("canary", 1);
  if (!canary.ok) return canary;
  const count = whole("count", 1);
  if (!count.ok) return count;
  const batchSize = r.batchSize === undefined ? { ok: true as const, value: null } : parseRolloutSize(r.batchSize, `${what}.batchSize`, 1);
  if (!batchSize.ok) return batchSize;
  const maxFailures = parseRolloutSize(r.maxFailures ?? 0, `${what}.maxFailures`, 0);
  if (!maxFailures.ok) return maxFailures;
  const order = parseRolloutOrder(r.order ?? "name", `${what}.order`);
  if (!order.ok) return order;
  const batchWaitMs = boundedMs(r.batchWaitMs, "rollout.batchWaitMs", 0, 0, MAX_BATCH_WAIT_MS);
  if (!batchWaitMs.ok) return batchWaitMs;
  if (r.detach !== undefined && typeof r.detach !== "boolean") return fail(`${what}.detach must be true or false, got ${describeJson(r.detach)}`);
  const waves = canary.value > 0 || batchSize.value !== null;
  if (presigned) {
    if (waves || count.value > 0) return fail(`${what}: with "signedWaves" the waves are the signed envelopes: leave out canary, batchSize and count`);
    return { ok: true, value: { mode: "waves", canary: 0, batchSize: null, batchWaitMs: batchWaitMs.value, maxFailures: maxFailures.value, order: order.value, count: 0, detach: r.detach === true } };
  }
  if (count.value > 0 && waves) return fail(`${what}: count runs on exactly that many nodes; it does not combine with canary or batchSize (use one or the other)`);
  if (count.value === 0 && !waves) return fail(`${what}: give canary, batchSize or count (an empty rollout is a plain batch: leave "rollout" out)`);
  return {
    ok: true,
    value: {
      mode: count.value > 0 ? "count" : "waves",
      canary: canary.value,
      batchSize: batchSize.value,
      batchWaitMs: batchWaitMs.value,
      maxFailures: maxFailures.value,
      order: order.value,
      count: count.value,
      detach: r.detach === true,
    },
  };
}
const SIGNED_FIELDS = ["id", "origin", "originAddress", "createdMs", "ttlMs", "payload", "signature", "signerKey"] as const;

export function boundedMs(v: unknown, field: string, dflt: number, min: number, max: number): Result<number> {
  if (v === undefined) return { ok: true, value: dflt };
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
    return fail(`${LABEL}: field "${field}" must be a number of milliseconds from ${min} to ${max}, got ${describeJson(v)}`);
  }
  return { ok: true, value: v };
}

function base64Bytes(v: unknown, field: string, length?: number): Result<Uint8Array> {
  if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return fail(`${LABEL}: field "signed.${field}" must be a base64 string`);
  const bytes = Buffer.from(v, "base64");
  if (length !== undefined && bytes.length !== length) return fail(`${LABEL}: field "signed.${field}" must decode to ${length} bytes, got ${bytes.length}`);
  return { ok: true, value: new Uint8Array(bytes) };
}

/** The fields of a signed envelope ("signed" in a body), checked for shape; the payload is decoded by the caller. */
export function validateSignedEnvelope(v: unknown): Result<SignedEnvelope> {
  const obj = asObject(v, `${LABEL}: field "signed"`);
  if (!obj.ok) return obj;
  const s = obj.value;
  const unknown = onlyKnown(s, SIGNED_FIELDS, `${LABEL}: field "signed"`);
  if (unknown) return fail(unknown);
  if (typeof s.id !== "string" || !/^[0-9a-f]{32}$/.test(s.id)) return fail(`${LABEL}: field "signed.id" must be 32 lowercase hex characters (16 bytes)`);
  for (const f of ["origin", "originAddress"] as const) {
    const x = s[f];
    if (typeof x !== "string" || x === "" || x.length > 300)
      return fail(`${LABEL}: field "signed.${f}" must be the origin daemon's ${f === "origin" ? "node name" : "cluster address"} (GET /v1/info)`);
  }
  if (typeof s.createdMs !== "number" || !Number.isFinite(s.createdMs) || s.createdMs <= 0) {
    return fail(`${LABEL}: field "signed.createdMs" must be a positive number (ms since the epoch)`);
  }
  const ttlMs = boundedMs(s.ttlMs, "signed.ttlMs", NaN, MIN_TTL_MS, MAX_TTL_MS);
  if (!ttlMs.ok || Number.isNaN(ttlMs.value)) return ttlMs.ok ? fail(`${LABEL}: field "signed.ttlMs" is missing`) : ttlMs;
  const payload = base64Bytes(s.payload, "payload");
  if (!payload.ok) return payload;
  const signature = base64Bytes(s.signature, "signature", 64);
  if (!signature.ok) return signature;
  const signerKey = base64Bytes(s.signerKey, "signerKey", 32);
  if (!signerKey.ok) return signerKey;
  return {
    ok: true,
    value: {
      id: new Uint8Array(Buffer.from(s.id, "hex")),
      origin: s.origin as string,
      originAddress: s.originAddress as string,
      createdMs: s.createdMs,
      ttlMs: ttlMs.value,
      payload: payload.value,
      signature: signature.value,
      signerKey: signerKey.value,
    },
  };
}

/** Why a body with "signed" may not also carry these fields (they travel inside the signed payload), or null. */
export function fieldsOutsideSigned(b: Record<string, unknown>, fields: readonly string[], what: string): string | null {
  const extra = fields.filter((k) => b[k] !== undefined);
  if (extra.length === 0) return null;
  return `${LABEL}: with "signed", leave out ${extra.map((k) => JSON.stringify(k)).join(", ")}: ${what} carries them inside signed.payload`;
}

/** A signed batch: the envelope fields as signed, and the batch decoded (and validated) from its payload. */
function validateSignedBatch(v: unknown, timeoutMs: number): Result<BatchRequest> {
  const signed = validateSignedEnvelope(v);
  if (!signed.ok) return signed;
  const batch = decodeCheckBatch(signed.value.payload);
  if (!batch.ok) return fail(`${LABEL}: field "signed.payload": ${batch.errors.slice(0, MAX_LISTED_ERRORS).join("; ")}`);
  if (batch.batch.checks.length > MAX_CHECKS_PER_BATCH) return fail(`${LABEL}: ${batch.batch.checks.length} checks is too many; at most ${MAX_CHECKS_PER_BATCH} per batch`);
  const b = batch.batch;
  return {
    ok: true,
    value: { checks: b.checks, dryRun: b.dryRun, nodes: b.targetNodes, tags: b.targetTags, ttlMs: signed.value.ttlMs, timeoutMs, signed: signed.value, ...(b.submitter && { submitter: b.submitter }) },
  };
}

export function validateBatchBody(body: unknown): Result<BatchRequest> {
  const obj = asObject(body, LABEL);
  if (!obj.ok) return obj;
  const b = obj.value;
  const unknown = onlyKnown(b, BATCH_FIELDS, LABEL);
  if (unknown) return fail(unknown);
  const timeoutMs = boundedMs(b.timeoutMs, "timeoutMs", DEFAULT_TIMEOUT_MS, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS);
  if (!timeoutMs.ok) return timeoutMs;

  const on = validateOn(b);
  if (!on.ok) return on;

  if (b.signedWaves !== undefined) return validateSignedWaves(b, timeoutMs.value);

  if (b.signed !== undefined) {
    // A signed payload names its targets: the origin cannot target each wave at its nodes without breaking the signature (signedWaves can).
    if (b.rollout !== undefined)
      return fail(
        `${LABEL}: a signed batch names its targets, so it cannot be split into waves here: send one signed batch per wave in "signedWaves" (gcheck check -sign-key -canary/-batch-size does), or leave out "rollout"`,
      );
    const outside = fieldsOutsideSigned(b, ["checks", "dryRun", "nodes", "tags", "ttlMs", "submitter"], "a signed batch");
    if (outside) return fail(outside);
    return validateSignedBatch(b.signed, timeoutMs.value);
  }

  const checks = validateChecks(b.checks);
  if (!checks.ok) return checks;

  if (b.dryRun !== undefined && typeof b.dryRun !== "boolean") return fail(`${LABEL}: field "dryRun" must be true or false, got ${describeJson(b.dryRun)}`);

  const target = validateTargeting(b);
  if (!target.ok) return target;

  const ttlMs = boundedMs(b.ttlMs, "ttlMs", DEFAULT_TTL_MS, MIN_TTL_MS, MAX_TTL_MS);
  if (!ttlMs.ok) return ttlMs;
  const rollout = b.rollout === undefined ? undefined : validateRollout(b.rollout);
  if (rollout && !rollout.ok) return rollout;
  if (b.submitter !== undefined && (typeof b.submitter !== "string" || b.submitter.length > MAX_SUBMITTER_CHARS))
    return fail(`${LABEL}: field "submitter" must be a string of at most ${MAX_SUBMITTER_CHARS} characters (user@host), got ${describeJson(b.submitter)}`);
  const submitter = b.submitter as string | undefined;
  return {
    ok: true,
    value: {
      checks: checks.value,
      dryRun: b.dryRun === true,
      ...target.value,
      ttlMs: ttlMs.value,
      timeoutMs: timeoutMs.value,
      ...(rollout && { rollout: rollout.value }),
      ...(submitter && { submitter }),
      ...(on.value && { on: on.value }),
    },
  };
}

/**
 * "on": "coordinator" (gcheck check -on coordinator): the origin targets the
 * coordinators it computes now. It picks the nodes itself, so it does not
 * combine with other targeting, a rollout, or a signed body (whose payload
 * names its targets).
 */
function validateOn(b: Record<string, unknown>): Result<"coordinator" | undefined> {
  if (b.on === undefined) return { ok: true, value: undefined };
  if (b.on !== "coordinator") return fail(`${LABEL}: field "on" must be "coordinator" (run on the coordinators only), got ${describeJson(b.on)}`);
  const clash = ["nodes", "tags", "rollout", "signed", "signedWaves"].filter((k) => b[k] !== undefined && !(Array.isArray(b[k]) && (b[k] as unknown[]).length === 0) && !isEmptyObject(b[k]));
  if (clash.length) return fail(`${LABEL}: field "on" picks the nodes itself (the coordinators): leave out ${clash.map((k) => `"${k}"`).join(", ")}`);
  return { ok: true, value: "coordinator" };
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

/** Waves in one signed rollout (each is a whole signed envelope in the body). */
const MAX_SIGNED_WAVES = 1_000;

/**
 * A signed rollout: every wave a signed batch (checked like one), all the
 * same batch but for the nodes each targets, no node in two waves, each
 * naming its nodes (a wave without targets would run everywhere).
 */
function validateSignedWaves(b: Record<string, unknown>, timeoutMs: number): Result<BatchRequest> {
  const outside = fieldsOutsideSigned(b, ["checks", "dryRun", "nodes", "tags", "ttlMs", "signed"], "a signed rollout (signedWaves)");
  if (outside) return fail(outside);
  if (!Array.isArray(b.signedWaves) || b.signedWaves.length === 0 || b.signedWaves.length > MAX_SIGNED_WAVES) {
    return fail(`${LABEL}: field "signedWaves" must be an array of 1 to ${MAX_SIGNED_WAVES} signed batches, one per wave`);
  }
  const rollout = validateRollout(b.rollout ?? {}, true);
  if (!rollout.ok) return rollout;
  const waves: { signed: SignedEnvelope; nodes: string[] }[] = [];
  const seen = new Set<string>();
  let first: BatchRequest | undefined;
  let same = "";
  for (const [i, v] of (b.signedWaves as unknown[]).entries()) {
    const wave = validateSignedBatch(v, timeoutMs);
    if (!wave.ok) return fail(`signedWaves[${i}]: ${wave.error}`);
    const w = wave.value;
    if (w.nodes.length === 0) return fail(`${LABEL}: signedWaves[${i}] targets no node: each wave must name its nodes (targetNodes), or it would run everywhere`);
    for (const n of w.nodes) {
      if (seen.has(n)) return fail(`${LABEL}: node ${n} is in two waves (signedWaves[${i}] and an earlier one)`);
      seen.add(n);
    }
    const key = JSON.stringify([w.checks, w.dryRun, w.tags]);
    if (!first) [first, same] = [w, key];
    else if (key !== same) return fail(`${LABEL}: signedWaves[${i}] is not the same batch as signedWaves[0] (checks, dry-run and tags must agree; only the nodes differ)`);
    waves.push({ signed: w.signed!, nodes: w.nodes });
  }
  const { signed: _first, ...batch } = first!;
  return { ok: true, value: { ...batch, nodes: [...seen], rollout: rollout.value, signedWaves: waves } };
}

/** The targeting fields of a body ("nodes", "tags"), shared by batches and stats requests. */
export function validateTargeting(b: Record<string, unknown>): Result<{ nodes: string[]; tags: Record<string, string> }> {
  const nodes: string[] = [];
  if (b.nodes !== undefined) {
    if (!Array.isArray(b.nodes) || b.nodes.length > MAX_TARGET_NODES) return fail(`${LABEL}: field "nodes" must be an array of at most ${MAX_TARGET_NODES} node names`);
    for (const n of b.nodes as unknown[]) {
      if (typeof n !== "string" || n === "" || n.length > 128) return fail(`${LABEL}: field "nodes": ${describeJson(n)} is not a node name (1 to 128 characters)`);
      nodes.push(n);
    }
  }

  const tags: Record<string, string> = {};
  if (b.tags !== undefined) {
    const t = asObject(b.tags, `${LABEL}: field "tags"`);
    if (!t.ok) return t;
    const entries = Object.entries(t.value);
    if (entries.length > MAX_TAGS) return fail(`${LABEL}: field "tags": at most ${MAX_TAGS} tags`);
    for (const [k, v] of entries) {
      if (typeof v !== "string" || k === "" || k.length > 64 || v.length > 256) {
        return fail(`${LABEL}: field "tags": ${JSON.stringify(k)} must map a key (1 to 64 characters) to a string value (at most 256)`);
      }
      tags[k] = v;
    }
  }
  return { ok: true, value: { nodes, tags } };
}

const KEYS_FIELDS = ["op", "key", "timeoutMs", "signed"] as const;

/**
 * POST /v1/keys: an operation, its key (base64 of 32 bytes) when it takes
 * one, and how long to wait; or a signed operation ({signed, timeoutMs}),
 * whose op and key come from the signed payload.
 */
export function validateKeysBody(body: unknown): Result<KeyOpRequest> {
  const obj = asObject(body, LABEL);
  if (!obj.ok) return obj;
  const b = obj.value;
  const unknown = onlyKnown(b, KEYS_FIELDS, LABEL);
  if (unknown) return fail(unknown);
  const timeoutMs = boundedMs(b.timeoutMs, "timeoutMs", DEFAULT_TIMEOUT_MS, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS);
  if (!timeoutMs.ok) return timeoutMs;
  if (b.signed !== undefined) {
    const outside = fieldsOutsideSigned(b, ["op", "key"], "a signed key operation");
    if (outside) return fail(outside);
    const signed = validateSignedEnvelope(b.signed);
    if (!signed.ok) return signed;
    const decoded = decodeKeyOp(signed.value.payload);
    if (!decoded.ok) return fail(`${LABEL}: field "signed.payload": ${decoded.error}`);
    if (decoded.op !== "list" && decoded.key.length !== KEY_BYTES) return fail(`${LABEL}: field "signed.payload": the key of ${decoded.op} has ${decoded.key.length} bytes, expected ${KEY_BYTES}`);
    return { ok: true, value: { op: decoded.op, ...(decoded.op !== "list" && { key: decoded.key }), timeoutMs: timeoutMs.value, signed: signed.value } };
  }
  if (typeof b.op !== "string" || !(KEY_OPS as readonly string[]).includes(b.op)) {
    return fail(`${LABEL}: field "op" must be one of ${KEY_OPS.join(", ")}, got ${describeJson(b.op)}`);
  }
  const op = b.op as KeyOpName;
  if (op === "list") {
    if (b.key !== undefined) return fail(`${LABEL}: op "list" takes no "key"`);
    return { ok: true, value: { op, timeoutMs: timeoutMs.value } };
  }
  if (typeof b.key !== "string") return fail(`${LABEL}: op "${op}" needs field "key": a base64 cluster key as printed by gcheck keygen`);
  try {
    return { ok: true, value: { op, key: new Uint8Array(decodeKey(b.key)), timeoutMs: timeoutMs.value } };
  } catch (err) {
    if (err instanceof KeyringError) return fail(`${LABEL}: field "key": ${err.message}`);
    throw err;
  }
}

const STATS_FIELDS = ["nodes", "tags", "timeoutMs"] as const;
/** POST /v1/stats waits 10 s by default: stats are a quick look, not a rollout. */
export const DEFAULT_STATS_TIMEOUT_MS = 10_000;

/** POST /v1/stats: targeting as a batch's, and how long to wait (also the request's TTL). */
export function validateStatsBody(body: unknown): Result<StatsRequest> {
  const obj = asObject(body, LABEL);
  if (!obj.ok) return obj;
  const b = obj.value;
  const unknown = onlyKnown(b, STATS_FIELDS, LABEL);
  if (unknown) return fail(unknown);
  const timeoutMs = boundedMs(b.timeoutMs, "timeoutMs", DEFAULT_STATS_TIMEOUT_MS, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS);
  if (!timeoutMs.ok) return timeoutMs;
  const target = validateTargeting(b);
  if (!target.ok) return target;
  return { ok: true, value: { ...target.value, timeoutMs: timeoutMs.value } };
}
