import type { Command, Option } from "commander";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe } from "../checks/validate.js";
import { closest } from "../base/suggest.js";
import { errorMessage, fail, ok, type Result } from "../base/result.js";
import { parseTags } from "../cmdline/tags.js";
import { type FlagContext, type FlagLayers, type FlagsOutcome, parseDaemonFlags, systemFlagContext } from "./flags.js";

/*
 * gossipcheckd's configuration from outside the command line, as Serf and
 * Consul take it: JSON config files (-config-file, repeatable, then every
 * *.json of each -config-dir in lexical order) and GOSSIPCHECKD_<FLAG>
 * environment variables. Precedence: flags > environment > files, and a
 * later file wins over an earlier one.
 *
 * One path for every rule: files and variables are turned into the raw
 * values the command line would have given (strings, lists, booleans) and
 * set on the parsed commander program under the flags; flags.ts validates
 * them exactly as if they had been typed, and an error about a value names
 * the file and key or the variable it came from (FlagLayers.sourceOf).
 * What is checked here is only what has no command-line counterpart: JSON
 * syntax, unknown keys (with a "did you mean"), and each key's JSON type.
 *
 * JSON shapes (keys are flag names as typed, without the dash):
 * - a flag that takes a value: a string, or a number ("gossip-group": 5);
 * - `peers`: an array of strings or one comma-separated string;
 * - `tag`: an object {"role": "web"} or an array of "key=value" strings;
 * - `on`: an array of "EVENT=SCRIPT" strings, or one (a script may hold commas);
 * - a boolean flag is written as it is typed, true or false:
 *   "insecure": true, "no-actions": true, "no-cli": true. false means the
 *   same as leaving the flag out. ("actions": false is unknown, with a hint.)
 * Variables: GOSSIPCHECKD_ + the flag name in upper case, dashes as
 * underscores; lists (peers, tag) comma-separated, GOSSIPCHECKD_ON one
 * trigger per line; booleans true/false/1/0;
 * an empty variable counts as unset (templated unit files write them all).
 * Tags merge by tag name across all sources (the higher source wins per
 * name); every other key is replaced whole by a higher source.
 */

export const ENV_PREFIX = "GOSSIPCHECKD_";

/** Flags that only make sense on the command line (they say where the configuration is, or what to do with it). */
const COMMAND_LINE_ONLY = new Set(["config-file", "config-dir", "check-config", "help", "version"]);

/** How a flag's value may be written in a file or a variable. */
type Shape = "value" | "boolean" | "list" | "tags" | "repeat";

interface FlagSpec {
  /** As typed, without the dash: "bind", "no-actions". */
  flag: string;
  /** Commander's attribute: "bind", "actions" (for --no-actions). */
  attr: string;
  shape: Shape;
  /** --no-X: true in a file means the attribute is false. */
  negate: boolean;
  env: string;
}

/** The raw value as commander would hold it, and where it came from. */
interface Given {
  value: string | boolean;
  label: string;
}
interface GivenTags {
  items: string[];
  label: string;
}

export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replace(/-/g, "_");
}

function specsOf(cmd: Command): FlagSpec[] {
  const specs: FlagSpec[] = [];
  for (const o of cmd.options as readonly Option[]) {
    const flag = o.long?.replace(/^--/, "");
    if (!flag || COMMAND_LINE_ONLY.has(flag)) continue;
    const shape: Shape = flag === "tag" ? "tags" : flag === "peers" ? "list" : flag === "on" ? "repeat" : o.required || o.optional ? "value" : "boolean";
    specs.push({ flag, attr: o.attributeName(), shape, negate: o.negate, env: envName(flag) });
  }
  return specs;
}

/** Reads files with the injected functions (tests) or node:fs. */
export interface ConfigFs {
  readFile(path: string): string;
  /** Names of the entries of a directory that are files (or links to files). */
  listFiles(dir: string): string[];
}

export const nodeConfigFs: ConfigFs = {
  readFile: (path) => readFileSync(path, "utf8"),
  listFiles: (dir) => readdirSync(dir).filter((n) => statSync(join(dir, n), { throwIfNoEntry: false })?.isFile() === true),
};

/** Where each setting in effect came from, for -check-config's summary and the reload log. */
export interface SourceSummary {
  /** Every config file read, in order. */
  files: string[];
  /** Settings won by each file (file -> count). */
  fromFiles: Map<string, number>;
  /** Variables that set something. */
  fromEnv: string[];
  /** Flags given on the command line (-config-file and co. not counted). */
  fromFlags: string[];
}

/**
 * The FlagLayers of config files and variables. One instance per parse:
 * it remembers what it read for sourceOf and the summary.
 */
export class ConfigLayers implements FlagLayers {
  private readonly sources = new Map<string, string>();
  private summary: SourceSummary = { files: [], fromFiles: new Map(), fromEnv: [], fromFlags: [] };

  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly fs: ConfigFs = nodeConfigFs,
  ) {}

  get sourceSummary(): SourceSummary {
    return this.summary;
  }

  sourceOf(flag: string): string | undefined {
    return this.sources.get(flag);
  }

  apply(cmd: Command): Result<void, string[]> {
    const specs = specsOf(cmd);
    const byFlag = new Map(specs.map((s) => [s.flag, s]));
    const errors: string[] = [];
    const opts = cmd.opts<{ configFile?: string[]; configDir?: string[] }>();

    const files = [...(opts.configFile ?? [])];
    for (const dir of opts.configDir ?? []) {
      try {
        files.push(
          ...this.fs
            .listFiles(dir)
            .filter((n) => n.endsWith(".json"))
            .sort()
            .map((n) => join(dir, n)),
        );
      } catch (e) {
        errors.push(`-config-dir ${dir}: cannot read it (${fsReason(e)})`);
      }
    }

    const fromFiles = new Map<string, Given>();
    const tagLayers: GivenTags[] = [];
    for (const file of files) {
      const read = this.readFile(file);
      if (!read.ok) {
        errors.push(read.error);
        continue;
      }
      for (const [key, value] of Object.entries(read.value)) {
        const at = `${file}: key "${key}"`;
        const spec = byFlag.get(key);
        if (!spec) {
          errors.push(`${at}: ${unknownKey(key, specs)}`);
          continue;
        }
        const given = fromJson(spec, value);
        if (!given.ok) errors.push(`${at}: ${given.error}`);
        else if (Array.isArray(given.value)) tagLayers.push({ items: given.value, label: at });
        else fromFiles.set(spec.flag, { value: given.value, label: at });
      }
    }

    const fromEnv = new Map<string, Given>();
    const byEnv = new Map(specs.map((s) => [s.env, s]));
    for (const [name, text] of Object.entries(this.env)) {
      if (!name.startsWith(ENV_PREFIX) || text === undefined || text === "") continue;
      const spec = byEnv.get(name);
      if (!spec) {
        errors.push(`${name}: ${unknownVariable(name, specs)}`);
        continue;
      }
      const given = fromEnvText(spec, text);
      if (!given.ok) errors.push(`${name}="${text}": ${given.error}`);
      else if (Array.isArray(given.value)) tagLayers.push({ items: given.value, label: name });
      else fromEnv.set(spec.flag, { value: given.value, label: name });
    }

    // Each source's tags on their own: a malformed or repeated tag names its file or variable.
    for (const t of tagLayers) {
      const parsed = parseTags(t.items);
      if (!parsed.ok) errors.push(`${t.label}: ${parsed.error}`);
    }
    if (errors.length > 0) return fail(errors);

    const summary: SourceSummary = { files, fromFiles: new Map(), fromEnv: [], fromFlags: [] };
    const won = (flag: string, label: string, env: boolean) => {
      this.sources.set(flag, label);
      if (env) summary.fromEnv.push(label);
      else {
        const file = label.slice(0, label.lastIndexOf(": key "));
        summary.fromFiles.set(file, (summary.fromFiles.get(file) ?? 0) + 1);
      }
    };
    for (const spec of specs) {
      const onCommandLine = cmd.getOptionValueSource(spec.attr) === "cli";
      if (spec.shape === "tags") {
        this.mergeTags(cmd, spec, tagLayers, onCommandLine, won, summary);
        continue;
      }
      if (onCommandLine) {
        summary.fromFlags.push(spec.flag);
        continue;
      }
      const env = fromEnv.get(spec.flag);
      const given = env ?? fromFiles.get(spec.flag);
      if (!given) continue;
      cmd.setOptionValueWithSource(spec.attr, given.value, env ? "env" : "config");
      won(spec.flag, given.label, env !== undefined);
    }
    this.summary = summary;
    return ok(undefined);
  }

  /** Tags merge by name, lowest source first: files in order, then variables, then the command line. */
  private mergeTags(cmd: Command, spec: FlagSpec, layers: GivenTags[], onCommandLine: boolean, won: (flag: string, label: string, env: boolean) => void, summary: SourceSummary): void {
    const flagged = onCommandLine ? (cmd.getOptionValue(spec.attr) as string[]) : [];
    if (onCommandLine) summary.fromFlags.push(spec.flag);
    // A malformed -tag is left for the flag parser to name, as it was typed.
    if (layers.length === 0 || flagged.some((item) => !parseTags([item]).ok)) return;
    const merged = new Map<string, string>();
    const key = (item: string) => item.slice(0, item.indexOf("="));
    for (const l of layers) for (const item of l.items) merged.set(key(item), item);
    for (const item of flagged) merged.set(key(item), item);
    const top = layers[layers.length - 1]!;
    const topIsEnv = top.label.startsWith(ENV_PREFIX);
    cmd.setOptionValueWithSource(spec.attr, [...merged.values()], onCommandLine ? "cli" : topIsEnv ? "env" : "config");
    if (!onCommandLine) won(spec.flag, top.label, topIsEnv);
    // An error about the merged set (too large) names every source that added to it.
    this.sources.set(spec.flag, [...layers.map((l) => l.label), ...(onCommandLine ? ["the command line"] : [])].join(" + "));
  }

  private readFile(file: string): Result<Record<string, unknown>> {
    let text: string;
    try {
      text = this.fs.readFile(file);
    } catch (e) {
      return fail(`${file}: cannot read this config file (${fsReason(e)})`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return fail(`${file}: not valid JSON: ${jsonErrorText(errorMessage(e), text)}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return fail(`${file}: expected a JSON object of flag names and values, such as {"bind": ":3505", "tag": {"role": "web"}}; got ${describe(value)}`);
    }
    return ok(value as Record<string, unknown>);
  }
}

/** A file's value for one flag, as commander would hold it (tags: the "k=v" items). */
function fromJson(spec: FlagSpec, v: unknown): Result<string | boolean | string[]> {
  switch (spec.shape) {
    case "boolean":
      if (typeof v !== "boolean") return fail(`expected true or false, got ${describe(v)}`);
      return ok(spec.negate ? !v : v);
    case "value":
      if (typeof v === "string") return ok(v);
      if (typeof v === "number" && Number.isFinite(v)) return ok(String(v));
      return fail(`expected a string (what -${spec.flag} takes on the command line), got ${describe(v)}`);
    case "list":
      if (typeof v === "string") return ok(v);
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) return ok(v.join(","));
      return fail(`expected an array of strings such as ["10.0.0.1", "10.0.0.2:3505"], or one comma-separated string; got ${describe(v)}`);
    case "tags":
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) return ok(v);
      if (typeof v === "object" && v !== null && !Array.isArray(v)) {
        const items: string[] = [];
        for (const [k, x] of Object.entries(v)) {
          if (typeof x !== "string" && typeof x !== "number" && typeof x !== "boolean") return fail(`tag "${k}": expected a string, got ${describe(x)}`);
          items.push(`${k}=${String(x)}`);
        }
        return ok(items);
      }
      return fail(`expected an object such as {"role": "web", "dc": "eu1"} or an array of "key=value" strings; got ${describe(v)}`);
    case "repeat":
      if (typeof v === "string") return ok([v]);
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) return ok(v);
      return fail(`expected an array of strings such as ["member-failed=/usr/local/bin/page-oncall"], or one string; got ${describe(v)}`);
  }
}

function fromEnvText(spec: FlagSpec, text: string): Result<string | boolean | string[]> {
  switch (spec.shape) {
    case "boolean": {
      const t = text.trim().toLowerCase();
      if (t !== "true" && t !== "1" && t !== "false" && t !== "0") return fail("expected true or false (or 1 or 0)");
      const on = t === "true" || t === "1";
      return ok(spec.negate ? !on : on);
    }
    case "repeat":
      return ok(
        text
          .split("\n")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      );
    case "tags":
      return ok(
        text
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      );
    default:
      return ok(text);
  }
}

function unknownKey(key: string, specs: FlagSpec[]): string {
  if (COMMAND_LINE_ONLY.has(key)) return `-${key} works only on the command line`;
  // "actions": false for -no-actions, "cli": false for -no-cli.
  const negated = specs.find((s) => s.negate && s.attr === key);
  if (negated) return `unknown key (did you mean "${negated.flag}": true?)`;
  const guess = closest(
    key.replace(/^-+/, ""),
    specs.map((s) => s.flag),
  );
  return `unknown key${guess ? ` (did you mean "${guess}"?)` : `; keys are flag names without the dash (see gossipcheckd -help)`}`;
}

function unknownVariable(name: string, specs: FlagSpec[]): string {
  const flag = name.slice(ENV_PREFIX.length).toLowerCase().replace(/_/g, "-");
  if (COMMAND_LINE_ONLY.has(flag)) return `-${flag} works only on the command line`;
  const guess = closest(
    name,
    specs.map((s) => s.env),
  );
  return `unknown variable${guess ? ` (did you mean ${guess}?)` : `; variables are ${ENV_PREFIX} + a flag name in upper case, dashes as underscores (see gossipcheckd -help)`}`;
}

function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a directory" : errorMessage(e);
}

/** V8's JSON error, with the line and column of its position (Node 20 gives only the position). */
export function jsonErrorText(message: string, text: string): string {
  const m = /at position (\d+)/.exec(message);
  if (!m || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(m[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `${message} (line ${line} column ${column})`;
}

/** The options and where they came from: what the daemon starts (and reloads) with. */
export interface LoadedConfig {
  outcome: FlagsOutcome;
  sources: SourceSummary;
}

/** Parses the command line and everything it names or inherits: config files, config dirs, GOSSIPCHECKD_* variables. */
export function loadDaemonConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, ctx: FlagContext = systemFlagContext(), fs?: ConfigFs): LoadedConfig {
  const layers = new ConfigLayers(env, fs);
  const outcome = parseDaemonFlags(argv, ctx, layers);
  return { outcome, sources: layers.sourceSummary };
}

/** One line: which files, variables and flags the configuration in effect came from. */
export function describeSources(s: SourceSummary): string {
  const parts: string[] = [];
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (s.files.length > 0) {
    const won = [...s.fromFiles.values()].reduce((a, b) => a + b, 0);
    parts.push(`${plural(won, "setting")} from ${plural(s.files.length, "file")} (${s.files.join(", ")})`);
  }
  if (s.fromEnv.length > 0) parts.push(`${s.fromEnv.length} from the environment (${s.fromEnv.join(", ")})`);
  if (s.fromFlags.length > 0) parts.push(`${s.fromFlags.length} from flags (${s.fromFlags.map((f) => "-" + f).join(" ")})`);
  parts.push(parts.length === 0 ? "all defaults" : "the rest defaults");
  return parts.join(", ");
}
