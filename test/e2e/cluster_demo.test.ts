import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ROOT, runNode, tempDir } from "../support/proc.js";

/*
 * `npm run demo` (dist/scripts/demo.js) runs to completion: five daemons
 * form a cluster, the demo check file runs on all of them with its fixable
 * check fixed, and afterwards no daemon process and no directory is left.
 * The check file is examples/checks/demo.json with its marker moved into a
 * temp dir, so this test never races others over /tmp/gossipcheck-demo.
 */

const DEMO = join(ROOT, "dist/scripts/demo.js");
const t = tempDir("gc-demo-test-");
after(() => t.cleanup());

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the demo", () => {
  it("starts five daemons, shows every node's results, fixes the marker, then stops and cleans up", async () => {
    const demo = JSON.parse(readFileSync(join(ROOT, "examples/checks/demo.json"), "utf8")) as Record<string, { path: string; action?: string }>;
    const original = demo.demo_marker_exists!.path;
    const marker = join(t.path, "marker");
    demo.demo_marker_exists!.path = marker;
    demo.demo_marker_exists!.action = demo.demo_marker_exists!.action!.replaceAll(original.slice(0, original.lastIndexOf("/")), t.path);
    const file = join(t.path, "demo.json");
    writeFileSync(file, JSON.stringify(demo));
    writeFileSync(marker, "left over from an earlier run"); // the demo removes it first

    const r = await runNode(DEMO, ["--file", file], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(existsSync(marker), true, "the action created the marker again");

    // The cluster table: five daemons, each with its pid and directory.
    const daemons = [...r.stdout.matchAll(/^ {2}(demo-\d)\s+127\.0\.0\.1:\d+\s+127\.0\.0\.1:\d+\s+(\d+)\s+(\S+)$/gm)];
    assert.deepEqual(
      daemons.map((m) => m[1]),
      ["demo-1", "demo-2", "demo-3", "demo-4", "demo-5"],
      r.stdout,
    );
    assert.match(r.stdout, /all 5 daemons list each other alive/);

    // gcheck's table: every node answered every check; the marker was fixed somewhere and failed nowhere.
    for (const node of ["demo-1", "demo-2", "demo-3", "demo-4", "demo-5"]) {
      // "$schema" is for editors, not a check.
      for (const check of Object.keys(demo).filter((k) => !k.startsWith("$"))) assert.match(r.stdout, new RegExp(`^${node}\\s+${check}\\s+(PASS|FIXED)\\s`, "m"), `${node} ${check}`);
    }
    assert.match(r.stdout, /^demo-\d\s+demo_marker_exists\s+FIXED\s/m);
    assert.match(r.stdout, /^5\/5 nodes answered; checks: /m);

    // Stopped and cleaned up.
    assert.match(r.stdout, /Stopped; the daemons' directories are removed\./);
    for (const [, name, pid, dir] of daemons) {
      assert.equal(isRunning(Number(pid)), false, `${name} (pid ${pid}) has exited`);
      assert.equal(existsSync(dir!), false, `${name}'s directory ${dir} is removed`);
    }
  });

  it("refuses an unknown argument with exit 2 and the usage", async () => {
    const r = await runNode(DEMO, ["--bogus"], { timeoutMs: 10_000 });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown argument "--bogus"; usage: node dist\/scripts\/demo\.js/);
  });
});
