import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runAction, runningActionGroups, type ActionRequest } from "../src/checks/action.js";
import { actionContainment } from "../src/checks/cgroup.js";
import { checksModuleForNobody, runAsNobody } from "./support/as_nobody.js";
import { isDead, waitUntil } from "./support/pids.js";

/*
 * What an action leaves running when its shell exits or times out: killed
 * (SIGTERM, then SIGKILL) and counted, unless the check keeps its children;
 * with a cgroup also what left the process group (setsid). Every process a
 * test starts is killed by PID at the end if the code under test missed it.
 */

const base: Omit<ActionRequest, "command"> = { check: "children", batchId: "batch-children", node: "node-a" };
const started = new Set<number>();
const dir = mkdtempSync(join(tmpdir(), "gossipcheck-children-"));

after(() => {
  for (const pid of started) if (!isDead(pid)) process.kill(pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** The PIDs an action printed, one per line, remembered for the clean-up. */
function pidsIn(output: string): number[] {
  const pids = output
    .split("\n")
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
  for (const pid of pids) started.add(pid);
  assert.ok(pids.length > 0, `no PID in the action's output ${JSON.stringify(output)}`);
  return pids;
}

/** Action cgroups of this test process still in the tree. */
function ourCgroups(): string[] {
  const c = actionContainment();
  if (c.kind !== "cgroup" || !existsSync(c.base)) return [];
  return readdirSync(c.base).filter((n) => n.includes(`-${process.pid}-`));
}

/**
 * An action that starts `sleep` in a new session (out of its process group),
 * waits until that child has written its PID to a file, prints it, and then
 * exits (or, with `hang`, sleeps on until the timeout).
 */
function escapeThenExit(hang: boolean): string {
  const file = join(dir, `escaped-${++escapes}`);
  return `setsid sh -c 'echo $$ > "$0"; exec sleep 3000' ${file} & while [ ! -s ${file} ]; do sleep 0.01; done; cat ${file}${hang ? "; sleep 3000" : ""}`;
}
let escapes = 0;

const cgroupSkip = (): string | undefined => {
  const c = actionContainment();
  return c.kind === "cgroup" ? undefined : `no writable cgroup2 hierarchy on this host (${c.reason}): a setsid child cannot be caught`;
};

describe("action leftovers", () => {
  it("kills a background child the action left when its shell exits, and counts it", async () => {
    const o = await runAction({ ...base, command: "sleep 3000 & echo $!; exit 0" });
    const [sleeper] = pidsIn(o.output);
    assert.equal(o.exitCode, 0);
    assert.equal(o.timedOut, false);
    assert.equal(o.leftoversKilled, 1);
    await waitUntil(`leftover sleeper ${sleeper} to be gone`, () => isDead(sleeper!));
    assert.equal(runningActionGroups().size, 0);
    assert.deepEqual(ourCgroups(), []);
  });

  it("SIGKILLs a leftover that ignores SIGTERM once the grace period is over", async () => {
    const t0 = Date.now();
    // The shell exits only once the child ignores SIGTERM (else the SIGTERM could land before its trap).
    const ready = join(dir, `stubborn-${++escapes}`);
    const o = await runAction({ ...base, command: `(trap "" TERM; echo up > ${ready}; exec sleep 3000) & while [ ! -s ${ready} ]; do sleep 0.01; done; echo $!`, termGraceMs: 300 });
    const [stubborn] = pidsIn(o.output);
    await waitUntil(`stubborn leftover ${stubborn} to be gone`, () => isDead(stubborn!));
    assert.ok(Date.now() - t0 >= 300, "killed before the grace period was over");
    assert.equal(o.leftoversKilled, 1);
  });

  it("at the timeout ends the shell and every background child, and counts the children", async () => {
    const o = await runAction({ ...base, command: "sleep 3000 & echo $!; sleep 3000 & echo $!; wait", timeoutMs: 300 });
    const pids = pidsIn(o.output);
    assert.equal(o.timedOut, true);
    assert.equal(o.signal, "SIGTERM");
    for (const pid of pids) await waitUntil(`background child ${pid} to be gone`, () => isDead(pid));
    assert.equal(o.leftoversKilled, 2);
    assert.deepEqual(ourCgroups(), []);
  });

  it("kills a setsid child, which left the process group, through the action's cgroup", async (t) => {
    const skip = cgroupSkip();
    if (skip) return t.skip(skip);
    const o = await runAction({ ...base, command: escapeThenExit(false) });
    const [escaped] = pidsIn(o.output);
    assert.equal(o.leftoversKilled, 1);
    await waitUntil(`setsid child ${escaped} to be gone`, () => isDead(escaped!));
    assert.deepEqual(ourCgroups(), []);
  });

  it("kills a setsid child at the timeout too", async (t) => {
    const skip = cgroupSkip();
    if (skip) return t.skip(skip);
    const o = await runAction({ ...base, command: escapeThenExit(true), timeoutMs: 1000 });
    const [escaped] = pidsIn(o.output);
    assert.equal(o.timedOut, true);
    await waitUntil(`setsid child ${escaped} to be gone`, () => isDead(escaped!));
    assert.ok(o.leftoversKilled >= 1);
    assert.deepEqual(ourCgroups(), []);
  });

  it("with keep_children leaves a background service running, outside any action cgroup", async () => {
    const o = await runAction({ ...base, command: "sleep 3000 & echo $!", keepChildren: true });
    const [service] = pidsIn(o.output);
    try {
      assert.equal(o.exitCode, 0);
      assert.equal(o.leftoversKilled, 0);
      assert.equal(isDead(service!), false, "the kept child was killed");
      assert.doesNotMatch(readFileSync(`/proc/${service}/cgroup`, "utf8"), /gossipcheck-actions/);
    } finally {
      process.kill(service!, "SIGKILL");
    }
    await waitUntil(`kept child ${service} to be gone`, () => isDead(service!));
  });

  it("with keep_children still ends the shell's whole group at the timeout", async () => {
    const o = await runAction({ ...base, command: "sleep 3000 & echo $!; sleep 3000", timeoutMs: 300, keepChildren: true });
    const [child] = pidsIn(o.output);
    assert.equal(o.timedOut, true);
    await waitUntil(`background child ${child} to be gone`, () => isDead(child!));
    assert.ok(o.leftoversKilled >= 1);
  });

  it("without a writable cgroup (as user nobody) says why, and still kills leftovers in the process group", async () => {
    const out = await runAsNobody(`
      const { runAction } = await import(${JSON.stringify(checksModuleForNobody("action.js"))});
      const { actionContainment } = await import(${JSON.stringify(checksModuleForNobody("cgroup.js"))});
      const o = await runAction({ check: "c", batchId: "b", node: "n", command: "sleep 3000 & echo $!" });
      console.log(JSON.stringify({ containment: actionContainment(), o }));
    `);
    const { containment, o } = JSON.parse(out) as { containment: { kind: string; reason?: string }; o: { output: string; leftoversKilled: number } };
    const [sleeper] = pidsIn(o.output);
    assert.equal(containment.kind, "process group");
    assert.match(containment.reason ?? "", /\S/);
    assert.equal(o.leftoversKilled, 1);
    await waitUntil(`nobody's leftover ${sleeper} to be gone`, () => isDead(sleeper!));
  });
});
