import type { CheckRunContext, CheckTypeDef } from "./check_type.js";
import { quote, type Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";
import { firstLine, notAnOption, runTool, type ToolOptions } from "./tool.js";

/*
 * `package`: whether a package is installed, and optionally in which version,
 * asked of the host's package database: dpkg-query where it is on PATH
 * (Debian, Ubuntu), else rpm (Fedora, RHEL, SUSE); an error when neither is.
 * `versions` lists the versions that pass, compared exactly with what the
 * tool prints (dpkg: "5.2.15-2+b8", with any epoch "1:2.3-4"; rpm:
 * VERSION-RELEASE, "5.2.26-3.fc40"). A package installed in several versions
 * or architectures (rpm's kernel, dpkg's multi-arch) passes when any of them
 * is listed.
 */

export const packageCheck: CheckTypeDef = {
  type: "package",
  subject: "package",
  fields: {
    package: { type: { kind: "string" }, required: true, doc: 'the package name, as the package manager knows it ("openssh-server")' },
    installed: { type: { kind: "boolean" }, doc: "true (default): the package is installed; false: it is not" },
    versions: { type: { kind: "strings" }, doc: 'the installed version must be one of these, exactly as dpkg-query or rpm print it ("5.2.15-2+b8")' },
  },
  rules(p, field) {
    const errors = [notAnOption(p.package as string, "a package name")].filter((m) => m !== "").map((m) => `${field("package")}: ${m}`);
    if (p.installed === false && p.versions !== undefined) errors.push(`${field("versions")}: a version cannot be asked of a package that must not be installed ("installed": false): remove one`);
    return errors;
  },
  evaluate: (p, ctx) => evaluatePackage(p, ctx),
};

interface Installed {
  tool: string;
  /** Installed versions; empty when the package is not installed. */
  versions: string[];
}

async function evaluatePackage(p: Params, ctx: CheckRunContext): Promise<Evaluation> {
  const name = p.package as string;
  const label = `package ${quote(name)}`;
  const looked = await ctx.memo(`package:${name}`, () => lookupInBatch(name, ctx));
  if (typeof looked === "string") return { status: "error", message: `${label}: cannot look: ${looked}` };
  const wantInstalled = (p.installed as boolean | undefined) ?? true;
  const versions = p.versions as string[] | undefined;
  const found = looked.versions.length === 0 ? `not installed (${looked.tool})` : `installed, version ${looked.versions.join(", ")} (${looked.tool})`;
  if (looked.versions.length === 0) return wantInstalled ? { status: "fail", message: `${label}: ${found}, expected installed` } : { status: "pass", message: `${label}: ${found}` };
  if (!wantInstalled) return { status: "fail", message: `${label}: ${found}, expected not installed` };
  if (versions !== undefined && !looked.versions.some((v) => versions.includes(v))) {
    return { status: "fail", message: `${label}: ${found}, expected ${versions.length === 1 ? "version" : "one of"} ${versions.map((v) => quote(v)).join(", ")}` };
  }
  return { status: "pass", message: `${label}: ${found}` };
}

/** A plain Debian package name: no architecture qualifier and nothing dpkg-query would read as a glob pattern. */
const PLAIN_DPKG_NAME = /^[a-z0-9][a-z0-9+.-]*$/;

/**
 * The installed versions of `name`, looked up with every plain package name
 * of the batch in one dpkg-query run (a run costs a process and a read of
 * the whole status database, so 300 package checks would otherwise spawn
 * 300 of them); a name that is not plain, or a host without dpkg-query, is
 * asked on its own (installedVersions).
 */
async function lookupInBatch(name: string, ctx: CheckRunContext): Promise<Installed | string> {
  const opts = { timeoutMs: ctx.timeoutMs };
  if (!PLAIN_DPKG_NAME.test(name)) return installedVersions(name, opts);
  const names = [...new Set(ctx.checks.filter((c) => c.type === "package").map((c) => c.params?.package))].filter((n): n is string => typeof n === "string" && PLAIN_DPKG_NAME.test(n));
  const all = await ctx.memo("package:dpkg-query batch", () => dpkgVersions(names.includes(name) ? names : [...names, name], opts));
  if (all === "missing") return installedVersions(name, opts);
  if (typeof all === "string") return all;
  return { tool: "dpkg-query", versions: all.get(name) ?? [] };
}

/** Installed versions by package name for `names` (one dpkg-query run); "missing" when dpkg-query is not on PATH. */
export async function dpkgVersions(names: readonly string[], opts: ToolOptions = {}): Promise<Map<string, string[]> | string> {
  const run = await runTool("dpkg-query", ["-W", "-f", "${Package}\t${Status}\t${Version}\n", "--", ...names], opts);
  if (!run.ok) return run.error;
  // Exit 1 when some name is unknown to dpkg ("no packages found matching"): those are not installed; the others are listed.
  if (run.value.code !== 0 && !(run.value.code === 1 && /no packages found/i.test(run.value.stderr))) return `dpkg-query exited ${run.value.code}: ${quote(firstLine(run.value.stderr))}`;
  const out = new Map<string, string[]>();
  for (const line of run.value.stdout.split("\n")) {
    const [pkg, status, version] = line.split("\t");
    if (pkg === undefined || status?.trim().split(/\s+/)[2] !== "installed") continue;
    const list = out.get(pkg) ?? [];
    list.push((version ?? "").trim());
    out.set(pkg, list);
  }
  return out;
}

/** The installed versions of `name` by dpkg-query, else rpm; or why neither could say. */
export async function installedVersions(name: string, opts: ToolOptions = {}): Promise<Installed | string> {
  const dpkg = await runTool("dpkg-query", ["-W", "-f", "${Status}\\t${Version}\\n", name], opts);
  if (dpkg.ok) {
    // Exit 1 with "no packages found matching": dpkg never knew it.
    if (dpkg.value.code === 1 && /no packages found/i.test(dpkg.value.stderr)) return { tool: "dpkg-query", versions: [] };
    if (dpkg.value.code !== 0) return `dpkg-query exited ${dpkg.value.code}: ${quote(firstLine(dpkg.value.stderr))}`;
    // Status "install ok installed"; a removed package keeps a line ("deinstall ok config-files", "unknown ok not-installed").
    const versions = dpkg.value.stdout
      .split("\n")
      .map((l) => l.split("\t"))
      .filter(([status]) => status?.trim().split(/\s+/)[2] === "installed")
      .map(([, v]) => (v ?? "").trim());
    return { tool: "dpkg-query", versions };
  }
  if (dpkg.error !== "missing") return dpkg.error;
  const rpm = await runTool("rpm", ["-q", "--qf", "%{VERSION}-%{RELEASE}\\n", name], opts);
  if (!rpm.ok) return rpm.error === "missing" ? "neither dpkg-query nor rpm is on PATH" : rpm.error;
  if (rpm.value.code === 1 && /is not installed/.test(rpm.value.stdout + rpm.value.stderr)) return { tool: "rpm", versions: [] };
  if (rpm.value.code !== 0) return `rpm -q exited ${rpm.value.code}: ${quote(firstLine(rpm.value.stderr || rpm.value.stdout))}`;
  return {
    tool: "rpm",
    versions: rpm.value.stdout
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== ""),
  };
}
