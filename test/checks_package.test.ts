import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { parseCheckObject, runBatch } from "../src/checks/index.js";
import type { CheckResult } from "../src/checks/types.js";

/*
 * The `package` check type (src/checks/package.ts) against this machine's
 * package database: dpkg's where dpkg-query is on PATH (bash and coreutils
 * are installed on every Debian/Ubuntu host), else rpm's; skipped, saying
 * so, on a host with neither.
 */

function tool(): "dpkg-query" | "rpm" | undefined {
  for (const t of ["dpkg-query", "rpm"] as const) {
    try {
      execFileSync(t, ["--version"], { stdio: "ignore" });
      return t;
    } catch {
      // not here
    }
  }
  return undefined;
}
const host = tool();

function versionOf(name: string): string {
  return host === "dpkg-query"
    ? execFileSync("dpkg-query", ["-W", "-f", "${Version}", name], { encoding: "utf8" }).trim()
    : execFileSync("rpm", ["-q", "--qf", "%{VERSION}-%{RELEASE}", name], { encoding: "utf8" }).trim();
}

async function run(fields: Record<string, unknown>): Promise<CheckResult> {
  const parsed = parseCheckObject({ c: { type: "package", ...fields } }, "test");
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.errors.join("; "));
  const [r] = await runBatch(parsed.checks, { batchId: "b", node: "n", runActions: true });
  return r!;
}

describe("package checks", { skip: host === undefined ? "neither dpkg-query nor rpm is on PATH" : false }, () => {
  it("package, installed: bash and coreutils are installed; a package that is not fails, naming the tool", async () => {
    for (const name of ["bash", "coreutils"]) {
      const r = await run({ package: name });
      assert.equal(r.status, "pass", r.message);
      assert.equal(r.message, `package "${name}": installed, version ${versionOf(name)} (${host})`);
    }
    const r = await run({ package: "no-such-package-gossipcheck" });
    assert.equal(r.status, "fail");
    assert.equal(r.message, `package "no-such-package-gossipcheck": not installed (${host}), expected installed`);
  });

  it("installed: false passes for a package that is not installed and fails for one that is", async () => {
    assert.equal((await run({ package: "no-such-package-gossipcheck", installed: false })).status, "pass");
    const r = await run({ package: "bash", installed: false });
    assert.equal(r.status, "fail");
    assert.match(r.message, /installed, version .*, expected not installed/);
  });

  it("versions: passes when the installed version is one of them, exactly", async () => {
    const v = versionOf("bash");
    assert.equal((await run({ package: "bash", versions: ["0.0-0", v] })).status, "pass");
    assert.equal((await run({ package: "bash", versions: v })).status, "pass");
    const r = await run({ package: "bash", versions: ["0.0-0", "0.1-0"] });
    assert.equal(r.status, "fail");
    assert.match(r.message, new RegExp(`version ${v.replace(/[.+]/g, "\\$&")} \\(${host}\\), expected one of "0\\.0-0", "0\\.1-0"`));
  });

  it("validation names each field and what it expects", () => {
    const p = parseCheckObject(
      { a: { type: "package", package: "-a", installed: "yes" }, b: { type: "package", package: "bash", installed: false, versions: ["1"] }, c: { type: "package", versions: [] } },
      "f.json",
    );
    const errors = p.ok ? [] : p.errors;
    assert.ok(
      errors.some((e) => /f\.json: check "a": field "installed": expected true or false/.test(e)),
      errors.join("\n"),
    );
    assert.ok(errors.some((e) => /check "b": field "versions": a version cannot be asked of a package that must not be installed/.test(e)));
    assert.ok(errors.some((e) => /check "c": field "package" is missing/.test(e)));
    assert.ok(errors.some((e) => /check "c": field "versions": expected a string or a non-empty list of strings/.test(e)));
    const q = parseCheckObject({ a: { type: "package", package: "-a" } }, "f.json");
    assert.match(q.ok ? "" : q.errors.join(), /field "package": "-a" starts with "-": a package name cannot start with "-"/);
  });
});
