import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseCheckObject, runBatch } from "../src/checks/index.js";
import type { CheckResult } from "../src/checks/types.js";

/*
 * The `kernel_param` and `mount` check types (src/checks/kernel_param.ts,
 * mount.ts) against this machine's own /proc/sys and /proc/self/mountinfo:
 * kernel.ostype (always "Linux"), a key that does not exist, /proc (type
 * proc), / and a directory that is not a mount point.
 */

async function run(type: string, fields: Record<string, unknown>): Promise<CheckResult> {
  const parsed = parseCheckObject({ c: { type, ...fields } }, "test");
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.errors.join("; "));
  const [r] = await runBatch(parsed.checks, { batchId: "b", node: "n", runActions: true });
  return r!;
}

describe("kernel_param checks", () => {
  it("key: an existing key passes, with dots or slashes; one the kernel lacks fails", async () => {
    assert.deepEqual(await run("kernel_param", { key: "kernel.ostype" }).then((r) => [r.status, r.message]), ["pass", 'kernel_param kernel.ostype = "Linux"']);
    assert.equal((await run("kernel_param", { key: "kernel/ostype" })).status, "pass");
    const r = await run("kernel_param", { key: "kernel.no_such_key_gossipcheck" });
    assert.equal(r.status, "fail");
    assert.equal(r.message, "kernel_param kernel.no_such_key_gossipcheck: no such key (/proc/sys/kernel/no_such_key_gossipcheck does not exist)");
    assert.equal((await run("kernel_param", { key: "kernel" })).status, "error");
  });

  it("value: equal after trimming and collapsing whitespace", async () => {
    assert.equal((await run("kernel_param", { key: "kernel.ostype", value: " Linux\n" })).status, "pass");
    assert.equal((await run("kernel_param", { key: "kernel.ostype", value: "linux" })).message, 'kernel_param kernel.ostype = "Linux", expected "linux"');
    // A multi-value key: the kernel separates with tabs, the check compares with single spaces.
    const raw = readFileSync("/proc/sys/kernel/printk", "utf8");
    assert.ok(raw.includes("\t"));
    assert.equal((await run("kernel_param", { key: "kernel.printk", value: raw.trim().split(/\s+/).join(" ") })).status, "pass");
  });

  it("contains: a substring of the value", async () => {
    assert.equal((await run("kernel_param", { key: "kernel.ostype", contains: "inu" })).status, "pass");
    assert.match((await run("kernel_param", { key: "kernel.ostype", contains: "BSD" })).message, /expected it to contain "BSD"$/);
  });

  it("validation names the key field and what it expects", () => {
    const p = parseCheckObject({ a: { type: "kernel_param", key: "net..ipv4" }, b: { type: "kernel_param", key: "../../etc/passwd" }, c: { type: "kernel_param", value: 1 } }, "f.json");
    const errors = p.ok ? [] : p.errors;
    assert.ok(
      errors.some((e) => /f\.json: check "a": field "key": expected a sysctl key such as "net\.ipv4\.ip_forward"/.test(e)),
      errors.join("\n"),
    );
    assert.ok(errors.some((e) => /check "b": field "key": expected a sysctl key/.test(e)));
    assert.ok(errors.some((e) => /check "c": field "key" is missing/.test(e)));
    assert.ok(errors.some((e) => /check "c": field "value": expected a string/.test(e)));
  });
});

describe("mount checks", () => {
  it("path, exists: /proc and / are mount points; a plain directory is not", async () => {
    const r = await run("mount", { path: "/proc" });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /^mount \/proc: proc from proc, options /);
    assert.equal((await run("mount", { path: "/" })).status, "pass");
    assert.equal((await run("mount", { path: "/proc/" })).status, "pass");
    const no = await run("mount", { path: "/usr/share" });
    assert.equal(no.status, "fail");
    assert.equal(no.message, "mount /usr/share: not a mount point");
    assert.equal((await run("mount", { path: "/usr/share", exists: false })).status, "pass");
    assert.match((await run("mount", { path: "/proc", exists: false })).message, /mounted \(proc .*\), expected nothing mounted/);
  });

  it("filesystem: the mount's type", async () => {
    assert.equal((await run("mount", { path: "/proc", filesystem: "proc" })).status, "pass");
    assert.match((await run("mount", { path: "/proc", filesystem: "tmpfs" })).message, /file system proc, expected tmpfs/);
  });

  it("opts: each among the per-mount and super-block options", async () => {
    const line = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .findLast((l) => l.split(" ")[4] === "/proc")!;
    const f = line.split(" ");
    const perMount = f[5]!.split(",")[0]!;
    const superOpt = f[f.length - 1]!.split(",").at(-1)!;
    assert.equal((await run("mount", { path: "/proc", opts: [perMount, superOpt] })).status, "pass");
    assert.match((await run("mount", { path: "/proc", opts: [perMount, "no-such-option"] })).message, /lacks option "no-such-option"/);
  });

  it("validation names each field and what it expects", () => {
    const p = parseCheckObject({ a: { type: "mount", path: "proc" }, b: { type: "mount", path: "/x", exists: false, filesystem: "tmpfs" }, c: { type: "mount", opts: [] } }, "f.json");
    const errors = p.ok ? [] : p.errors;
    assert.ok(
      errors.some((e) => /f\.json: check "a": field "path": expected an absolute path/.test(e)),
      errors.join("\n"),
    );
    assert.ok(errors.some((e) => /check "b": field "filesystem": cannot be asked of a mount that must not exist/.test(e)));
    assert.ok(errors.some((e) => /check "c": field "path" is missing/.test(e)));
    assert.ok(errors.some((e) => /check "c": field "opts": expected a string or a non-empty list of strings/.test(e)));
  });
});
