import { closest } from "../base/suggest.js";
import { parseDuration } from "./duration.js";
import { describe, type FieldSpec, type Params, unknownField, validateFields } from "./fields.js";
import { FILE_ATTR_FIELDS, FILE_ATTR_NAMES, fileAttrRules } from "./file_attrs.js";
import { registeredType } from "./registry.js";
import { CHECK_TYPES, type CheckSpec, type CheckType } from "./types.js";

/*
 * The rules for one check of a check file, as messages a person can act on.
 * schema/checks.schema.json states the same rules for editors and linters;
 * test/checks_schema.test.ts keeps the two in step.
 *
 * One convention runs through it: an empty string means "not given". The
 * original gossipcheck treated "" that way, and templated files often write
 * every field. So `"action": ""` is no action and a process_running check may
 * leave `path` or `check` empty; where a field is required, empty is an error
 * that says why (an empty file_contains needle is found in every file, so the
 * check could never fail).
 */

/** The fields of the original format, in the order they are documented. */
const ORIGINAL_FIELDS = ["type", "path", "check", "action", "timeout", "keep_children", "description", "interval", "splay", "quorum"] as const;
/** Every field a check of an original type may have: the original's, then file_exists's optional attributes (file_attrs.ts). */
export const CHECK_FIELDS: readonly string[] = [...ORIGINAL_FIELDS, ...FILE_ATTR_NAMES];
/** The fields every check may have; a registered type adds its own (registry.ts). */
export const COMMON_FIELDS = ["type", "action", "timeout", "keep_children", "description", "interval", "splay", "quorum"] as const;

/** The bounds of a scheduled check's interval (ms): at least 1 s (a tighter loop is a busy loop), at most 1 day. */
export const MIN_INTERVAL_MS = 1000;
export const MAX_INTERVAL_MS = 86_400_000;

/** A key for tools ("$schema", "$comment"): ignored in check files, at the top level and in a check (see parse.ts). */
export const isToolKey = (key: string): boolean => key.startsWith("$");

const example = '{"type": "file_exists", "path": "/etc/hostname"}';

export interface CheckValidation {
  spec?: CheckSpec;
  errors: string[];
}

/** Validates the value found under `name` in a check file; `where` prefixes every message (the file label). */
export function validateCheck(name: string, value: unknown, where: string): CheckValidation {
  const at = `${where}: check ${JSON.stringify(name)}`;
  if (name === "") return { errors: [`${where}: a check has an empty name: give every check a non-empty name`] };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { errors: [`${at}: expected an object such as ${example}, got ${describe(value)}`] };
  }
  const fields = value as Record<string, unknown>;
  const errors: string[] = [];
  const field = (f: string) => `${at}: field ${JSON.stringify(f)}`;

  // Type first: which other fields are allowed and required depends on it.
  let type: CheckType | undefined;
  const t = fields.type;
  if (t === undefined) {
    errors.push(`${field("type")} is missing (expected one of: ${CHECK_TYPES.join(", ")})`);
  } else if (typeof t !== "string") {
    errors.push(`${field("type")}: expected a string, one of ${CHECK_TYPES.join(", ")}; got ${describe(t)}`);
  } else if (!(CHECK_TYPES as readonly string[]).includes(t)) {
    const guess = closest(t, CHECK_TYPES);
    errors.push(`${field("type")}: unknown type ${JSON.stringify(t)} (known types: ${CHECK_TYPES.join(", ")}${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""})`);
  } else {
    type = t as CheckType;
  }
  const def = type === undefined ? undefined : registeredType(type);
  // file_exists's attributes are known to it alone of the original three.
  const known: readonly string[] = def ? [...COMMON_FIELDS, ...Object.keys(def.fields)] : type === undefined || type === "file_exists" ? CHECK_FIELDS : ORIGINAL_FIELDS;

  for (const f of Object.keys(fields)) {
    if (known.includes(f) || isToolKey(f)) continue;
    if (def) {
      errors.push(unknownField(f, known, field, def.type));
      continue;
    }
    if (FILE_ATTR_NAMES.includes(f)) {
      errors.push(`${field(f)} is not used by ${type}: only file_exists and file check a file's attributes`);
      continue;
    }
    if (f === "exists" && type === "file_exists") {
      errors.push(`${field(f)} is not used by file_exists, which always expects the file to exist (type "file" takes "exists": false)`);
      continue;
    }
    const guess = closest(f, known);
    errors.push(`${field(f)} is unknown (known fields: ${known.join(", ")}${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""})`);
  }

  // Shared field types; "" is normalised to undefined (not given).
  const str = (f: string, meaning: string): string | undefined => {
    const v = fields[f];
    if (v === undefined) return undefined;
    if (typeof v !== "string") {
      errors.push(`${field(f)}: expected a string (${meaning}), got ${describe(v)}`);
      return undefined;
    }
    return v === "" ? undefined : v;
  };
  const path = def ? undefined : str("path", type === "process_running" ? "a substring of the executable path" : "the path of a file");
  const check = def ? undefined : str("check", type === "process_running" ? "a substring of the command line" : "the text to search for");
  const action = str("action", "a shell command run with /bin/sh -c when the check fails");
  const description = str("description", "a note for people");
  const timeoutMs = timeoutField(fields.timeout, field("timeout"), errors);
  const schedule = scheduleFields(fields, field, errors);
  const keepChildren = fields.keep_children;
  if (keepChildren !== undefined && typeof keepChildren !== "boolean") {
    errors.push(`${field("keep_children")}: expected true (leave running what the action starts) or false, got ${describe(keepChildren)}`);
  }

  let params: Params | undefined;
  if (def) {
    const v = validateFields(def.fields, fields, field);
    errors.push(...v.errors);
    if (v.errors.length === 0) errors.push(...(def.rules?.(v.params, field) ?? []));
    params = v.params;
  } else if (type !== undefined) {
    errors.push(...rulesOfType(type, fields, at));
    if (type === "file_exists") {
      const v = validateFields(FILE_ATTR_FIELDS, fields, field);
      errors.push(...v.errors);
      if (v.errors.length === 0) errors.push(...fileAttrRules(v.params, field));
      // Without attributes the spec is the original's, exactly.
      if (Object.keys(v.params).length > 0) params = v.params;
    }
  }
  if (errors.length > 0 || type === undefined) return { errors };
  const spec: CheckSpec = { name, type };
  if (params !== undefined) spec.params = params;
  if (path !== undefined) spec.path = path;
  if (check !== undefined) spec.check = check;
  if (action !== undefined) spec.action = action;
  if (timeoutMs !== undefined) spec.timeoutMs = timeoutMs;
  if (keepChildren === true) spec.keepChildren = true;
  if (description !== undefined) spec.description = description;
  if (schedule.intervalMs !== undefined) spec.intervalMs = schedule.intervalMs;
  if (schedule.splayMs !== undefined) spec.splayMs = schedule.splayMs;
  if (schedule.quorum !== undefined) spec.quorum = schedule.quorum;
  return { spec, errors };
}

/**
 * What each type requires beyond field types. `fields` holds the raw values;
 * only strings are judged here (a wrong JSON type is already reported).
 */
function rulesOfType(type: CheckType, fields: Record<string, unknown>, at: string): string[] {
  const errors: string[] = [];
  const field = (f: string) => `${at}: field ${JSON.stringify(f)}`;
  const given = (f: string) => typeof fields[f] === "string" && fields[f] !== "";
  if (type === "file_exists" || type === "file_contains") {
    const purpose = `${type} needs the path of the file to ${type === "file_exists" ? "look for" : "search"}`;
    if (fields.path === undefined) errors.push(`${field("path")} is missing: ${purpose}`);
    else if (fields.path === "") errors.push(`${field("path")} is empty: ${purpose}`);
  }
  if (type === "file_contains") {
    if (fields.check === undefined) {
      errors.push(`${field("check")} is missing: file_contains needs the text to search for`);
    } else if (fields.check === "") {
      errors.push(`${field("check")} is empty: an empty string is found in every file, so this check could never fail (use file_exists to test only that the file exists)`);
    }
  }
  if (type === "file_exists" && given("check")) {
    errors.push(`${field("check")} is not used by file_exists (to look for text in the file, use type "file_contains")`);
  }
  const wellTyped = (f: string) => fields[f] === undefined || typeof fields[f] === "string";
  if (type === "process_running" && !given("path") && !given("check") && wellTyped("path") && wellTyped("check")) {
    errors.push(`${at}: process_running needs "path" (a substring of the process's executable path) or "check" (a substring of its command line), or both`);
  }
  return errors;
}

/** The fields a type's params hold: a registered type's own, or file_exists's attributes; none for the other original types. */
export function paramFields(type: string): Readonly<Record<string, FieldSpec>> {
  return registeredType(type)?.fields ?? (type === "file_exists" ? FILE_ATTR_FIELDS : {});
}

function timeoutField(v: unknown, label: string, errors: string[]): number | undefined {
  if (v === undefined) return undefined;
  const expected = 'expected a duration such as "30s", "500ms", "2m", "1h" or a number of seconds';
  if (typeof v !== "string" && typeof v !== "number") {
    errors.push(`${label}: ${expected}, got ${describe(v)}`);
    return undefined;
  }
  const ms = parseDuration(v);
  if (ms === null && !(typeof v === "number" && v < 0)) {
    errors.push(`${label}: ${JSON.stringify(v)} is not a duration (${expected})`);
    return undefined;
  }
  if (ms === null || ms <= 0) {
    errors.push(`${label}: ${JSON.stringify(v)} must be greater than zero (${expected})`);
    return undefined;
  }
  return ms;
}

const durationExpected = 'expected a duration such as "30s", "500ms", "2m", "1h" or a number of seconds';

/** A duration field's ms (zero allowed), or undefined after pushing why not. */
function durationField(v: unknown, label: string, errors: string[]): number | undefined {
  if (typeof v !== "string" && typeof v !== "number") {
    errors.push(`${label}: ${durationExpected}, got ${describe(v)}`);
    return undefined;
  }
  const ms = parseDuration(v);
  if (ms === null) {
    errors.push(`${label}: ${JSON.stringify(v)} is not a duration (${typeof v === "number" && v < 0 ? "it is negative; " : ""}${durationExpected})`);
    return undefined;
  }
  return ms;
}

/**
 * "interval", "splay" and "quorum": when and how a scheduled check runs. A
 * splay of zero is the same as none (not kept, so the spec round-trips);
 * splay and quorum mean nothing without an interval, so they are errors
 * there rather than silently ignored.
 */
function scheduleFields(fields: Record<string, unknown>, field: (f: string) => string, errors: string[]): Pick<CheckSpec, "intervalMs" | "splayMs" | "quorum"> {
  const out: Pick<CheckSpec, "intervalMs" | "splayMs" | "quorum"> = {};
  const { interval, splay, quorum } = fields;
  if (interval !== undefined) {
    const ms = durationField(interval, field("interval"), errors);
    if (ms !== undefined && ms < MIN_INTERVAL_MS) {
      errors.push(`${field("interval")}: ${JSON.stringify(interval)} is shorter than 1s: a scheduled check runs at most once a second (give "1s" or more)`);
    } else if (ms !== undefined && ms > MAX_INTERVAL_MS) {
      errors.push(`${field("interval")}: ${JSON.stringify(interval)} is longer than a day: give at most "24h" (run rarer jobs from cron)`);
    } else if (ms !== undefined) {
      out.intervalMs = ms;
    }
  }
  if (splay !== undefined) {
    const ms = durationField(splay, field("splay"), errors);
    if (interval === undefined) {
      errors.push(`${field("splay")} needs an "interval": splay spreads a scheduled check's runs within its interval`);
    } else if (ms !== undefined && out.intervalMs !== undefined && ms > out.intervalMs) {
      errors.push(`${field("splay")}: ${JSON.stringify(splay)} is longer than the interval ${JSON.stringify(interval)}: give at most the interval`);
    } else if (ms !== undefined && ms > 0) {
      out.splayMs = ms;
    }
  }
  if (quorum !== undefined) {
    const expected = 'expected a positive whole number of nodes or "majority"';
    if (quorum !== "majority" && !(typeof quorum === "number" && Number.isSafeInteger(quorum) && quorum >= 1)) {
      errors.push(`${field("quorum")}: ${expected}, got ${describe(quorum)}`);
    } else if (interval === undefined) {
      errors.push(`${field("quorum")} needs an "interval": only a scheduled check votes on a cluster-wide verdict`);
    } else {
      out.quorum = quorum;
    }
  }
  return out;
}

export { describe };
