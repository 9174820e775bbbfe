import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runDaemonToExit, tempDir } from "../support/proc.js";

/*
 * A -data-dir on a read-only file system is refused with the real reason
 * (EROFS) and the directory at fault, not with the ENOENT that Node's
 * recursive mkdir reports for it. The read-only file system is a tmpfs
 * mounted ro for this test; where mounting is not permitted (not root, no
 * CAP_SYS_ADMIN in a container) the tests are skipped with the reason.
 */

const root = tempDir("gc-rofs-");
const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", root.path], { encoding: "utf8" });
if (mounted.status !== 0) root.cleanup();
const skip = mounted.status === 0 ? false : `cannot mount a read-only tmpfs here (${(mounted.stderr || mounted.error?.message || `exit ${mounted.status}`).trim()})`;

describe("gossipcheckd on a read-only data dir", { skip }, () => {
  before(() => assert.equal(mounted.status, 0));
  after(() => {
    spawnSync("umount", [root.path]);
    root.cleanup();
  });

  const refusal = async (dataDir: string) => {
    const r = await runDaemonToExit(["-bind", "127.0.0.1:0", "-cli-bind", "127.0.0.1:0", "-data-dir", dataDir]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
    return r.stderr;
  };

  it("an existing directory on it: says read-only file system, names it, says what to do", async () => {
    const stderr = await refusal(root.path);
    assert.match(
      stderr,
      new RegExp(
        `^gossipcheckd: -data-dir ${root.path}: cannot write ${root.path}: read-only file system \\(EROFS\\): remount that file system read-write, or choose a directory on a writable file system with -data-dir`,
      ),
    );
    assert.doesNotMatch(stderr, /ENOENT/);
  });

  it("a directory still to be created on it: names the first one that cannot be created, not ENOENT", async () => {
    const dataDir = join(root.path, "state/gossipcheck");
    const stderr = await refusal(dataDir);
    assert.match(stderr, new RegExp(`^gossipcheckd: -data-dir ${dataDir}: cannot create ${join(root.path, "state")}: read-only file system \\(EROFS\\)`));
    assert.doesNotMatch(stderr, /ENOENT/);
  });
});
