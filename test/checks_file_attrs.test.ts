import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, lstatSync, statSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { checksModuleForNobody, runAsNobody } from "./support/as_nobody.js";
import { decodeCheckBatch, encodeCheckBatch } from "../src/checks/codec.js";
import { parseCheckObject } from "../src/checks/index.js";
import type { CheckResult } from "../src/checks/types.js";
import { checkSpec, runOneCheck } from "./support/checks.js";

/*
 * File attributes (src/checks/file_attrs.ts), as file_exists's optional
 * fields and as the `file` type's: each attribute against files this test
 * makes with a known mode, owner, size, content and mtime, a symbolic link,
 * a fifo, a unix socket, a directory, /dev/null and a block device, and the
 * attributes crossing the wire.
 */

let dir: string;
let file: string; // "hello\n", mode 0640, mtime two hours ago
let server: Server;
const content = "hello\n";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gossipcheck-attrs-"));
  file = join(dir, "f");
  await writeFile(file, content);
  await chmod(file, 0o640);
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  await utimes(file, twoHoursAgo, twoHoursAgo);
  await symlink(file, join(dir, "link"));
  execFileSync("mkfifo", [join(dir, "fifo")]);
  await mkdir(join(dir, "d"));
  server = createServer();
  await new Promise<void>((resolve) => server.listen(join(dir, "sock"), resolve));
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const spec = checkSpec;

const run = (fields: Record<string, unknown>): Promise<CheckResult> => runOneCheck(spec(fields));

/** The same expectation judged by file_exists and by file: both must agree. */
async function both(path: string, attrs: Record<string, unknown>): Promise<CheckResult> {
  const a = await run({ type: "file_exists", path, ...attrs });
  const b = await run({ type: "file", path, ...attrs });
  assert.equal(a.status, b.status, `${a.message} / ${b.message}`);
  assert.equal(a.message, b.message);
  return a;
}

describe("file attributes (file_exists and file)", () => {
  it("mode: the permission bits, as 3 or 4 octal digits", async () => {
    assert.equal((await both(file, { mode: "0640" })).status, "pass");
    assert.equal((await both(file, { mode: "640" })).status, "pass");
    const r = await both(file, { mode: "0644" });
    assert.equal(r.status, "fail");
    assert.match(r.message, /exists \(regular file, 6 bytes\): mode 0640, expected 0644/);
  });

  it("owner and group: by name (from /etc/passwd, /etc/group) or by id", async () => {
    const uid = statSync(file).uid;
    assert.equal((await both(file, { owner: uid, group: String(statSync(file).gid) })).status, "pass");
    assert.equal((await both("/etc/passwd", { owner: "root", group: "root" })).status, "pass");
    const r = await both("/etc/passwd", { owner: 4242 });
    assert.equal(r.status, "fail");
    assert.match(r.message, /owner root \(uid 0\), expected uid 4242/);
    const named = await both("/etc/passwd", { group: "nogroup" });
    assert.equal(named.status, "fail");
    assert.match(named.message, /group root \(gid 0\), expected nogroup \(\d+\)/);
  });

  it("an owner name that is not in /etc/passwd is an error, not a guess", async () => {
    const r = await both(file, { owner: "no-such-user-gossipcheck" });
    assert.equal(r.status, "error");
    assert.match(r.message, /owner "no-such-user-gossipcheck" is not in \/etc\/passwd \(give the numeric uid instead\)/);
  });

  it("filetype: what the path itself is, a symbolic link included", async () => {
    const cases: [string, string][] = [
      [file, "file"],
      [join(dir, "d"), "directory"],
      [join(dir, "link"), "symlink"],
      [join(dir, "fifo"), "pipe"],
      [join(dir, "sock"), "socket"],
      ["/dev/null", "character-device"],
    ];
    const block = readdirSync("/dev").find((n) => lstatSync(join("/dev", n)).isBlockDevice());
    if (block) cases.push([join("/dev", block), "block-device"]);
    for (const [path, type] of cases) {
      const r = await both(path, { filetype: type });
      assert.equal(r.status, "pass", r.message);
      assert.match(r.message, new RegExp(`filetype ${type}`));
    }
    const r = await both(join(dir, "link"), { filetype: "file" });
    assert.equal(r.status, "fail");
    assert.match(r.message, /filetype symlink, expected file/);
  });

  it("size: in bytes, exactly", async () => {
    assert.equal((await both(file, { size: 6 })).status, "pass");
    assert.match((await both(file, { size: 7 })).message, /size 6 bytes, expected 7/);
  });

  it("sha256: of the content, streamed (a 20 MB file), and a pipe is refused rather than read forever", async () => {
    const digest = createHash("sha256").update(content).digest("hex");
    assert.equal((await both(file, { sha256: digest.toUpperCase() })).status, "pass");
    assert.match((await both(file, { sha256: "0".repeat(64) })).message, new RegExp(`sha256 ${digest}, expected 0{64}`));
    const big = Buffer.alloc(20 * 1024 * 1024, 7);
    await writeFile(join(dir, "big"), big);
    assert.equal((await both(join(dir, "big"), { sha256: createHash("sha256").update(big).digest("hex") })).status, "pass");
    const r = await both(join(dir, "fifo"), { sha256: digest });
    assert.equal(r.status, "fail");
    assert.match(r.message, /sha256 expected, but it is not a regular file \(pipe\)/);
  });

  it("sha256 of a file it may not read is an error", async (t) => {
    if (process.getuid?.() !== 0) return t.skip("needs root to run the check as nobody");
    await chmod(join(dir, "big"), 0o600);
    const p = join(dir, "big");
    const code = `const { evaluateFileExists } = await import(${JSON.stringify(checksModuleForNobody("file_exists.js"))});
      process.stdout.write(JSON.stringify(await evaluateFileExists(${JSON.stringify(p)}, false, { sha256: ${JSON.stringify("0".repeat(64))} })));`;
    await chmod(dir, 0o755);
    const r = JSON.parse(await runAsNobody(code)) as { status: string; message: string };
    assert.equal(r.status, "error");
    assert.match(r.message, /cannot tell its attributes: permission denied \(EACCES\)/);
  });

  it("max_age: the last modification no older than the duration", async () => {
    assert.equal((await both(file, { max_age: "3h" })).status, "pass");
    const r = await both(file, { max_age: "1h" });
    assert.equal(r.status, "fail");
    assert.match(r.message, /modified 7\d{3} s ago, expected at most 3600 s/);
  });

  it("reports every attribute that differs, and the others it found", async () => {
    const r = await both(file, { mode: "0600", size: 6, filetype: "directory" });
    assert.equal(r.status, "fail");
    assert.match(r.message, /filetype file, expected directory; mode 0640, expected 0600/);
    const ok = await both(file, { mode: "0640", size: 6 });
    assert.match(ok.message, /: mode 0640, size 6 bytes$/);
  });

  it("a missing file fails as before, whatever attributes were asked", async () => {
    const r = await both(join(dir, "none"), { mode: "0644" });
    assert.equal(r.status, "fail");
    assert.match(r.message, /does not exist/);
  });

  it("file_exists without attributes is the original check, spec and message", async () => {
    const s = spec({ type: "file_exists", path: file });
    assert.deepEqual(s, { name: "c", type: "file_exists", path: file });
    assert.equal((await run({ type: "file_exists", path: file })).message, `${file} exists (regular file, 6 bytes)`);
  });

  it("file with exists false passes when the path is absent and fails when present", async () => {
    const absent = await run({ type: "file", path: join(dir, "none"), exists: false });
    assert.equal(absent.status, "pass");
    assert.match(absent.message, /does not exist/);
    const present = await run({ type: "file", path: file, exists: false });
    assert.equal(present.status, "fail");
    assert.match(present.message, /exists \(regular file, 6 bytes\), expected it not to exist/);
  });

  it("attributes cross the wire (file_exists's in params_json too) and are validated again on receipt", () => {
    const checks = [
      spec({ type: "file_exists", path: file, mode: "0640", owner: 0, max_age: "90s", sha256: "a".repeat(64) }),
      { ...spec({ type: "file", path: file, exists: true, group: "root", max_age: 30, filetype: "file" }), name: "d" },
    ];
    assert.equal(checks[0]!.params!.max_age, 90_000);
    const decoded = decodeCheckBatch(encodeCheckBatch({ checks, dryRun: false, targetNodes: [], targetTags: {} }));
    assert.ok(decoded.ok, decoded.ok ? "" : decoded.errors.join());
    assert.deepEqual(decoded.batch.checks, checks);
    const forged = decodeCheckBatch(encodeCheckBatch({ checks: [{ ...checks[0]!, params: { mode: "999" } }], dryRun: false, targetNodes: [], targetTags: {} }));
    assert.match(forged.ok ? "" : forged.errors.join(), /field "mode": expected 3 or 4 octal digits/);
    const shadow = decodeCheckBatch(encodeCheckBatch({ checks: [{ ...checks[0]!, params: { path: "/etc/shadow" } }], dryRun: false, targetNodes: [], targetTags: {} }));
    assert.match(shadow.ok ? "" : shadow.errors.join(), /params may not carry path/);
  });

  it("validation names each field and what it expects", () => {
    const p = parseCheckObject(
      {
        a: { type: "file_exists", path: "/x", mode: "rw-r--r--", filetype: "dir", sha256: "xyz", size: -1, max_age: "soon", exists: true },
        b: { type: "file_contains", path: "/x", check: "y", owner: "root" },
        c: { type: "file", path: "/x", exists: false, mode: "0644" },
        d: { type: "file", owner: "a b" },
      },
      "f.json",
    );
    const errors = p.ok ? [] : p.errors;
    const want = [
      /check "a": field "size": expected a whole number from 0 to \d+ \(the size in bytes\), got number -1/,
      /check "a": field "max_age": expected a duration .* got the string "soon"/,
      /check "a": field "exists" is not used by file_exists, which always expects the file to exist/,
      /check "b": field "owner" is not used by file_contains: only file_exists and file check a file's attributes/,
      /check "c": field "exists" is false, so "mode" cannot be judged/,
      /check "d": field "path" is missing: the path of the file/,
      /check "d": field "owner": expected a name or a numeric id/,
    ];
    for (const w of want)
      assert.ok(
        errors.some((e) => w.test(e)),
        `${w}\n${errors.join("\n")}`,
      );
    const rules = parseCheckObject({ a: { type: "file_exists", path: "/x", mode: "rw-r--r--", filetype: "dir", sha256: "xyz" } }, "f.json");
    const ruleErrors = rules.ok ? "" : rules.errors.join("\n");
    assert.match(ruleErrors, /field "mode": expected 3 or 4 octal digits such as "0644", got "rw-r--r--"/);
    assert.match(ruleErrors, /field "filetype": expected one of file, directory, symlink, character-device, block-device, pipe, socket, got "dir"/);
    assert.match(ruleErrors, /field "sha256": expected 64 hexadecimal digits, got "xyz"/);
  });
});
