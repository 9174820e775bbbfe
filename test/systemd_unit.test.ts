import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseDaemonFlags } from "../src/daemon/flags.js";
import { ROOT, tempDir } from "./support/proc.js";

/*
 * examples/systemd/gossipcheckd.service: systemd itself finds nothing wrong
 * with it (`systemd-analyze verify`, where installed), and it says what the
 * daemon needs: a graceful stop by SIGTERM, reload by SIGHUP, the state
 * directory as data dir, a cgroup subtree for actions, flags the daemon knows.
 */

const UNIT_PATH = join(ROOT, "examples/systemd/gossipcheckd.service");
const unit = readFileSync(UNIT_PATH, "utf8");
const INSTALLED_BIN = "/usr/local/bin/gossipcheckd";

/** Every value of a directive (Key=value lines; comments skipped). */
function directive(key: string): string[] {
  return unit
    .split("\n")
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

const analyze = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
const noAnalyze = analyze.status === 0 ? false : `systemd-analyze is not installed (${analyze.error?.message ?? `exit ${analyze.status}`}): cannot verify the unit`;

/**
 * Runs `systemd-analyze verify` on a copy of `text` whose ExecStart binary is
 * a stand-in executable in a temp dir: verify insists that the binary exists,
 * and /usr/local/bin/gossipcheckd is not installed on a test machine. (With
 * --root=DIR verify would look for the binary there, but also for every
 * target the unit pulls in: a whole /usr/lib/systemd tree.)
 */
function verify(text: string): { status: number | null; output: string } {
  const t = tempDir("gc-unit-");
  try {
    const bin = join(t.path, "gossipcheckd");
    writeFileSync(bin, "#!/bin/sh\n");
    chmodSync(bin, 0o755);
    const file = join(t.path, "gossipcheckd.service");
    writeFileSync(file, text.replaceAll(INSTALLED_BIN, bin));
    const r = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8", timeout: 30_000 });
    return { status: r.status, output: (r.stdout + r.stderr).trim() };
  } finally {
    t.cleanup();
  }
}

describe("the example systemd unit", () => {
  it("passes systemd-analyze verify without a warning", { skip: noAnalyze }, () => {
    const r = verify(unit);
    assert.equal(r.status, 0, r.output);
    // verify exits 0 on directives it ignores, with a warning: there must be none.
    assert.equal(r.output, "");
  });

  it("(the verify check sees a broken unit: a misspelt directive and a bad value are reported)", { skip: noAnalyze }, () => {
    const r = verify(unit.replace("RestartSec=5s", "RestartSec=soon").replace("Delegate=yes", "Delgate=yes"));
    assert.match(r.output, /RestartSec|soon/);
    assert.match(r.output, /Delgate/);
  });

  it("stops with SIGTERM (a graceful leave), reloads with SIGHUP, restarts on failure but not on a refusal", () => {
    assert.deepEqual(directive("Type"), ["exec"]);
    assert.deepEqual(directive("KillSignal"), ["SIGTERM"]);
    assert.deepEqual(directive("ExecReload"), ["/bin/kill -HUP $MAINPID"]);
    assert.deepEqual(directive("Restart"), ["on-failure"]);
    assert.deepEqual(directive("RestartPreventExitStatus"), ["2"]);
    assert.deepEqual(directive("StateDirectory"), ["gossipcheck"]);
    assert.deepEqual(directive("Delegate"), ["yes"], "actions get a cgroup of their own below the service's (src/checks/cgroup.ts)");
    assert.equal(directive("LimitNOFILE").length, 1);
  });

  it("starts the installed daemon with the config file, the state directory and the key, all flags it knows", () => {
    const [execStart] = directive("ExecStart");
    const [bin, ...args] = execStart!.split(/\s+/);
    assert.equal(bin, INSTALLED_BIN);
    const at = args.indexOf("-config-file");
    assert.equal(args[at + 1], "/etc/gossipcheck/gossipcheckd.json");
    // -config-file's contents are the config loader's business; the other flags must parse.
    const rest = args.filter((_, i) => i !== at && i !== at + 1);
    const parsed = parseDaemonFlags(rest, { hostname: "node-1", homeDir: "/root", isRoot: true, externalIPv4: ["10.0.0.5"] });
    assert.equal(parsed.kind, "run", parsed.kind === "exit" ? parsed.stderr : "");
    if (parsed.kind !== "run") return;
    assert.equal(parsed.options.dataDir, "/var/lib/gossipcheck");
    assert.equal(parsed.options.keyFile, "/etc/gossipcheck/cluster.key");
  });
});
