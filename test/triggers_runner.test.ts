import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { systemClock } from "../src/base/clock.js";
import type { Logger } from "../src/base/logger.js";
import type { ActionRequest } from "../src/checks/action.js";
import type { ActionOutcome } from "../src/checks/types.js";
import { TriggerRunner, type TriggerEvent, type TriggerSpec } from "../src/triggers/index.js";
import { isDead, waitUntil } from "./support/pids.js";

/*
 * The trigger runner with real shells: what a script is told, that a slow
 * script does not hold back a fast one, the timeout ending the whole process
 * group, a missing script; and the queue's bound with a fake script runner.
 * Every process a test learns of is killed by PID at the end if the code
 * under test missed it.
 */

const dir = mkdtempSync(join(tmpdir(), "gossipcheck-triggers-"));
const started = new Set<number>();
after(() => {
  for (const pid of started) if (!isDead(pid)) process.kill(pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const node = { name: "web-01", address: "127.0.0.1:7946" };
let files = 0;
const file = (name: string) => join(dir, `${name}-${++files}`);

/** A logger that keeps every line. */
function recordingLog(): Logger & { lines: { level: string; msg: string; obj: object }[] } {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, msg: msg ?? "", obj });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

function runner(triggers: TriggerSpec[], o: Partial<ConstructorParameters<typeof TriggerRunner>[0]> = {}) {
  const log = recordingLog();
  const r = new TriggerRunner({ triggers, node, clock: systemClock, log, ...o });
  return { r, log };
}

const failed: TriggerEvent = {
  event: "member-failed",
  atMs: 1_700_000_000_000,
  member: { name: "db-2", address: "10.0.0.2:7946", status: "dead", tags: { role: "db", "rack-id": "r7" } },
};

describe("TriggerRunner", () => {
  it("runs the script with the event in GOSSIPCHECK_* variables and as one JSON line on standard input", async () => {
    const envOut = file("env");
    const stdinOut = file("stdin");
    const { r } = runner([{ event: "member-failed", script: `env | grep '^GOSSIPCHECK_' | sort > ${envOut}; cat > ${stdinOut}` }]);
    r.fire(failed);
    await waitUntil("the script to finish", () => r.counters().ran === 1);
    assert.deepEqual(r.counters(), { fired: 1, ran: 1, failed: 0, timedOut: 0, dropped: 0, queued: 0, running: 0 });
    assert.deepEqual(readFileSync(envOut, "utf8").trim().split("\n"), [
      "GOSSIPCHECK_EVENT=member-failed",
      "GOSSIPCHECK_EVENT_AT_MS=1700000000000",
      "GOSSIPCHECK_MEMBER_ADDRESS=10.0.0.2:7946",
      "GOSSIPCHECK_MEMBER_NAME=db-2",
      "GOSSIPCHECK_MEMBER_STATUS=dead",
      "GOSSIPCHECK_MEMBER_TAGS=rack-id=r7,role=db",
      "GOSSIPCHECK_MEMBER_TAG_RACK_ID=r7",
      "GOSSIPCHECK_MEMBER_TAG_ROLE=db",
      "GOSSIPCHECK_NODE=web-01",
      "GOSSIPCHECK_NODE_ADDRESS=127.0.0.1:7946",
    ]);
    const stdin = readFileSync(stdinOut, "utf8");
    assert.ok(stdin.endsWith("\n") && stdin.indexOf("\n") === stdin.length - 1, "one line");
    assert.deepEqual(JSON.parse(stdin), { ...failed, node });
    await r.stop();
  });

  it("runs every trigger of the event, and none of the others; a script that does not read stdin is fine", async () => {
    const a = file("a");
    const b = file("b");
    const c = file("c");
    const { r } = runner([
      { event: "check-fail", script: `echo "$GOSSIPCHECK_CHECK_NAME" > ${a}` },
      { event: "check-fail", script: `echo "$GOSSIPCHECK_CHECK_STATUS/$GOSSIPCHECK_CHECK_PREVIOUS" > ${b}` },
      { event: "check-recover", script: `touch ${c}` },
    ]);
    r.fire({ event: "check-fail", atMs: 1, check: { name: "nginx_running", schedule: "web", status: "fail", previous: "pass", message: "no nginx" } });
    await waitUntil("both check-fail scripts", () => r.counters().ran === 2);
    assert.equal(readFileSync(a, "utf8"), "nginx_running\n");
    assert.equal(readFileSync(b, "utf8"), "fail/pass\n");
    assert.equal(existsSync(c), false);
    assert.equal(r.counters().failed, 0);
    await r.stop();
  });

  it("a script that does not read a large event from stdin still runs to its exit status (EPIPE is no error)", async () => {
    const { r, log } = runner([{ event: "check-fail", script: "exit 0" }]);
    r.fire({ event: "check-fail", atMs: 1, check: { name: "c", schedule: "s", status: "fail", previous: "pass", message: "x".repeat(1 << 20) } });
    await waitUntil("the run", () => r.counters().ran === 1);
    assert.equal(r.counters().failed, 0, JSON.stringify(log.lines.map((l) => l.msg)));
    await r.stop();
  });

  it("runs scripts side by side: a slow script does not hold back a fast one fired after it", async () => {
    const fastDone = file("fast");
    const slowDone = file("slow");
    // The slow script ends only once the fast one has run: one at a time, it would wait for its timeout.
    const { r } = runner(
      [
        { event: "member-join", script: `while [ ! -e ${fastDone} ]; do sleep 0.02; done; echo slow > ${slowDone}` },
        { event: "member-leave", script: `echo fast > ${fastDone}` },
      ],
      { config: { timeoutMs: 20_000 } },
    );
    r.fire({ event: "member-join", atMs: 1, member: { name: "a", address: "x", status: "alive", tags: {} } });
    r.fire({ event: "member-leave", atMs: 2, member: { name: "b", address: "y", status: "left", tags: {} } });
    await waitUntil("the slow script, released by the fast one", () => existsSync(slowDone), 10_000);
    await waitUntil("both runs counted", () => r.counters().ran === 2);
    assert.deepEqual(r.counters(), { fired: 2, ran: 2, failed: 0, timedOut: 0, dropped: 0, queued: 0, running: 0 });
    await r.stop();
  });

  it("kills the whole process group at the timeout: a sleep the script left in the background is gone", async () => {
    const pidFile = file("bg");
    const { r, log } = runner([{ event: "batch-run", script: `sleep 3000 & echo $! > ${pidFile}; echo started; wait` }], { config: { timeoutMs: 300, killGraceMs: 200 } });
    r.fire({ event: "batch-run", atMs: 1, batch: { id: "ab", origin: "web-02", checks: 2, failed: 0 } });
    await waitUntil("the background sleep to start", () => existsSync(pidFile) && readFileSync(pidFile, "utf8").endsWith("\n"));
    const sleeper = Number(readFileSync(pidFile, "utf8"));
    started.add(sleeper);
    await waitUntil("the run to time out", () => r.counters().timedOut === 1);
    await waitUntil(`the background sleep ${sleeper} to be gone`, () => isDead(sleeper));
    assert.deepEqual(r.counters(), { fired: 1, ran: 1, failed: 0, timedOut: 1, dropped: 0, queued: 0, running: 0 });
    const line = log.lines.find((l) => l.level === "warn");
    assert.match(line?.msg ?? "", /^trigger batch-run: sleep 3000 .*: timed out after 300 ms; its process group was killed: started$/);
    await r.stop();
  });

  it("logs a failing script with its exit status and first line of output, and counts it", async () => {
    const { r, log } = runner([{ event: "check-warn", script: "echo 'disk nearly full'; echo second; exit 3" }]);
    r.fire({ event: "check-warn", atMs: 1 });
    await waitUntil("the run", () => r.counters().ran === 1);
    assert.equal(r.counters().failed, 1);
    const line = log.lines.find((l) => l.level === "warn")!;
    assert.equal(line.msg, "trigger check-warn: echo 'disk nearly full'; echo second; exit 3: exit status 3: disk nearly full");
    assert.equal((line.obj as { output: string }).output, "disk nearly full\nsecond\n");
    await r.stop();
  });

  it("says clearly when the script file is missing (at load and at each run) and counts a failure", async () => {
    const missing = join(dir, "no-such-script");
    const { r, log } = runner([{ event: "member-failed", script: `${missing} --urgent` }]);
    assert.equal(log.lines[0]?.msg, `trigger member-failed: ${missing}: no such file (each member-failed will fail until it is there)`);
    r.fire(failed);
    await waitUntil("the run", () => r.counters().ran === 1);
    assert.equal(r.counters().failed, 1);
    assert.equal(log.lines.at(-1)?.msg, `trigger member-failed: ${missing}: no such file`);

    const notExec = join(dir, "not-executable");
    writeFileSync(notExec, "#!/bin/sh\ntrue\n");
    chmodSync(notExec, 0o644);
    r.setTriggers([{ event: "member-failed", script: notExec }]);
    r.fire(failed);
    await waitUntil("the second run", () => r.counters().ran === 2);
    assert.match(log.lines.at(-1)?.msg ?? "", /: not executable \(chmod \+x it, or run it as "sh .*not-executable"\)$/);
    await r.stop();
  });

  it("runs an executable script file by its path", async () => {
    const script = join(dir, "record.sh");
    const out = file("record");
    writeFileSync(script, `#!/bin/sh\necho "$GOSSIPCHECK_EVENT $1" >> ${out}\n`);
    chmodSync(script, 0o755);
    const { r } = runner([{ event: "quorum-fail", script: `${script} arg1` }]);
    r.fire({ event: "quorum-fail", atMs: 1, quorum: { schedule: "s", check: "c", failing: 3, needed: 3, voters: 5, nodes: ["a", "b", "c"] } });
    await waitUntil("the run", () => r.counters().ran === 1);
    assert.equal(readFileSync(out, "utf8"), "quorum-fail arg1\n");
    await r.stop();
  });

  it("stop() ends a running script's process group after the grace and drops what waits", async () => {
    const pidFile = file("stop");
    const { r } = runner([{ event: "member-update", script: `echo $$ > ${pidFile}; sleep 3000` }], { config: { concurrency: 1, killGraceMs: 200 } });
    for (let i = 0; i < 3; i++) r.fire({ event: "member-update", atMs: i });
    await waitUntil("the first run to start", () => existsSync(pidFile) && readFileSync(pidFile, "utf8").endsWith("\n"));
    const shell = Number(readFileSync(pidFile, "utf8"));
    started.add(shell);
    await r.stop(100);
    assert.ok(isDead(shell), "the script's shell outlived stop()");
    assert.deepEqual(r.counters(), { fired: 3, ran: 1, failed: 0, timedOut: 1, dropped: 2, queued: 0, running: 0 });
    r.fire({ event: "member-update", atMs: 9 });
    assert.equal(r.counters().dropped, 3);
  });
});

describe("TriggerRunner queue", () => {
  /** A script runner whose runs end when the test says so. */
  function heldRuns() {
    const runs: { req: ActionRequest; end: () => void }[] = [];
    const runScript = (req: ActionRequest) =>
      new Promise<ActionOutcome>((resolve) => {
        runs.push({
          req,
          end: () => resolve({ command: req.command, exitCode: 0, signal: null, timedOut: false, output: "", outputTruncated: false, durationMs: 1, leftoversKilled: 0 }),
        });
      });
    return { runs, runScript };
  }

  it("holds at most concurrency runs at once and, when the queue is full, drops the oldest waiting run, counted and logged once", async () => {
    const { runs, runScript } = heldRuns();
    const { r, log } = runner([{ event: "member-join", script: "handle" }], { runScript, config: { concurrency: 2, queueLimit: 3 } });
    const join = (n: number): TriggerEvent => ({ event: "member-join", atMs: n, member: { name: `m${n}`, address: "x", status: "alive", tags: {} } });
    for (let i = 0; i < 7; i++) r.fire(join(i));
    assert.equal(runs.length, 0, "fire() started a process before returning");
    await waitUntil("two runs to start", () => runs.length === 2);
    // Two slots and three waiting: 0 and 1, the oldest, were dropped; 2 and 3 run.
    assert.deepEqual(r.counters(), { fired: 7, ran: 0, failed: 0, timedOut: 0, dropped: 2, queued: 3, running: 2 });
    assert.equal(log.lines.filter((l) => l.msg.startsWith("trigger queue full")).length, 1, "the drop is logged once per 10 s");
    runs[0]!.end();
    runs[1]!.end();
    await waitUntil("the next two runs", () => runs.length === 4);
    runs[2]!.end();
    runs[3]!.end();
    await waitUntil("the last run", () => runs.length === 5);
    runs[4]!.end();
    await waitUntil("every run to end", () => r.counters().ran === 5);
    const names = runs.map((x) => x.req.env!.GOSSIPCHECK_MEMBER_NAME);
    assert.deepEqual(names, ["m2", "m3", "m4", "m5", "m6"]);
    assert.deepEqual(r.counters(), { fired: 7, ran: 5, failed: 0, timedOut: 0, dropped: 2, queued: 0, running: 0 });
    await r.stop();
  });

  it("a run that throws is a failure, and the queue goes on", async () => {
    let calls = 0;
    const runScript = async (req: ActionRequest): Promise<ActionOutcome> => {
      if (calls++ === 0) throw new Error("boom");
      return { command: req.command, exitCode: 0, signal: null, timedOut: false, output: "", outputTruncated: false, durationMs: 1, leftoversKilled: 0 };
    };
    const { r, log } = runner([{ event: "member-join", script: "x" }], { runScript, config: { concurrency: 1 } });
    r.fire({ event: "member-join", atMs: 1 });
    r.fire({ event: "member-join", atMs: 2 });
    await waitUntil("both runs", () => r.counters().ran === 2);
    assert.equal(r.counters().failed, 1);
    assert.ok(log.lines.some((l) => l.msg === "trigger member-join: x: boom"));
    await r.stop();
  });
});
