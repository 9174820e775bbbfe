import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { tuneV8ForDaemon } from "../src/daemon/v8_tuning.js";

test("the daemon raises V8's tier-up threshold unless the operator set one", () => {
  assert.equal(tuneV8ForDaemon(["--interrupt-budget=1000"], ""), false);
  assert.equal(tuneV8ForDaemon([], "--max-old-space-size=100 --interrupt-budget=1000"), false);
  assert.equal(tuneV8ForDaemon([], "--max-old-space-size=100"), true);
});

test("the raised threshold takes effect when set at run time: a function called 120 times stays unoptimized, as it would not by default", () => {
  // %GetOptimizationStatus bit 4 (16) = TurboFanned. Compiles are made
  // synchronous, so the outcome depends only on the executed bytecode
  // (default: optimized from about 100 calls; raised: not before 150).
  const probe = `
    const v8 = require("node:v8");
    if (process.argv[1] === "tuned") v8.setFlagsFromString("--interrupt-budget=${4 * 67_584}");
    v8.setFlagsFromString("--allow-natives-syntax");
    const f = new Function("a", "let s = 0; for (let i = 0; i < 40; i++) s += a[i % a.length]; return s;");
    const a = [1, 2, 3];
    for (let i = 0; i < 120; i++) f(a);
    const status = new Function("f", "return %GetOptimizationStatus(f)")(f);
    process.stdout.write(String((status & 16) !== 0));`;
  const run = (mode: string) => spawnSync(process.execPath, ["--no-concurrent-recompilation", "-e", probe, mode], { encoding: "utf8", timeout: 30_000 });
  const byDefault = run("default");
  const tuned = run("tuned");
  assert.equal(byDefault.status, 0, byDefault.stderr);
  assert.equal(tuned.status, 0, tuned.stderr);
  assert.equal(byDefault.stdout, "true", "with V8's default threshold the function is optimized");
  assert.equal(tuned.stdout, "false", "with the raised threshold it is not yet");
});
