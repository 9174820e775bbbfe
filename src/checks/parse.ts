import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { scanJson } from "./json_scan.js";
import type { CheckSpec } from "./types.js";
import { describe, isToolKey, validateCheck } from "./validate.js";
import { errorMessage } from "../base/result.js";

/*
 * Check files: the gossipcheck format (a JSON object mapping check name to
 * {"type", "path", "check", "action"}, plus optional "timeout",
 * "keep_children" and "description", and for a scheduled check "interval",
 * "splay" and "quorum"). Errors are values: every problem in the file is collected,
 * each message names the file, the check and the field and says what was
 * expected, so `gcheck validate` can list them all at once.
 *
 * Keys that start with "$" are for tools, not for gossipcheck, and are
 * ignored wherever they stand (a top-level "$schema" lets editors find
 * schema/checks.schema.json; "$comment" is a note): so no check is named
 * "$...".
 */

/** `document`: a YAML file's checks as a JSON check document (what `gcheck import` prints). */
export type ParseResult = { ok: true; checks: CheckSpec[]; document?: Record<string, unknown> } | { ok: false; errors: string[] };

/** A file name that says YAML: gossipcheck's format in YAML, or a Goss gossfile (goss/). */
const YAML_PATH = /\.ya?ml$/i;

const shape = 'expected a JSON object mapping check names to checks, e.g. {"hostname_exists": {"type": "file_exists", "path": "/etc/hostname"}}';

/** Parses the text of a check file; `fileLabel` (usually its path) starts every message. */
export function parseCheckFile(text: string, fileLabel: string): ParseResult {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark some editors add
  if (text.trim() === "") return { ok: false, errors: [`${fileLabel}: the file is empty: ${shape}`] };
  const scan = scanJson(text);
  if (scan.error) {
    const { line, column, message } = scan.error;
    return { ok: false, errors: [`${fileLabel}:${line}:${column}: malformed JSON: ${message}`] };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // The scanner accepts exactly what JSON.parse does (fuzzed in
    // test/checks_fuzz.test.ts); should they ever disagree, still an error value.
    return { ok: false, errors: [`${fileLabel}: malformed JSON: ${errorMessage(e)}`] };
  }
  const errors: string[] = [];
  for (const d of scan.duplicates) {
    if (isToolKey(d.key) || d.path.some(isToolKey)) continue;
    if (d.path.length === 0) {
      errors.push(`${fileLabel}: check ${JSON.stringify(d.key)} is defined twice (lines ${d.firstLine} and ${d.line}): give each check its own name`);
    } else if (d.path.length === 1) {
      errors.push(`${fileLabel}: check ${JSON.stringify(d.path[0])}: field ${JSON.stringify(d.key)} is given twice (lines ${d.firstLine} and ${d.line}): keep one`);
    }
  }
  // JS objects list integer-like keys first; the scan keeps the file's order.
  const order = [...new Set(scan.topLevelKeys.map((k) => k.key))];
  const result = parseCheckObject(value, fileLabel, order);
  if (errors.length === 0) return result;
  return { ok: false, errors: [...errors, ...(result.ok ? [] : result.errors)] };
}

/**
 * Validates an already-parsed check document (e.g. the "checks" of a control
 * API request body) with the same rules and messages as a file. `order`
 * overrides the object's key order when the caller knows the original one.
 */
export function parseCheckObject(value: unknown, fileLabel: string, order?: string[]): ParseResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, errors: [`${fileLabel}: the top level is ${describe(value)}: ${shape}`] };
  }
  const doc = value as Record<string, unknown>;
  const keys = order ?? Object.keys(doc);
  const names = keys.filter((k) => !isToolKey(k));
  if (names.length === 0) {
    const ignored = keys.length > 0 ? ` (keys starting with "$", such as ${JSON.stringify(keys[0])}, are for tools and ignored)` : "";
    return { ok: false, errors: [`${fileLabel}: the file contains no checks${ignored}: ${shape}`] };
  }
  const checks: CheckSpec[] = [];
  const errors: string[] = [];
  for (const name of names) {
    const v = validateCheck(name, doc[name], fileLabel);
    errors.push(...v.errors);
    if (v.spec) checks.push(v.spec);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, checks };
}

/** Reads and parses a check file; a file that cannot be read is an error naming it and saying what to do. */
export async function loadCheckFile(path: string): Promise<ParseResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    return { ok: false, errors: [readErrorMessage(path, e as NodeJS.ErrnoException)] };
  }
  return parseCheckInput(bytes, path, { yaml: YAML_PATH.test(path), baseDir: dirname(path) });
}

/**
 * Parses a check file's bytes, JSON or YAML: `yaml` says which (from the
 * file name); when not given (standard input), text whose first non-blank
 * character is "{" or "[" is JSON, anything else YAML. `baseDir` is where a
 * gossfile's includes are looked for (default: the current directory; null:
 * includes are refused, for text that came over the network).
 */
export async function parseCheckInput(bytes: Uint8Array, fileLabel: string, opts: { yaml?: boolean; baseDir?: string | null } = {}): Promise<ParseResult> {
  const text = decodeUtf8(bytes);
  if (text === undefined) return { ok: false, errors: [notUtf8(fileLabel)] };
  if (!(opts.yaml ?? !/^\uFEFF?\s*[{[]/.test(text))) return parseCheckFile(text, fileLabel);
  const { parseYamlChecks } = await import("./goss/index.js");
  return parseYamlChecks(text, fileLabel, opts.baseDir === undefined ? "." : opts.baseDir, parseCheckObject);
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

const notUtf8 = (fileLabel: string) => `${fileLabel}: not UTF-8 text: a check file is JSON or YAML, save it as UTF-8`;

/** Parses a check file's raw bytes (a file, or standard input with `-file -`), which must be UTF-8. */
export function parseCheckBytes(bytes: Uint8Array, fileLabel: string): ParseResult {
  const text = decodeUtf8(bytes);
  if (text === undefined) return { ok: false, errors: [notUtf8(fileLabel)] };
  return parseCheckFile(text, fileLabel);
}

function readErrorMessage(path: string, e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case "ENOENT":
      return `${path}: no such file: check the path given with -file`;
    case "EACCES":
    case "EPERM":
      return `${path}: permission denied: make the file readable by this user, or run as a user who can read it`;
    case "EISDIR":
      return `${path}: is a directory: give the path of a check file (JSON) with -file`;
    case "ENOTDIR":
      return `${path}: a component of the path is not a directory: check the path given with -file`;
    default:
      return `${path}: cannot read the check file: ${e.message}`;
  }
}
