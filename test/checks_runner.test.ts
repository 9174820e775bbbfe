import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runBatch, runLocalCheck, type CheckResult, type CheckSpec, type CheckType } from "../src/checks/index.js";
import type { Evaluation } from "../src/checks/evaluation.js";
import { processSnapshotsTaken } from "../src/checks/processes.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gossipcheck-runner-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const opts = { batchId: "b-1", node: "node-a", runActions: true };
const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

function only(results: CheckResult[]): CheckResult {
  assert.equal(results.length, 1);
  return results[0]!;
}

describe("runBatch", () => {
  it("runs the action of a failing check and reports it fixed when it passes afterwards", async () => {
    const marker = join(dir, "fixed-marker");
    const r = only(await runBatch([{ name: "marker", type: "file_exists", path: marker, action: `touch ${q(marker)} && echo created`, description: "d" }], opts));
    assert.equal(r.status, "fixed");
    assert.equal(r.name, "marker");
    assert.equal(r.type, "file_exists");
    assert.equal(r.description, "d");
    assert.equal(r.message, `fixed by the action (exit code 0): ${marker} exists (regular file, 0 bytes); before the action: ${marker} does not exist`);
    assert.equal(r.action?.output, "created\n");
    assert.equal(r.action?.exitCode, 0);
    assert.ok(r.durationMs >= r.action!.durationMs);
  });

  it("reports fail when the check still fails after its action", async () => {
    const marker = join(dir, "never-created");
    const r = only(await runBatch([{ name: "m", type: "file_exists", path: marker, action: "echo trying; exit 1" }], opts));
    assert.equal(r.status, "fail");
    assert.equal(r.message, `still failing after the action (exit code 1): ${marker} does not exist`);
    assert.equal(r.action?.output, "trying\n");
    assert.equal(r.action?.exitCode, 1);
  });

  it("reports fail with the action timed out and its process group killed", async () => {
    const r = only(await runBatch([{ name: "slow", type: "file_exists", path: join(dir, "nope"), action: "sleep 300", timeoutMs: 200 }], opts));
    assert.equal(r.status, "fail");
    assert.equal(r.action?.timedOut, true);
    assert.match(r.message, /^still failing after the action \(timed out after \d+ ms, process group killed(: the shell and 1 more process)?\): /);
  });

  it("says in the result's message how many leftover processes the action's end killed", async () => {
    const marker = join(dir, "leftover-marker");
    const r = only(await runBatch([{ name: "l", type: "file_exists", path: marker, action: `touch ${q(marker)}; sleep 3000 &` }], opts));
    assert.equal(r.status, "fixed");
    assert.equal(r.action?.leftoversKilled, 1);
    assert.match(r.message, /^fixed by the action \(exit code 0, killed 1 leftover process\): /);
  });

  it("passes keep_children on to the action", async () => {
    const marker = join(dir, "kept-marker");
    const r = only(await runBatch([{ name: "k", type: "file_exists", path: marker, action: `sleep 3000 & echo $! > ${q(marker)}`, keepChildren: true }], opts));
    const kept = Number(readFileSync(marker, "utf8"));
    try {
      assert.equal(r.status, "fixed");
      assert.equal(r.action?.leftoversKilled, 0);
      assert.ok(existsSync(`/proc/${kept}`), "the kept child was killed");
    } finally {
      process.kill(kept, "SIGKILL");
    }
  });

  it("gives the action the check, batch and node names", async () => {
    const r = only(
      await runBatch(
        [{ name: "envcheck", type: "file_exists", path: join(dir, "envcheck"), action: `printf '%s %s' "$GOSSIPCHECK_BATCH" "$GOSSIPCHECK_NODE" > ${q(dir)}/"$GOSSIPCHECK_CHECK"` }],
        opts,
      ),
    );
    assert.equal(r.status, "fixed");
    assert.equal(readFileSync(join(dir, "envcheck"), "utf8"), "b-1 node-a");
  });

  it("does not run actions when told not to, and says why", async () => {
    const marker = join(dir, "dry-run-marker");
    const r = only(await runBatch([{ name: "m", type: "file_exists", path: marker, action: `touch ${q(marker)}` }], { ...opts, runActions: false, skipReason: "dry run" }));
    assert.equal(r.status, "fail");
    assert.equal(r.action?.skipped, "action skipped: dry run");
    assert.equal(r.message, `${marker} does not exist (action skipped: dry run)`);
    assert.equal(existsSync(marker), false);
  });

  it("does not run the action of a check that could not be evaluated (error is not fail)", async () => {
    const file = join(dir, "plain-file");
    await writeFile(file, "x");
    const marker = join(dir, "error-marker");
    const r = only(await runBatch([{ name: "e", type: "file_exists", path: join(file, "sub"), action: `touch ${q(marker)}` }], opts));
    assert.equal(r.status, "error");
    assert.equal(r.action, undefined);
    assert.equal(existsSync(marker), false);
  });

  it("does not run the action of a check that warns (a remediation must not run on a warning)", async () => {
    const marker = join(dir, "warn-marker");
    const evaluate = async (): Promise<Evaluation> => ({ status: "warn", message: "DISK WARNING - / 88% used" });
    for (const o of [opts, { ...opts, runActions: false, skipReason: "dry run" }]) {
      const r = only(await runBatch([{ name: "disk", type: "file_exists", path: "/", action: `touch ${q(marker)}`, description: "d" }], { ...o, evaluate }));
      assert.deepEqual({ ...r, durationMs: 0 }, { name: "disk", type: "file_exists", status: "warn", message: "DISK WARNING - / 88% used", durationMs: 0, description: "d" });
      assert.equal(existsSync(marker), false);
    }
  });

  it("reports warn, not fixed, when the check warns after its action", async () => {
    const marker = join(dir, "warn-after-marker");
    const evaluate = async (): Promise<Evaluation> => (existsSync(marker) ? { status: "warn", message: "80% used" } : { status: "fail", message: "97% used" });
    const r = only(await runBatch([{ name: "disk", type: "file_exists", path: "/", action: `touch ${q(marker)}` }], { ...opts, evaluate }));
    assert.equal(r.status, "warn");
    assert.equal(r.message, "no longer failing after the action (exit code 0), but warning: 80% used; before the action: 97% used");
    assert.equal(r.action?.exitCode, 0);
    assert.equal(existsSync(marker), true);
  });

  it("leaves passing checks alone", async () => {
    const marker = join(dir, "pass-marker");
    const r = only(await runBatch([{ name: "p", type: "file_contains", path: "/proc/self/status", check: "Pid:", action: `touch ${q(marker)}` }], opts));
    assert.equal(r.status, "pass");
    assert.equal(r.action, undefined);
    assert.equal(existsSync(marker), false);
  });

  it("runs checks concurrently: one action waits on another's, and both complete", async () => {
    // Check "waiter" comes first and its action only ends once check
    // "releaser"'s action has run; run one at a time, waiter would time out.
    const go = join(dir, "go");
    const done = join(dir, "waiter-done");
    const checks: CheckSpec[] = [
      { name: "waiter", type: "file_exists", path: done, action: `while [ ! -e ${q(go)} ]; do sleep 0.01; done; touch ${q(done)}`, timeoutMs: 20_000 },
      { name: "releaser", type: "file_exists", path: go, action: `touch ${q(go)}` },
    ];
    const results = await runBatch(checks, { ...opts, concurrency: 2 });
    assert.deepEqual(
      results.map((r) => [r.name, r.status, r.action?.timedOut]),
      [
        ["waiter", "fixed", false],
        ["releaser", "fixed", false],
      ],
    );
  });

  it("returns results in input order whatever order they finish in", async () => {
    const checks: CheckSpec[] = Array.from({ length: 20 }, (_, i) => ({
      name: `c${i}`,
      type: "file_exists",
      path: join(dir, `order-${i}`),
      action: `sleep 0.0${(20 - i) % 10}; touch ${q(join(dir, `order-${i}`))}`,
    }));
    const results = await runBatch(checks, { ...opts, concurrency: 8 });
    assert.deepEqual(
      results.map((r) => r.name),
      checks.map((c) => c.name),
    );
    assert.ok(results.every((r) => r.status === "fixed"));
  });

  it("never rejects: a check that cannot be evaluated becomes an error result", async () => {
    const results = await runBatch(
      [
        { name: "bogus", type: "no_such_type" as CheckType },
        { name: "ok", type: "file_exists", path: "/" },
      ],
      opts,
    );
    assert.deepEqual(
      results.map((r) => [r.name, r.status]),
      [
        ["bogus", "error"],
        ["ok", "pass"],
      ],
    );
    assert.equal(results[0]!.message, 'unknown check type "no_such_type"');
  });

  it("takes one process snapshot per batch, shared by all its process checks, and none without one", async () => {
    const marker = `unique-marker-${randomBytes(8).toString("hex")}`;
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", marker], { stdio: "ignore" });
    try {
      const checks: CheckSpec[] = Array.from({ length: 50 }, (_, i) => ({ name: `p${i}`, type: "process_running", check: i % 2 ? marker : `absent-${marker.slice(1)}` }));
      // Wait (with a deadline) until the child has exec'd and shows its marker.
      const deadline = Date.now() + 10_000;
      while ((await runBatch([checks[1]!], opts))[0]!.status !== "pass") {
        assert.ok(Date.now() < deadline, "the marked process never showed up");
        await new Promise((r) => setTimeout(r, 20));
      }
      const before = processSnapshotsTaken();
      const results = await runBatch(checks, opts);
      assert.equal(processSnapshotsTaken() - before, 1);
      assert.deepEqual(new Set(results.map((r, i) => `${i % 2}:${r.status}`)), new Set(["1:pass", "0:fail"]));
      await runBatch([{ name: "f", type: "file_exists", path: "/" }], opts);
      assert.equal(processSnapshotsTaken() - before, 1);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("runLocalCheck", () => {
  it("reports every check, one after the other, and never runs an action", async () => {
    const marker = join(dir, "local-marker");
    const results = await runLocalCheck([
      { name: "missing", type: "file_exists", path: marker, action: `touch ${q(marker)}` },
      { name: "root", type: "file_exists", path: "/" },
      { name: "status", type: "file_contains", path: "/proc/self/status", check: "State:" },
    ]);
    assert.deepEqual(
      results.map((r) => [r.name, r.status]),
      [
        ["missing", "fail"],
        ["root", "pass"],
        ["status", "pass"],
      ],
    );
    assert.equal(results[0]!.action?.skipped, "action skipped: local-check never runs actions");
    assert.equal(existsSync(marker), false);
  });
});
