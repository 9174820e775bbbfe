import { closest } from "../base/suggest.js";
import { parseDuration } from "./duration.js";

/*
 * The fields a registered check type takes beyond the common ones (type,
 * action, timeout, keep_children, description, interval, splay, quorum),
 * declared once per type (registry.ts) and validated here into plain, JSON-safe params: the same
 * values a check file holds, so the params travel on the wire as JSON and
 * are validated again by the receiving node exactly as a file is.
 *
 * The convention of the original format holds: an empty string is "not
 * given".
 */

export type FieldKind =
  /** A string; `nonEmpty`: "" is an error rather than "not given". */
  | { kind: "string" }
  /** One string or a list of them; normalised to a list. */
  | { kind: "strings" }
  | { kind: "boolean" }
  | { kind: "integer"; min: number; max: number }
  /** Any finite number (a float) from min to max: a percentage, a load per CPU. */
  | { kind: "number"; min: number; max: number }
  /** A user or group: a name, or a numeric id (a whole number, or a string of digits); normalised to a string. */
  | { kind: "name_or_id" }
  /** "30s", "500ms", a number of seconds: normalised to ms. */
  | { kind: "duration" }
  /** A JavaScript regular expression (source text), compiled to check it. */
  | { kind: "regex" }
  /** One of a fixed list of strings (exactly as written: "GET", "MX"). */
  | { kind: "enum"; values: readonly string[] }
  /** An object of string values ({"Content-Type": "json"}), at least one entry; kept as is. */
  | { kind: "string map" }
  /**
   * A whole number, or a string naming a class of them (`classes`: "2xx"), or
   * a non-empty list of those; normalised to a list.
   */
  | { kind: "integers"; min: number; max: number; classes?: { pattern: RegExp; example: string } };

export interface FieldSpec {
  type: FieldKind;
  /** What it is, for messages and docs ("the shell command to run"). */
  doc: string;
  required?: boolean;
}

export type Params = Record<string, string | string[] | boolean | number | (number | string)[] | Record<string, string>>;

/** Validates the type-specific fields of one check; `field(f)` names a field in messages. */
export function validateFields(specs: Readonly<Record<string, FieldSpec>>, raw: Record<string, unknown>, field: (f: string) => string): { params: Params; errors: string[] } {
  const params: Params = {};
  const errors: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const v = raw[name];
    if (v === undefined || v === "") {
      if (spec.required) errors.push(`${field(name)} is ${v === "" ? "empty" : "missing"}: ${spec.doc}`);
      continue;
    }
    const got = describe(v);
    const t = spec.type;
    switch (t.kind) {
      case "string":
        if (typeof v === "string") params[name] = v;
        else errors.push(`${field(name)}: expected a string (${spec.doc}), got ${got}`);
        break;
      case "strings":
        if (typeof v === "string") params[name] = [v];
        else if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string")) params[name] = v as string[];
        else errors.push(`${field(name)}: expected a string or a non-empty list of strings (${spec.doc}), got ${got}`);
        break;
      case "boolean":
        if (typeof v === "boolean") params[name] = v;
        else errors.push(`${field(name)}: expected true or false (${spec.doc}), got ${got}`);
        break;
      case "integer":
        if (typeof v === "number" && Number.isInteger(v) && v >= t.min && v <= t.max) params[name] = v;
        else errors.push(`${field(name)}: expected a whole number from ${t.min} to ${t.max} (${spec.doc}), got ${got}`);
        break;
      case "number":
        if (typeof v === "number" && Number.isFinite(v) && v >= t.min && v <= t.max) params[name] = v;
        else errors.push(`${field(name)}: expected a number from ${t.min} to ${t.max} (${spec.doc}), got ${got}`);
        break;
      case "name_or_id":
        if (typeof v === "string" && !/\s/.test(v)) params[name] = v;
        else if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) params[name] = String(v);
        else errors.push(`${field(name)}: expected a name or a numeric id (${spec.doc}), got ${got}`);
        break;
      case "duration": {
        const ms = typeof v === "string" || typeof v === "number" ? parseDuration(v) : null;
        if (ms !== null && ms > 0) params[name] = ms;
        else errors.push(`${field(name)}: expected a duration such as "30s", "500ms" or a number of seconds (${spec.doc}), got ${got}`);
        break;
      }
      case "regex":
        if (typeof v !== "string") {
          errors.push(`${field(name)}: expected a regular expression as a string (${spec.doc}), got ${got}`);
          break;
        }
        try {
          new RegExp(v);
          params[name] = v;
        } catch (e) {
          errors.push(`${field(name)}: ${JSON.stringify(v)} is not a valid regular expression (${(e as Error).message})`);
        }
        break;
      case "enum":
        if (typeof v === "string" && t.values.includes(v)) params[name] = v;
        else {
          const guess = typeof v === "string" ? closest(v, t.values) : undefined;
          errors.push(`${field(name)}: expected one of ${t.values.join(", ")} (${spec.doc}), got ${got}${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""}`);
        }
        break;
      case "string map": {
        const entries = typeof v === "object" && v !== null && !Array.isArray(v) ? Object.entries(v) : [];
        if (entries.length > 0 && entries.every(([k, x]) => k !== "" && typeof x === "string")) params[name] = Object.fromEntries(entries) as Record<string, string>;
        else
          errors.push(
            `${field(name)}: expected an object of names to strings such as {"Content-Type": "json"} (${spec.doc}), got ${got}${entries.length > 0 ? " (a name empty or a value not a string)" : ""}`,
          );
        break;
      }
      case "integers": {
        const one = (x: unknown) => (typeof x === "number" && Number.isInteger(x) && x >= t.min && x <= t.max) || (t.classes !== undefined && typeof x === "string" && t.classes.pattern.test(x));
        if (one(v)) params[name] = [v as number | string];
        else if (Array.isArray(v) && v.length > 0 && v.every(one)) params[name] = v as (number | string)[];
        else {
          const cls = t.classes ? `, a class such as ${JSON.stringify(t.classes.example)}` : "";
          errors.push(`${field(name)}: expected a whole number from ${t.min} to ${t.max}${cls} or a non-empty list of them (${spec.doc}), got ${got}`);
        }
        break;
      }
    }
  }
  return { params, errors };
}

/**
 * Validated params as the JSON that travels on the wire, such that
 * validating it again gives the same params: a duration (held in ms) is
 * written "Nms", since a bare number in a check file means seconds.
 */
export function paramsToJson(specs: Readonly<Record<string, FieldSpec>>, params: Params): string {
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(params)) out[name] = specs[name]?.type.kind === "duration" && typeof v === "number" ? `${v}ms` : v;
  return JSON.stringify(out);
}

/** The "unknown field" message, with the type's fields listed and a guess. */
export function unknownField(f: string, known: readonly string[], field: (f: string) => string, type: string): string {
  const guess = closest(f, known);
  return `${field(f)} is unknown for type ${type} (known fields: ${known.join(", ")}${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""})`;
}

/** "got ..." phrasing for a JSON value of the wrong kind. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}
