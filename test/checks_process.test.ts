import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { checksModuleForNobody, runAsNobody } from "./support/as_nobody.js";
import { evaluateProcessRunning, matchProcesses } from "../src/checks/process_running.js";
import { takeProcessSnapshot, type ProcessSnapshot } from "../src/checks/processes.js";

const hasProc = existsSync("/proc/self/stat");
const isRoot = process.getuid?.() === 0;

/** Polls cond until it holds or the deadline passes (then fails with what). */
async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** A node process whose argv holds a marker no other process has. */
function spawnMarked(): { child: ChildProcess; marker: string } {
  const marker = `unique-marker-${randomBytes(8).toString("hex")}`;
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", marker], { stdio: "ignore" });
  children.push(child);
  return { child, marker };
}

describe("process snapshot and process_running on real processes", { skip: hasProc ? false : "no /proc on this host" }, () => {
  it("finds a spawned process by command line and by executable path, and no longer after it is killed", async () => {
    const { child, marker } = spawnMarked();
    // Until the child has exec'd, its /proc entry shows the parent's command line.
    await waitFor("the marked process in the snapshot", async () => matchProcesses(await takeProcessSnapshot(), { check: marker }).length > 0);
    const snap = await takeProcessSnapshot();

    const byCheck = evaluateProcessRunning(snap, { check: marker });
    assert.deepEqual(byCheck, { status: "pass", message: `1 process has a command line containing ${JSON.stringify(marker)}: PID ${child.pid}` });

    const exe = realpathSync(process.execPath);
    const both = evaluateProcessRunning(snap, { path: exe, check: marker });
    assert.deepEqual(both, { status: "pass", message: `1 process has an executable path containing ${JSON.stringify(exe)} and a command line containing ${JSON.stringify(marker)}: PID ${child.pid}` });
    const entry = snap.processes.find((p) => p.pid === child.pid)!;
    assert.equal(entry.exe, exe);
    assert.equal(entry.exeFromArgv0, false);
    assert.equal(entry.cmdline, `${process.execPath} -e setInterval(() => {}, 1000) ${marker}`);

    // Both criteria are ANDed: the right command line with the wrong executable is no match.
    const wrongExe = evaluateProcessRunning(snap, { path: "/usr/sbin/nginx", check: marker });
    assert.equal(wrongExe.status, "fail");
    assert.match(wrongExe.message, new RegExp(`^no running process has an executable path containing "/usr/sbin/nginx" and a command line containing "${marker}" \\(searched \\d+ processes`));

    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    const gone = evaluateProcessRunning(await takeProcessSnapshot(), { check: marker });
    assert.equal(gone.status, "fail");
    assert.match(gone.message, new RegExp(`^no running process has a command line containing "${marker}"`));
  });

  it("finds every matching process and lists their PIDs", async () => {
    const marker = `unique-marker-${randomBytes(8).toString("hex")}`;
    const pids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", marker, String(i)], { stdio: "ignore" });
      children.push(child);
      pids.push(child.pid!);
    }
    await waitFor("three marked processes", async () => matchProcesses(await takeProcessSnapshot(), { check: marker }).length === 3);
    const r = evaluateProcessRunning(await takeProcessSnapshot(), { check: marker });
    assert.equal(r.status, "pass");
    assert.match(r.message, /^3 processes have a command line containing /);
    for (const pid of pids) assert.ok(r.message.includes(String(pid)), `${pid} missing from ${r.message}`);
  });

  it("leaves out kernel threads, and lists this very process", async () => {
    const snap = await takeProcessSnapshot();
    assert.equal(snap.source, "/proc");
    const self = snap.processes.find((p) => p.pid === process.pid);
    assert.ok(self, "the test process is not in the snapshot");
    assert.equal(self.pgid, Number(readFileSync("/proc/self/stat", "latin1").split(") ")[1]!.split(" ")[2]));
    for (const p of snap.processes) assert.ok(p.cmdline !== "" || p.exe !== "", `pid ${p.pid} has neither command line nor executable`);
    if (existsSync("/proc/2/stat") && readFileSync("/proc/2/stat", "latin1").includes("(kthreadd)")) {
      assert.ok(!snap.processes.some((p) => p.pid === 2), "kthreadd (a kernel thread) is in the snapshot");
    }
  });

  it("still finds by command line a process whose executable link cannot be read", async (t) => {
    if (isRoot) {
      // As nobody, this root-owned test process's /proc/PID/exe is unreadable.
      const snapshotJs = checksModuleForNobody("processes.js");
      const code = `const { takeProcessSnapshot } = await import(${JSON.stringify(snapshotJs)});
        const s = await takeProcessSnapshot();
        process.stdout.write(JSON.stringify(s.processes.find((p) => p.pid === ${process.pid}) ?? null));`;
      const seen = JSON.parse(await runAsNobody(code)) as unknown;
      const argv0 = readFileSync("/proc/self/cmdline", "utf8").split("\0")[0];
      assert.deepEqual(seen, {
        pid: process.pid,
        pgid: (seen as { pgid: number }).pgid,
        exe: argv0,
        exeFromArgv0: true,
        cmdline: readFileSync("/proc/self/cmdline", "utf8").split("\0").slice(0, -1).join(" "),
      });
    } else {
      // Not root: PID 1 belongs to root, so its link is unreadable to us.
      const snap = await takeProcessSnapshot();
      const init = snap.processes.find((p) => p.pid === 1);
      if (!init) return t.skip("PID 1 is not visible in this PID namespace");
      assert.equal(init.exeFromArgv0, true);
    }
  });
});

describe("process snapshot without /proc", () => {
  it("falls back to ps-list and still finds this process with its executable and command line", async (t) => {
    if (spawnSync("ps", ["-p", String(process.pid)]).status !== 0) return t.skip("no ps binary for ps-list to use on this host");
    const snap = await takeProcessSnapshot(join(tmpdir(), `gossipcheck-no-proc-${randomBytes(4).toString("hex")}`));
    assert.equal(snap.source, "ps-list");
    const self = snap.processes.find((p) => p.pid === process.pid);
    assert.ok(self, "this process is missing from the ps-list snapshot");
    assert.ok(self.cmdline.includes(process.argv[1]!), `${self.cmdline} does not hold ${process.argv[1]}`);
  });
});

describe("process snapshot parsing (a /proc tree built by the test)", () => {
  const roots: string[] = [];
  after(async () => {
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  async function fakeProc(entries: Record<string, { stat?: string; cmdline?: string; exe?: string }>): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), "gossipcheck-fakeproc-"));
    roots.push(root);
    await mkdir(join(root, "self"));
    await writeFile(join(root, "self/stat"), "1 (x) S 0 1 1");
    for (const [pid, e] of Object.entries(entries)) {
      await mkdir(join(root, pid));
      if (e.stat !== undefined) await writeFile(join(root, pid, "stat"), e.stat);
      if (e.cmdline !== undefined) await writeFile(join(root, pid, "cmdline"), e.cmdline);
      if (e.exe !== undefined) await symlink(e.exe, join(root, pid, "exe"));
    }
    await mkdir(join(root, "not-a-pid"));
    return root;
  }

  it("keeps user processes and skips kernel threads, zombies and processes that vanished mid-scan", async () => {
    const root = await fakeProc({
      "2": { stat: "2 (kthreadd) S 0 0 0 0", cmdline: "" },
      "100": { stat: "100 (nginx) S 1 100 100 0", cmdline: "nginx: master process /usr/sbin/nginx\0", exe: "/usr/sbin/nginx" },
      "101": { stat: "101 (defunct) Z 100 100 100 0", cmdline: "" },
      "102": {}, // exited between readdir and read: its files are gone
      "103": { stat: "103 (a (weird) name) S 1 77 77 0", cmdline: "/opt/app/bin/app\0--flag\0value with space\0", exe: "/opt/app/bin/app (deleted)" },
      "104": { stat: "104 (sleep) S 1 104 104 0", cmdline: "sleep\0" + "300\0" },
    });
    const snap = await takeProcessSnapshot(root);
    snap.processes.sort((a, b) => a.pid - b.pid);
    assert.deepEqual(snap, {
      source: "/proc",
      processes: [
        { pid: 100, pgid: 100, exe: "/usr/sbin/nginx", exeFromArgv0: false, cmdline: "nginx: master process /usr/sbin/nginx" },
        { pid: 103, pgid: 77, exe: "/opt/app/bin/app (deleted)", exeFromArgv0: false, cmdline: "/opt/app/bin/app --flag value with space" },
        // No exe link (as when it cannot be read): argv[0] stands in.
        { pid: 104, pgid: 104, exe: "sleep", exeFromArgv0: true, cmdline: "sleep 300" },
      ],
    });
  });

  it("says when argv[0] stood in for unreadable executable paths", async () => {
    const root = await fakeProc({ "104": { stat: "104 (sleep) S 1 104 104 0", cmdline: "sleep\0" + "300\0" } });
    const r = evaluateProcessRunning(await takeProcessSnapshot(root), { path: "/usr/sbin/nginx" });
    assert.deepEqual(r, {
      status: "fail",
      message: 'no running process has an executable path containing "/usr/sbin/nginx" (searched 1 processes; for 1 whose executable could not be read, argv[0] stood in for the path)',
    });
  });

  it("leaves out the process groups of gossipcheck's own running actions", () => {
    const snap: ProcessSnapshot = {
      source: "/proc",
      processes: [
        { pid: 10, pgid: 10, exe: "/bin/dash", exeFromArgv0: false, cmdline: "/bin/sh -c service nginx restart" },
        { pid: 20, pgid: 20, exe: "/usr/sbin/nginx", exeFromArgv0: false, cmdline: "nginx: worker process" },
      ],
    };
    assert.deepEqual(
      matchProcesses(snap, { check: "nginx", excludeGroups: new Set([10]) }).map((p) => p.pid),
      [20],
    );
    assert.deepEqual(
      matchProcesses(snap, { check: "nginx" }).map((p) => p.pid),
      [10, 20],
    );
  });

  it("lists at most ten PIDs in a message", () => {
    const processes = Array.from({ length: 25 }, (_, i) => ({ pid: 1000 + i, exe: "/usr/bin/worker", exeFromArgv0: false, cmdline: "worker" }));
    const r = evaluateProcessRunning({ source: "/proc", processes }, { path: "worker" });
    assert.equal(r.message, '25 processes have an executable path containing "worker": PID 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009 and 15 more');
  });
});
