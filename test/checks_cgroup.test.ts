import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { actionCgroupBase, findCgroup2Mount, unifiedCgroupPath } from "../src/checks/cgroup.js";

/* Where action cgroups go, read from mountinfo and /proc/self/cgroup texts (the live host is exercised by checks_action_children). */

const v1 = "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n";
const hybrid = v1 + "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

describe("action cgroup location", () => {
  it("finds the cgroup2 mount whatever its path, unescaping it, and not a v1 one", () => {
    assert.deepEqual(findCgroup2Mount(hybrid), { mountPoint: "/sys/fs/cgroup/unified", root: "/" });
    assert.deepEqual(findCgroup2Mount("7 1 0:5 /a /my\\040cgroups rw shared:4 - cgroup2 none rw\n"), { mountPoint: "/my cgroups", root: "/a" });
    assert.equal(findCgroup2Mount(v1), undefined);
  });

  it("reads our unified-hierarchy path from /proc/self/cgroup", () => {
    assert.equal(unifiedCgroupPath("4:memory:/x\n0::/system.slice/gossipcheckd.service\n"), "/system.slice/gossipcheckd.service");
    assert.equal(unifiedCgroupPath("4:memory:/x\n"), undefined);
  });

  it("falls back to the process group, saying why, where there is no usable cgroup2", () => {
    const reason = (mountinfo: string, self: string) => {
      const c = actionCgroupBase(mountinfo, self);
      assert.equal(c.kind, "process group");
      return c.kind === "process group" ? c.reason : "";
    };
    assert.match(reason(v1, "0::/\n"), /no cgroup2 file system is mounted/);
    assert.match(reason(hybrid, "4:memory:/x\n"), /in no cgroup2 group/);
    assert.match(reason(hybrid.replace(" / /sys/fs/cgroup/unified", " /other /sys/fs/cgroup/unified"), "0::/mine\n"), /not visible under the cgroup2 mount/);
    const notCgroupfs = mkdtempSync(join(tmpdir(), "gossipcheck-notcg-"));
    try {
      assert.match(reason(`9 1 0:9 / ${notCgroupfs} rw - cgroup2 cgroup2 rw\n`, "0::/\n"), new RegExp(`${notCgroupfs} is not a cgroup2 directory`));
    } finally {
      rmSync(notCgroupfs, { recursive: true });
    }
  });
});
