import { it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { daemonTierUpFlag, tuneV8ForDaemon } from "../src/daemon/v8_tuning.js";
import { runDaemonToExit } from "./support/proc.js";

it("the tier-up flag follows the running V8: interrupt budget up to 11.3, invocation count on 11.8 to 12, none from 13 on", () => {
  assert.equal(daemonTierUpFlag("11.3.244.8-node.38"), "--interrupt-budget=270336"); // Node 20
  assert.equal(daemonTierUpFlag("11.8.172.17-node.20"), "--invocation-count-for-turbofan=12000"); // Node 21
  assert.equal(daemonTierUpFlag("12.4.254.21-node.57"), "--invocation-count-for-turbofan=12000"); // Node 22
  assert.equal(daemonTierUpFlag("13.6.233.17-node.63"), undefined); // Node 24
  assert.equal(daemonTierUpFlag("14.6.202.34-node.40"), undefined); // Node 26
});

it("the daemon sets the flag unless the operator set a threshold of their own", () => {
  const set: string[] = [];
  const tune = (execArgv: string[], nodeOptions: string, v8 = "12.4.254.21-node.57") => tuneV8ForDaemon(execArgv, nodeOptions, v8, (f) => set.push(f));
  assert.equal(tune(["--interrupt-budget=1000"], "", "11.3.244.8-node.38"), false);
  assert.equal(tune([], "--max-old-space-size=100 --interrupt-budget=1000", "11.3.244.8-node.38"), false);
  assert.equal(tune(["--invocation-count-for-turbofan=500"], ""), false);
  assert.equal(tune([], "--invocation_count_for_turbofan=500"), false);
  assert.deepEqual(set, []);
  assert.equal(tune([], "--max-old-space-size=100", "11.3.244.8-node.38"), true);
  assert.equal(tune([], "--max-old-space-size=100"), true);
  assert.equal(tune([], "", "14.6.202.34-node.40"), false);
  assert.deepEqual(set, ["--interrupt-budget=270336", "--invocation-count-for-turbofan=12000"]);
});

it(`the running V8 (${process.versions.v8}) knows the flag chosen for it, and the daemon starts without a word on stderr`, async () => {
  const flag = daemonTierUpFlag(process.versions.v8);
  if (flag !== undefined) {
    const options = spawnSync(process.execPath, ["--v8-options"], { encoding: "utf8", timeout: 30_000 });
    assert.equal(options.status, 0, options.stderr);
    assert.ok(options.stdout.includes(`  ${flag.split("=")[0]} `), `${flag} is listed by node --v8-options`);
  }
  const version = await runDaemonToExit(["-version"]);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stderr, "");
});

// How many calls of a small function without loops it takes until TurboFan
// has compiled it, with `flag` set at run time as the daemon does. Compiles
// are made synchronous, so the count depends only on the executed bytecode.
function callsUntilTurbofan(flag: string | undefined): number {
  const probe = `
    const v8 = require("node:v8");
    if (process.argv[1]) v8.setFlagsFromString(process.argv[1]);
    v8.setFlagsFromString("--allow-natives-syntax");
    const f = new Function("a", "let s = a[0]; s = s * 3 + a[1]; s = s ^ a[2]; s += a.length; return s > 5 ? s - 1 : s + 1;");
    const turbofanned = new Function("f", "return %ActiveTierIsTurbofan(f)");
    const a = [1, 2, 3];
    let calls = 0;
    while (calls < 100000 && !turbofanned(f)) { f(a); calls++; }
    process.stdout.write(String(calls));`;
  const run = spawnSync(process.execPath, ["--no-concurrent-recompilation", "-e", probe, flag ?? ""], { encoding: "utf8", timeout: 30_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, "", "the flag is one this V8 knows");
  return Number(run.stdout);
}

it("TurboFan compiles a function called a handful of times per batch no earlier than the raised threshold allows", () => {
  const flag = daemonTierUpFlag(process.versions.v8);
  const byDefault = callsUntilTurbofan(undefined);
  if (flag !== undefined) {
    // Measured: 1286 -> 5111 calls (V8 11.3), 3011 -> 12011 (V8 12.4).
    const tuned = callsUntilTurbofan(flag);
    assert.ok(tuned >= 3.5 * byDefault, `${flag}: TurboFan after ${tuned} calls, by default after ${byDefault}; expected about 4x`);
  } else {
    // V8 13 and later defer TurboFan by themselves (10687 calls on 13.6,
    // 16787 on 14.6): at least as far as the raised threshold did on
    // Node 20 (5111). If a V8 stops doing so, the daemon needs a flag again.
    assert.ok(byDefault >= 5000, `V8 ${process.versions.v8} sets no flag, yet TurboFan came after ${byDefault} calls (the tuned Node 20 took 5111)`);
  }
});
