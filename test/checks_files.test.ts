import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, open, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { checksModuleForNobody, runAsNobody } from "./support/as_nobody.js";
import { evaluateFileContains, searchFile, SMALL_FILE_BYTES } from "../src/checks/file_contains.js";
import { evaluateFileExists } from "../src/checks/file_exists.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gossipcheck-files-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const isRoot = process.getuid?.() === 0;
/**
 * Runs one evaluator in a child process as user nobody (uid 65534), so a
 * permission-denied path can be tested while the suite runs as root (root
 * reads everything). Returns the evaluator's result.
 */
async function asNobody(call: string): Promise<{ status: string; message: string }> {
  const code = `
    const { evaluateFileExists } = await import(${JSON.stringify(checksModuleForNobody("file_exists.js"))});
    const { evaluateFileContains } = await import(${JSON.stringify(checksModuleForNobody("file_contains.js"))});
    process.stdout.write(JSON.stringify(await ${call}));`;
  return JSON.parse(await runAsNobody(code)) as { status: string; message: string };
}

/** A directory only root can enter, holding a readable file: nobody gets EACCES on anything inside. */
async function lockedPath(): Promise<string> {
  const locked = join(dir, "locked");
  await mkdir(locked, { recursive: true });
  await writeFile(join(locked, "secret"), "needle");
  await chmod(locked, 0o700);
  return join(locked, "secret");
}

describe("file_exists", () => {
  it("passes for an existing file and says what it is", async () => {
    const p = join(dir, "present");
    await writeFile(p, "12345");
    assert.deepEqual(await evaluateFileExists(p), { status: "pass", message: `${p} exists (regular file, 5 bytes)` });
    assert.deepEqual(await evaluateFileExists(dir), { status: "pass", message: `${dir} exists (directory)` });
  });

  it("fails for a missing file", async () => {
    const p = join(dir, "absent");
    assert.deepEqual(await evaluateFileExists(p), { status: "fail", message: `${p} does not exist` });
  });

  it("fails for a dangling symbolic link, naming its target", async () => {
    const p = join(dir, "dangling");
    await symlink(join(dir, "nowhere"), p);
    assert.deepEqual(await evaluateFileExists(p), { status: "fail", message: `${p} does not exist (it is a symbolic link to ${join(dir, "nowhere")}, which does not exist)` });
  });

  it("is an error, not a pass, for a path through a non-directory (ENOTDIR)", async () => {
    const file = join(dir, "plain");
    await writeFile(file, "x");
    const r = await evaluateFileExists(join(file, "x"));
    assert.deepEqual(r, { status: "error", message: `cannot tell whether ${join(file, "x")} exists: a component of the path is not a directory (ENOTDIR)` });
  });

  it("is an error for a symbolic link loop (ELOOP)", async () => {
    await symlink(join(dir, "loop-b"), join(dir, "loop-a"));
    await symlink(join(dir, "loop-a"), join(dir, "loop-b"));
    const r = await evaluateFileExists(join(dir, "loop-a"));
    assert.equal(r.status, "error");
    assert.match(r.message, /too many levels of symbolic links \(ELOOP\)/);
  });

  it("is an error for permission denied (EACCES)", async (t) => {
    const p = await lockedPath();
    if (isRoot) {
      assert.deepEqual(await asNobody(`evaluateFileExists(${JSON.stringify(p)})`), { status: "error", message: `cannot tell whether ${p} exists: permission denied (EACCES)` });
    } else {
      await chmod(join(dir, "locked"), 0o000);
      t.after(() => chmod(join(dir, "locked"), 0o700));
      assert.deepEqual(await evaluateFileExists(p), { status: "error", message: `cannot tell whether ${p} exists: permission denied (EACCES)` });
    }
  });
});

describe("file_contains", () => {
  it("passes with the byte offset of the first match", async () => {
    const p = join(dir, "resolv.conf");
    await writeFile(p, "nameserver 1.1.1.1\nnameserver 8.8.8.8\nnameserver 8.8.8.8\n");
    assert.deepEqual(await evaluateFileContains(p, "8.8.8.8"), { status: "pass", message: `found "8.8.8.8" in ${p} at byte 30` });
  });

  it("fails when the text is absent, saying how much was searched", async () => {
    const p = join(dir, "hosts");
    await writeFile(p, "127.0.0.1 localhost\n");
    assert.deepEqual(await evaluateFileContains(p, "8.8.8.8"), { status: "fail", message: `"8.8.8.8" not found in ${p} (searched 20 bytes)` });
  });

  it("fails for a missing file (an action can create it)", async () => {
    const p = join(dir, "absent.conf");
    assert.deepEqual(await evaluateFileContains(p, "x"), { status: "fail", message: `${p} does not exist, so it does not contain "x"` });
  });

  it("finds a match at every position around chunk boundaries", async () => {
    const chunk = 8;
    const needle = Buffer.from("NEEDLE");
    for (let at = 0; at <= 4 * chunk; at++) {
      const p = join(dir, `boundary-${at}`);
      // Near-misses ("NEEDL" then a wrong byte) before the match must not confuse the overlap.
      const content = Buffer.concat([Buffer.from("NEEDLxNEEDx".repeat(4)).subarray(0, at), needle, Buffer.from("tail")]);
      await writeFile(p, content);
      const r = await searchFile(p, needle, chunk);
      assert.equal(r.offset, content.indexOf(needle), `needle at ${at} with ${chunk}-byte chunks`);
    }
  });

  it("finds a needle longer than the chunk", async () => {
    const p = join(dir, "long-needle");
    const needle = Buffer.from("0123456789abcdefghij".repeat(5));
    await writeFile(p, Buffer.concat([Buffer.alloc(1000, "z"), needle]));
    assert.deepEqual(await searchFile(p, needle, 16), { offset: 1000, scannedBytes: 1100 });
  });

  it("a small file read in one go and the same file streamed give the same answer, on both sides of the small-file size", async () => {
    const needle = Buffer.from("MARK");
    for (const size of [5, 4096, SMALL_FILE_BYTES, SMALL_FILE_BYTES + 1]) {
      for (const at of [0, size - needle.length, -1]) {
        const p = join(dir, `small-${size}-${at}`);
        const content = Buffer.alloc(size, "a");
        if (at >= 0) needle.copy(content, at);
        await writeFile(p, content);
        const whole = await searchFile(p, needle);
        assert.deepEqual(whole, { offset: at >= 0 ? at : null, scannedBytes: size }, `size ${size}, match at ${at}`);
        assert.equal((await searchFile(p, needle, 1024)).offset, whole.offset, `size ${size}, match at ${at}, 1 KiB chunks`);
      }
    }
  });

  it("searches a file many times the chunk size, with a match straddling a boundary and one at the very end", async () => {
    const chunk = 64 * 1024;
    const size = 200 * chunk; // 12.5 MiB
    const p = join(dir, "big.log");
    const fh = await open(p, "w");
    const line = Buffer.from("2024-01-01 INFO nothing to see here\n");
    const block = Buffer.alloc(chunk);
    for (let i = 0; i < chunk; i += line.length) line.copy(block, i);
    for (let i = 0; i < size / chunk; i++) await fh.write(block);
    const middle = Buffer.from("ERROR disk full");
    const at = 117 * chunk - 7; // straddles the 117th boundary
    await fh.write(middle, 0, middle.length, at);
    await fh.write(Buffer.from("LAST-LINE-MARKER"), 0, 16, size - 16);
    await fh.close();
    assert.equal((await searchFile(p, middle, chunk)).offset, at);
    assert.deepEqual(await searchFile(p, Buffer.from("LAST-LINE-MARKER"), chunk), { offset: size - 16, scannedBytes: size });
    assert.deepEqual(await searchFile(p, Buffer.from("not in there"), chunk), { offset: null, scannedBytes: size });
    // The default chunk too (4 MiB: the file is about three of them).
    assert.deepEqual(await evaluateFileContains(p, "LAST-LINE-MARKER"), { status: "pass", message: `found "LAST-LINE-MARKER" in ${p} at byte ${size - 16}` });
  });

  it("is binary-safe: NUL and non-ASCII bytes in the file and in the needle", async () => {
    const p = join(dir, "blob.bin");
    const bytes = Buffer.alloc(300_000);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const needle = "\u0000grüße\u00ff\u0000";
    Buffer.from(needle, "utf8").copy(bytes, 250_001);
    await writeFile(p, bytes);
    const expected = bytes.indexOf(Buffer.from(needle, "utf8"));
    assert.ok(expected >= 0 && expected <= 250_001);
    const r = await evaluateFileContains(p, needle, 4096);
    assert.equal(r.status, "pass");
    assert.ok(r.message.endsWith(`at byte ${expected}`), r.message);
  });

  it("reads /proc files, whose size is reported as 0", async () => {
    const r = await evaluateFileContains("/proc/self/status", "Name:");
    assert.equal(r.status, "pass", r.message);
  });

  it("is an error for a directory", async () => {
    assert.deepEqual(await evaluateFileContains(dir, "x"), { status: "error", message: `cannot search ${dir} for "x": ${dir} is a directory, not a regular file` });
  });

  it("is an error for a named pipe, without blocking on it", async (t) => {
    const fifo = join(dir, "fifo");
    if (spawnSync("mkfifo", [fifo]).status !== 0) return t.skip("mkfifo is not available");
    assert.deepEqual(await evaluateFileContains(fifo, "x"), { status: "error", message: `cannot search ${fifo} for "x": ${fifo} is a named pipe, not a regular file` });
  });

  it("is an error for an unreadable file", async (t) => {
    const p = await lockedPath();
    if (isRoot) {
      assert.deepEqual(await asNobody(`evaluateFileContains(${JSON.stringify(p)}, "needle")`), { status: "error", message: `cannot search ${p} for "needle": permission denied (EACCES)` });
    } else {
      await chmod(p, 0o000);
      t.after(() => chmod(p, 0o600));
      assert.deepEqual(await evaluateFileContains(p, "needle"), { status: "error", message: `cannot search ${p} for "needle": permission denied (EACCES)` });
    }
  });

  it("shortens a long needle in its message", async () => {
    const p = join(dir, "short");
    await writeFile(p, "x");
    const r = await evaluateFileContains(p, "y".repeat(500));
    assert.equal(r.message, `${JSON.stringify("y".repeat(80))}… (500 characters) not found in ${p} (searched 1 bytes)`);
  });
});

describe("synchronous mode (every mounted file system local)", () => {
  it("gives the same result as the thread pool for every kind of path", async () => {
    const file = join(dir, "sync-file");
    await writeFile(file, "alpha needle omega");
    const big = join(dir, "sync-big");
    await writeFile(big, Buffer.concat([Buffer.alloc(SMALL_FILE_BYTES + 10, 0x61), Buffer.from("needle")]));
    const dangling = join(dir, "sync-dangling");
    await symlink(join(dir, "sync-nowhere"), dangling);
    const absent = join(dir, "sync-absent");
    for (const p of [file, big, dir, absent, dangling]) {
      assert.deepEqual(await evaluateFileExists(p, true), await evaluateFileExists(p, false), p);
      for (const needle of ["needle", "missing"]) {
        assert.deepEqual(await evaluateFileContains(p, needle, undefined, true), await evaluateFileContains(p, needle, undefined, false), `${p} / ${needle}`);
      }
    }
    assert.equal((await evaluateFileContains(big, "needle", undefined, true)).status, "pass");
  });
});
