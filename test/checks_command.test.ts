import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeCheckBatch, encodeCheckBatch } from "../src/checks/codec.js";
import { parseCheckObject } from "../src/checks/index.js";
import type { CheckResult, CheckSpec } from "../src/checks/types.js";
import { checkSpec, runOneCheck } from "./support/checks.js";

/*
 * The `command` check type (the first registered type, src/checks/command.ts):
 * each field against real commands run through /bin/sh, the report-only
 * rule, and its fields crossing the wire and being validated again there.
 */

const spec = (fields: Record<string, unknown>): CheckSpec => checkSpec({ type: "command", ...fields });

const run = (fields: Record<string, unknown>, allowCommands = true): Promise<CheckResult> => runOneCheck(spec(fields), { allowCommands });

describe("command checks", () => {
  it("pass on exit status 0 by default, and fail on another, saying which", async () => {
    assert.equal((await run({ command: "true" })).status, "pass");
    const r = await run({ command: "echo out; exit 4" });
    assert.equal(r.status, "fail");
    assert.match(r.message, /exit status 4, expected 0: "out"/);
  });

  it("exit_status names the status that passes", async () => {
    assert.equal((await run({ command: "exit 3", exit_status: 3 })).status, "pass");
    assert.match((await run({ command: "true", exit_status: 3 })).message, /exit status 0, expected 3/);
  });

  it("stdout_contains and stderr_contains: every string must be found, each on its own stream", async () => {
    const cmd = "echo alpha beta; echo gamma >&2";
    assert.equal((await run({ command: cmd, stdout_contains: ["alpha", "beta"], stderr_contains: "gamma" })).status, "pass");
    const r = await run({ command: cmd, stdout_contains: ["alpha", "gamma"] });
    assert.equal(r.status, "fail");
    assert.match(r.message, /stdout lacks "gamma"/);
    assert.match((await run({ command: cmd, stderr_contains: "alpha" })).message, /stderr lacks "alpha"/);
  });

  it("stdout_matches is a regular expression over the standard output (multi-line)", async () => {
    assert.equal((await run({ command: "printf 'x\\nversion 1.22\\n'", stdout_matches: "^version 1\\.2\\d$" })).status, "pass");
    assert.match((await run({ command: "echo version 2", stdout_matches: "^version 1" })).message, /stdout does not match \/\^version 1\//);
  });

  it("is bounded by the check's timeout, and its process group is killed", async () => {
    const started = Date.now();
    const r = await run({ command: "sleep 30", timeout: "300ms" });
    assert.equal(r.status, "fail");
    assert.match(r.message, /timed out after \d+ ms \(killed\)/);
    assert.ok(Date.now() - started < 10_000);
  });

  it("sees the check's name, batch and node in its environment, as actions do", async () => {
    const r = await run({ command: 'echo "$GOSSIPCHECK_CHECK/$GOSSIPCHECK_BATCH/$GOSSIPCHECK_NODE"', stdout_contains: "c/b/n" });
    assert.equal(r.status, "pass", r.message);
  });

  it("a failing command check runs its action, and is evaluated again", async () => {
    const r = await run({ command: "test -e /nonexistent-gossipcheck", action: "true" });
    assert.equal(r.status, "fail");
    assert.match(r.message, /still failing after the action/);
  });

  it("is not run on a report-only node (-no-actions): an error says why", async () => {
    const r = await run({ command: "touch /tmp/should-not-exist-gossipcheck" }, false);
    assert.equal(r.status, "error");
    assert.match(r.message, /not run: this node is report-only \(-no-actions\), and a command check runs code/);
  });

  it("its fields cross the wire and are validated again on receipt", () => {
    const c = spec({ command: "true", exit_status: 2, stdout_contains: ["a"], stdout_matches: "x+" });
    const decoded = decodeCheckBatch(encodeCheckBatch({ checks: [c], dryRun: false, targetNodes: [], targetTags: {} }));
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.batch.checks[0], c);
    const forged = decodeCheckBatch(encodeCheckBatch({ checks: [{ ...c, params: { command: "true", exit_status: 999 } }], dryRun: false, targetNodes: [], targetTags: {} }));
    assert.equal(forged.ok, false);
    assert.match(forged.ok ? "" : forged.errors.join(), /field "exit_status": expected a whole number from 0 to 255/);
    const shadow = decodeCheckBatch(encodeCheckBatch({ checks: [{ ...c, params: { command: "true", action: "rm -rf /" } as never }], dryRun: false, targetNodes: [], targetTags: {} }));
    assert.match(shadow.ok ? "" : shadow.errors.join(), /params may not carry action/);
  });

  it("validation names each field and what it expects", () => {
    const p = parseCheckObject({ c: { type: "command", comand: "x", exit_status: "0", stdout_matches: "(" } }, "f.json");
    assert.equal(p.ok, false);
    const errors = p.ok ? [] : p.errors;
    assert.ok(
      errors.some((e) => /f\.json: check "c": field "comand" is unknown for type command .*did you mean "command"\?/.test(e)),
      errors.join("\n"),
    );
    assert.ok(errors.some((e) => /field "command" is missing: the shell command to run/.test(e)));
    assert.ok(errors.some((e) => /field "exit_status": expected a whole number from 0 to 255 .* got the string "0"/.test(e)));
    assert.ok(errors.some((e) => /field "stdout_matches": "\(" is not a valid regular expression/.test(e)));
  });
});
