import { readFile } from "node:fs/promises";
import type { CheckRunContext, CheckTypeDef } from "./check_type.js";
import { fsReason, quote, type Evaluation } from "./evaluation.js";
import type { FieldSpec, Params } from "./fields.js";
import { notAnOption, runTool, type ToolOptions } from "./tool.js";

/*
 * `user` and `group`: an account exists (or not) with the given ids, home,
 * shell and memberships. Looked up with getent (and `id -Gn` for a user's
 * groups) where they are on PATH, so every NSS source the host uses counts
 * (LDAP, SSSD, systemd-homed, not only the files); where getent is missing
 * (a minimal image), /etc/passwd and /etc/group are read instead and NSS
 * sources are not consulted. The message names the source.
 */

const ID = { kind: "integer", min: 0, max: 4294967294 } as const;

const exists: FieldSpec = { type: { kind: "boolean" }, doc: "true (default): it exists; false: it does not" };

export const userCheck: CheckTypeDef = {
  type: "user",
  subject: "user",
  fields: {
    user: { type: { kind: "string" }, required: true, doc: 'the user name ("www-data")' },
    exists,
    uid: { type: ID, doc: "the user's numeric id" },
    gid: { type: ID, doc: "the numeric id of the user's primary group (user) or of the group (group)" },
    groups: { type: { kind: "strings" }, doc: "groups the user must be in (by name; the primary group counts)" },
    home: { type: { kind: "string" }, doc: "the user's home directory" },
    shell: { type: { kind: "string" }, doc: "the user's login shell" },
  },
  rules: (p, field) => accountRules(p, field, "user", ["uid", "gid", "groups", "home", "shell"]),
  evaluate: (p, ctx) => evaluateUser(p, ctx),
};

export const groupCheck: CheckTypeDef = {
  type: "group",
  subject: "group",
  fields: {
    group: { type: { kind: "string" }, required: true, doc: 'the group name ("docker")' },
    exists,
    gid: userCheck.fields.gid!,
  },
  rules: (p, field) => accountRules(p, field, "group", ["gid"]),
  evaluate: (p, ctx) => evaluateGroup(p, ctx),
};

function accountRules(p: Params, field: (f: string) => string, subject: string, details: string[]): string[] {
  const errors = [notAnOption(p[subject] as string, `a ${subject} name`)].filter((m) => m !== "").map((m) => `${field(subject)}: ${m}`);
  if (p.exists === false) {
    for (const d of details) if (p[d] !== undefined) errors.push(`${field(d)}: cannot be asked of a ${subject} that must not exist ("exists": false): remove one`);
  }
  return errors;
}

interface Passwd {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

interface Group {
  name: string;
  gid: number;
  members: string[];
}

/** Where accounts were looked up, for messages: "getent" or "/etc/passwd". */
type Source = string;

async function evaluateUser(p: Params, ctx: CheckRunContext): Promise<Evaluation> {
  const name = p.user as string;
  const label = `user ${quote(name)}`;
  const opts = { timeoutMs: ctx.timeoutMs };
  const looked = await ctx.memo(`user:${name}`, () => lookupInBatch("passwd", name, ctx, parsePasswd, lookupPasswd));
  if (typeof looked === "string") return { status: "error", message: `${label}: cannot look: ${looked}` };
  const [entry, source] = looked;
  const wantExists = (p.exists as boolean | undefined) ?? true;
  if (entry === undefined) return wantExists ? { status: "fail", message: `${label}: no such user (${source})` } : { status: "pass", message: `${label}: no such user (${source})` };
  const found = `uid ${entry.uid}, gid ${entry.gid}, home ${entry.home}, shell ${entry.shell}`;
  if (!wantExists) return { status: "fail", message: `${label}: exists (${found}; ${source}), expected no such user` };
  const problems: string[] = [];
  if (p.uid !== undefined && p.uid !== entry.uid) problems.push(`uid ${entry.uid}, expected ${p.uid}`);
  if (p.gid !== undefined && p.gid !== entry.gid) problems.push(`gid ${entry.gid}, expected ${p.gid}`);
  if (p.home !== undefined && p.home !== entry.home) problems.push(`home ${quote(entry.home)}, expected ${quote(p.home as string)}`);
  if (p.shell !== undefined && p.shell !== entry.shell) problems.push(`shell ${quote(entry.shell)}, expected ${quote(p.shell as string)}`);
  let inGroups = "";
  if (p.groups !== undefined) {
    const groups = await ctx.memo(`user-groups:${name}`, () => groupsOf(entry, source, opts));
    if (typeof groups === "string") return { status: "error", message: `${label}: cannot look up its groups: ${groups}` };
    const missing = (p.groups as string[]).filter((g) => !groups.includes(g));
    if (missing.length > 0) problems.push(`not in ${missing.map((g) => quote(g)).join(", ")}`);
    inGroups = `, groups ${groups.join(" ")}`;
  }
  const msg = `${label}: ${found}${inGroups} (${source})`;
  return problems.length === 0 ? { status: "pass", message: msg } : { status: "fail", message: `${label}: ${problems.join("; ")} (${source})` };
}

async function evaluateGroup(p: Params, ctx: CheckRunContext): Promise<Evaluation> {
  const name = p.group as string;
  const label = `group ${quote(name)}`;
  const looked = await ctx.memo(`group:${name}`, () => lookupInBatch("group", name, ctx, parseGroup, lookupGroup));
  if (typeof looked === "string") return { status: "error", message: `${label}: cannot look: ${looked}` };
  const [entry, source] = looked;
  const wantExists = (p.exists as boolean | undefined) ?? true;
  if (entry === undefined) return wantExists ? { status: "fail", message: `${label}: no such group (${source})` } : { status: "pass", message: `${label}: no such group (${source})` };
  if (!wantExists) return { status: "fail", message: `${label}: exists (gid ${entry.gid}; ${source}), expected no such group` };
  if (p.gid !== undefined && p.gid !== entry.gid) return { status: "fail", message: `${label}: gid ${entry.gid}, expected ${p.gid} (${source})` };
  return { status: "pass", message: `${label}: gid ${entry.gid} (${source})` };
}

/**
 * The entry for `name`, looked up with every name the batch's checks of
 * that kind ask about in one `getent DB NAME...` run (getent prints each
 * entry it finds, exit 2 when some are not found), so 300 user checks spawn
 * one getent, not 300. Where getent is missing or fails, each name is asked
 * on its own (`single`), which says why.
 */
async function lookupInBatch<T extends { name: string }>(
  db: "passwd" | "group",
  name: string,
  ctx: CheckRunContext,
  parse: (line: string) => T | undefined,
  single: (name: string, opts: ToolOptions) => Promise<[T | undefined, Source] | string>,
): Promise<[T | undefined, Source] | string> {
  const opts = { timeoutMs: ctx.timeoutMs };
  const field = db === "passwd" ? "user" : "group";
  const names = [...new Set(ctx.checks.filter((c) => c.type === field).map((c) => c.params?.[field]))].filter((n): n is string => typeof n === "string" && !n.startsWith("-"));
  const all = await ctx.memo(`getent ${db} batch`, async () => {
    const run = await runTool("getent", [db, ...(names.includes(name) ? names : [...names, name])], opts);
    if (!run.ok || (run.value.code !== 0 && run.value.code !== 2)) return undefined;
    const entries = new Map<string, T>();
    for (const line of run.value.stdout.split("\n")) {
      const e = parse(line);
      // getent takes a number as an id ("0" finds root): entries are kept by their name, so only an entry by that name counts.
      if (e !== undefined && !entries.has(e.name)) entries.set(e.name, e);
    }
    return entries;
  });
  if (all === undefined) return single(name, opts);
  return [all.get(name), "getent"];
}

/** getent's answer for one key of a database: the line, undefined when not found, or why it could not say; "missing" when getent is not on PATH. */
async function getent(db: string, key: string, opts: ToolOptions): Promise<string | undefined | { error: string }> {
  const run = await runTool("getent", [db, key], opts);
  if (!run.ok) return { error: run.error };
  // Exit 2: key not found; 0: found.
  if (run.value.code === 2) return undefined;
  if (run.value.code !== 0) return { error: `getent ${db} exited ${run.value.code}${run.value.stderr.trim() ? `: ${quote(run.value.stderr.trim())}` : ""}` };
  return run.value.stdout.split("\n")[0];
}

async function lookupPasswd(name: string, opts: ToolOptions): Promise<[Passwd | undefined, Source] | string> {
  const line = await getent("passwd", name, opts);
  if (typeof line === "object" && line.error !== "missing") return line.error;
  // getent takes a number as a uid ("0" finds root): only an entry by that name counts.
  if (typeof line !== "object") return [line === undefined ? undefined : named(parsePasswd(line), name), "getent"];
  const text = await readText("/etc/passwd");
  if (text.error !== undefined) return text.error;
  const entry = text.lines.map(parsePasswd).find((e) => e?.name === name);
  return [entry, "/etc/passwd; getent is not on PATH, so NSS sources such as LDAP were not consulted"];
}

async function lookupGroup(name: string, opts: ToolOptions): Promise<[Group | undefined, Source] | string> {
  const line = await getent("group", name, opts);
  if (typeof line === "object" && line.error !== "missing") return line.error;
  if (typeof line !== "object") return [line === undefined ? undefined : named(parseGroup(line), name), "getent"];
  const text = await readText("/etc/group");
  if (text.error !== undefined) return text.error;
  const entry = text.lines.map(parseGroup).find((e) => e?.name === name);
  return [entry, "/etc/group; getent is not on PATH, so NSS sources such as LDAP were not consulted"];
}

/** The names of the groups a user is in, the primary group included: `id -Gn` with getent, else /etc/group. */
async function groupsOf(user: Passwd, source: Source, opts: ToolOptions): Promise<string[] | string> {
  if (source === "getent") {
    const run = await runTool("id", ["-Gn", user.name], opts);
    if (run.ok && run.value.code === 0) return run.value.stdout.trim().split(/\s+/);
    if (!run.ok && run.error !== "missing") return run.error;
    if (run.ok) return `id -Gn exited ${run.value.code}: ${quote(run.value.stderr.trim())}`;
  }
  const text = await readText("/etc/group");
  if (text.error !== undefined) return text.error;
  const groups = text.lines.map(parseGroup).filter((g): g is Group => g !== undefined);
  return groups.filter((g) => g.gid === user.gid || g.members.includes(user.name)).map((g) => g.name);
}

function named<T extends { name: string }>(entry: T | undefined, name: string): T | undefined {
  return entry?.name === name ? entry : undefined;
}

function parsePasswd(line: string | undefined): Passwd | undefined {
  const f = (line ?? "").split(":");
  if (f.length < 7) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]!.trim() };
}

function parseGroup(line: string | undefined): Group | undefined {
  const f = (line ?? "").split(":");
  if (f.length < 4) return undefined;
  const members = f[3]!.trim();
  return { name: f[0]!, gid: Number(f[2]), members: members === "" ? [] : members.split(",") };
}

async function readText(path: string): Promise<{ lines: string[]; error?: undefined } | { error: string }> {
  try {
    return { lines: (await readFile(path, "utf8")).split("\n") };
  } catch (e) {
    return { error: `cannot read ${path}: ${fsReason(e)}` };
  }
}
