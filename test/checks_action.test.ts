import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { ACTION_OUTPUT_LIMIT_BYTES, runAction, runningActionGroups, type ActionRequest } from "../src/checks/action.js";
import { isDead, waitUntil } from "./support/pids.js";

const base: Omit<ActionRequest, "command"> = { check: "test_check", batchId: "batch-1", node: "node-a" };

describe("actions", () => {
  it("captures stdout and stderr interleaved in the order written, with the exit code", async () => {
    const o = await runAction({ ...base, command: "echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 7" });
    assert.equal(o.output, "out1\nerr1\nout2\nerr2\n");
    assert.equal(o.exitCode, 7);
    assert.equal(o.signal, null);
    assert.equal(o.timedOut, false);
    assert.equal(o.outputTruncated, false);
    assert.equal(o.command, "echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 7");
    assert.equal(o.skipped, undefined);
    assert.ok(o.durationMs > 0);
  });

  it("passes the check, batch and node names in the environment, on top of the daemon's", async () => {
    process.env.GOSSIPCHECK_TEST_INHERITED = "yes";
    const o = await runAction({ ...base, command: 'echo "$GOSSIPCHECK_CHECK|$GOSSIPCHECK_BATCH|$GOSSIPCHECK_NODE|$GOSSIPCHECK_TEST_INHERITED"' });
    assert.equal(o.output, "test_check|batch-1|node-a|yes\n");
  });

  it("keeps the first 64 KiB of a large output, marks it truncated, and lets the action finish", async () => {
    const o = await runAction({ ...base, command: "head -c 1000000 /dev/zero | tr '\\0' a; echo done >&2; exit 3" });
    assert.equal(o.output.length, ACTION_OUTPUT_LIMIT_BYTES);
    assert.equal(o.output, "a".repeat(ACTION_OUTPUT_LIMIT_BYTES));
    assert.equal(o.outputTruncated, true);
    assert.equal(o.exitCode, 3);
  });

  it("does not cut a UTF-8 character in half at the bound", async () => {
    const o = await runAction({ ...base, command: "printf 'ééé'", outputLimitBytes: 3 });
    assert.equal(o.output, "é");
    assert.equal(o.outputTruncated, true);
  });

  it("reports a signal that ended the shell", async () => {
    const o = await runAction({ ...base, command: "kill -TERM $$" });
    assert.equal(o.exitCode, null);
    assert.equal(o.signal, "SIGTERM");
    assert.equal(o.timedOut, false);
  });

  it("at the timeout kills the whole process group, background grandchildren included", async () => {
    const o = await runAction({ ...base, command: "sleep 300 & echo $!; sleep 300", timeoutMs: 300 });
    assert.equal(o.timedOut, true);
    assert.equal(o.signal, "SIGTERM"); // SIGTERM first; SIGKILL only for what outlasts the grace period
    assert.equal(o.exitCode, null);
    const grandchild = Number(o.output.trim());
    assert.ok(Number.isInteger(grandchild) && grandchild > 0, `no grandchild PID in output ${JSON.stringify(o.output)}`);
    await waitUntil(`background sleeper ${grandchild} to be gone`, () => isDead(grandchild));
    assert.equal(runningActionGroups().size, 0);
  });

  it("returns when the shell exits even if a background process it keeps keeps the output pipe open", { timeout: 30_000 }, async () => {
    const o = await runAction({ ...base, command: "sleep 300 & echo $!; echo finished", keepChildren: true });
    const sleeper = Number(o.output.split("\n")[0]);
    try {
      assert.equal(o.exitCode, 0);
      assert.equal(o.timedOut, false);
      assert.match(o.output, /^\d+\nfinished\n$/);
      // Not killed: keep_children says the action starts a service in the background.
      assert.equal(isDead(sleeper), false);
    } finally {
      process.kill(sleeper, "SIGKILL");
    }
    await waitUntil(`sleeper ${sleeper} to be gone`, () => isDead(sleeper));
  });

  it("tracks the process group of a running action", async () => {
    const running = runAction({ ...base, command: "echo started; sleep 300", timeoutMs: 60_000 });
    await waitUntil("the action's group to be registered", () => runningActionGroups().size === 1);
    const [pgid] = [...runningActionGroups()];
    assert.ok(existsSync(`/proc/${pgid}`));
    process.kill(-pgid!, "SIGKILL");
    const o = await running;
    assert.equal(o.signal, "SIGKILL");
    assert.equal(runningActionGroups().size, 0);
  });

  it("turns a command the OS cannot take into an outcome, not an exception", async () => {
    const o = await runAction({ ...base, command: "echo a\u0000b" });
    assert.match(o.skipped ?? "", /^action could not be started: /);
    assert.equal(o.exitCode, null);
  });
});
