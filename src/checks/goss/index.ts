import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { errorMessage } from "../../base/result.js";
import type { CheckSpec } from "../types.js";
import { isToolKey, validateCheck } from "../validate.js";
import { isGossfile, translateGossfile, type GossCheck } from "./gossfile.js";
import { readYaml, templateLine } from "./yaml_doc.js";

/*
 * Check files written in YAML: gossipcheck's own format (the same structure
 * as the JSON) or a Goss gossfile (gossfile.ts says how the two are told
 * apart and how a gossfile is translated). Loaded by parse.ts only when a
 * file is YAML, so reading JSON never loads the yaml package.
 */

export type YamlParseResult = { ok: true; checks: CheckSpec[]; document?: Record<string, unknown> } | { ok: false; errors: string[] };

/** Validates a document of gossipcheck's format (parse.ts's parseCheckObject, passed in so this folder does not import its importer). */
export type ValidateOurs = (value: unknown, label: string, order?: string[]) => { ok: true; checks: CheckSpec[] } | { ok: false; errors: string[] };

/** A file name that says YAML. */
export const isYamlPath = (path: string): boolean => /\.ya?ml$/i.test(path);

/** Standard input is JSON when its first non-blank character opens a JSON object, YAML otherwise. */
export const looksLikeJson = (text: string): boolean => /^\uFEFF?\s*[{[]/.test(text);

/**
 * Parses YAML check-file text. `baseDir` is where a gossfile's includes are
 * found (the file's directory; the current directory for standard input);
 * null refuses includes (text sent to the daemon: it reads no file a request names).
 */
export async function parseYamlChecks(text: string, label: string, baseDir: string | null, ours: ValidateOurs): Promise<YamlParseResult> {
  const read = readText(text, label);
  if (!read.ok) return read;
  if (!isGossfile(read.value)) {
    const value = read.value;
    if (value === null || value === undefined)
      return { ok: false, errors: [`${label}: the file is empty: write checks (name: {type: ..., ...}) or Goss resources (package: {bash: {installed: true}})`] };
    // Not a mapping, or no checks: the JSON format's messages say what is expected.
    const names = typeof value === "object" && !Array.isArray(value) ? Object.keys(value).filter((k) => !isToolKey(k)) : [];
    if (names.length === 0) return ours(value, label);
    // Each check validated on its own, so its messages start at its line.
    const doc = value as Record<string, unknown>;
    const errors: string[] = [];
    const specs: CheckSpec[] = [];
    for (const name of names) {
      const v = validateCheck(name, doc[name], read.at([name]));
      errors.push(...v.errors);
      if (v.spec) specs.push(v.spec);
    }
    return errors.length > 0 ? { ok: false, errors } : { ok: true, checks: specs, document: doc };
  }
  const errors: string[] = [];
  const checks: GossCheck[] = [];
  await collect(read.value as Record<string, unknown>, read.at, label, baseDir === null ? null : resolve(baseDir), new Set(baseDir === null ? [] : [resolve(baseDir, label)]), checks, errors);
  const seen = new Map<string, string>();
  const specs: CheckSpec[] = [];
  for (const c of checks) {
    const first = seen.get(c.name);
    if (first !== undefined) {
      errors.push(`${c.where}: check ${JSON.stringify(c.name)} is defined twice (first at ${first}): keep one`);
      continue;
    }
    seen.set(c.name, c.where);
    const v = validateCheck(c.name, c.fields, c.where);
    errors.push(...v.errors);
    if (v.spec) specs.push(v.spec);
  }
  if (errors.length === 0 && specs.length === 0) errors.push(`${label}: the gossfile contains no resources: add one, e.g. package: {bash: {installed: true}}`);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, checks: specs, document: Object.fromEntries(checks.map((c) => [c.name, c.fields])) };
}

function readText(text: string, label: string): ReturnType<typeof readYaml> {
  const line = templateLine(text);
  if (line > 0) {
    return { ok: false, errors: [`${label}:${line}: Go templates ("{{") are not supported: render the file first (goss -g FILE render > rendered.yaml) and give that`] };
  }
  return readYaml(text, label);
}

/** Translates one gossfile and, depth first, the gossfiles it includes (relative to its own directory). */
async function collect(
  value: Record<string, unknown>,
  at: (p: readonly string[]) => string,
  label: string,
  dir: string | null,
  chain: Set<string>,
  checks: GossCheck[],
  errors: string[],
): Promise<void> {
  const t = translateGossfile(value, at);
  errors.push(...t.errors);
  checks.push(...t.checks);
  for (const inc of t.includes) {
    if (dir === null) {
      errors.push(`${inc.where}: gossfile ${JSON.stringify(inc.file)}: includes are not read from a check file sent to the daemon: run gcheck -file with it (gcheck reads includes on your machine)`);
      continue;
    }
    const path = isAbsolute(inc.file) ? inc.file : join(dir, inc.file);
    const incLabel = isAbsolute(inc.file) ? inc.file : join(dirname(label), inc.file);
    if (chain.has(resolve(path))) {
      errors.push(`${inc.where}: gossfile ${JSON.stringify(inc.file)} includes itself (directly or through other files): remove the loop`);
      continue;
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(await readFile(path));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      errors.push(
        `${inc.where}: gossfile ${JSON.stringify(inc.file)}: ${code === "ENOENT" ? `no such file (${path}): includes are relative to the including file's directory` : `cannot read it: ${errorMessage(e)}`}`,
      );
      continue;
    }
    const read = readText(text, incLabel);
    if (!read.ok) {
      errors.push(...read.errors);
      continue;
    }
    if (read.value === null || read.value === undefined) continue;
    if (!isGossfile(read.value)) {
      errors.push(`${inc.where}: gossfile ${JSON.stringify(inc.file)} is not a gossfile (its top-level keys must be Goss resource types such as package or file)`);
      continue;
    }
    await collect(read.value as Record<string, unknown>, read.at, incLabel, dirname(resolve(path)), new Set([...chain, resolve(path)]), checks, errors);
  }
}
