import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type ClusterNode, infoOf, membersOf, startClusterNode, stopAll } from "../support/daemon_cluster.js";
import { type DaemonProc, runDaemonToExit, spawnDaemon, tempDir, waitFor } from "../support/proc.js";

/*
 * gossipcheckd configured by files and GOSSIPCHECKD_* variables, as a real
 * process: started from a config file alone, -check-config, and SIGHUP
 * (live changes spread to another node; what needs a restart is kept; a
 * broken file changes nothing).
 */

function writeJson(path: string, value: object | string): void {
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value, null, 2));
}

const logged = (d: DaemonProc, test: (msg: string) => boolean) => d.logLines().some((l) => typeof l.msg === "string" && test(l.msg));

/** The node as the cluster helpers want it, for a daemon started some other way. */
function asClusterNode(name: string, proc: DaemonProc): ClusterNode {
  return { name, proc, address: String(proc.startup.address), cli: proc.cliAddress! };
}

describe("gossipcheckd configuration", () => {
  it("starts from a config file alone; a variable wins over the file", async () => {
    const t = tempDir();
    let d: DaemonProc | undefined;
    try {
      const file = join(t.path, "gossipcheckd.json");
      writeJson(file, { bind: "127.0.0.1:0", "cli-bind": "127.0.0.1:0", "data-dir": join(t.path, "data"), name: "from-file", profile: "local", tag: { role: "web" }, "no-actions": true });
      d = await spawnDaemon(["-config-file", file], { bare: true, env: { GOSSIPCHECKD_NAME: "from-env" } });
      assert.equal(d.startup.name, "from-env");
      assert.equal(d.startup.dataDir, join(t.path, "data"));
      const info = await infoOf(asClusterNode("from-env", d));
      assert.deepEqual(info.tags, { role: "web" });
      assert.equal(info.actionsEnabled, false);
    } finally {
      await d?.stop();
      t.cleanup();
    }
  });

  it("-check-config: exit 0 and a one-line summary of the sources, touching nothing; exit 2 with every error, named", async () => {
    const t = tempDir();
    try {
      const file = join(t.path, "gossipcheckd.json");
      const dataDir = join(t.path, "not-yet");
      writeJson(file, { bind: "127.0.0.1:0", "data-dir": dataDir, name: "checked", tag: { role: "web" } });
      const good = await runDaemonToExit(["-config-file", file, "-check-config", "-no-cli"], { env: { GOSSIPCHECKD_LOG_LEVEL: "warn" } });
      assert.equal(good.code, 0, good.stderr);
      assert.equal(
        good.stdout,
        `gossipcheckd: configuration ok (node checked, bind 127.0.0.1:0): 4 settings from 1 file (${file}), 1 from the environment (GOSSIPCHECKD_LOG_LEVEL), 1 from flags (-no-cli), the rest defaults\n`,
      );
      assert.equal(existsSync(dataDir), false, "the data dir is inspected, not created");

      writeJson(file, { bnd: "127.0.0.1:0", "log-level": "debug" });
      const bad = await runDaemonToExit(["-config-file", file, "-check-config"], { env: { GOSSIPCHECKD_PROFLE: "local" } });
      assert.equal(bad.code, 2);
      assert.equal(bad.stdout, "");
      assert.deepEqual(bad.stderr.trim().split("\n"), [`${file}: key "bnd": unknown key (did you mean "bind"?)`, "GOSSIPCHECKD_PROFLE: unknown variable (did you mean GOSSIPCHECKD_PROFILE?)"]);

      // Valid values, but a file they name is missing: found without starting.
      writeJson(file, { bind: "127.0.0.1:0", "data-dir": dataDir, "trusted-keys": join(t.path, "no-keys") });
      const ground = await runDaemonToExit(["-config-file", file, "-check-config"]);
      assert.equal(ground.code, 2);
      assert.match(ground.stderr, /^gossipcheckd: -trusted-keys: cannot read the trusted keys dir .*no-keys/);
    } finally {
      t.cleanup();
    }
  });

  it("SIGHUP: a new log level and tags apply (another node sees the tags), a new bind is refused, a broken file changes nothing", async () => {
    const t = tempDir();
    const file = join(t.path, "gossipcheckd.json");
    const base = { bind: "127.0.0.1:0", "cli-bind": "127.0.0.1:0", "data-dir": join(t.path, "data"), name: "hup-a", profile: "local" };
    writeJson(file, { ...base, tag: { role: "web" } });
    let a: ClusterNode | undefined;
    let b: ClusterNode | undefined;
    try {
      a = asClusterNode("hup-a", await spawnDaemon(["-config-file", file], { bare: true }));
      b = await startClusterNode("hup-b", ["-peers", a.address]);
      const aSeenByB = async () => (await membersOf(b!)).find((m) => m.name === "hup-a");
      await waitFor(async () => (await aSeenByB())?.tags.role === "web", 10_000, "hup-b to list hup-a with role=web");

      writeJson(file, { ...base, bind: "127.0.0.1:1", "log-level": "debug", tag: { role: "db", dc: "eu" } });
      process.kill(a.proc.pid, "SIGHUP");
      await waitFor(async () => JSON.stringify((await aSeenByB())?.tags) === JSON.stringify({ role: "db", dc: "eu" }), 10_000, "hup-b to see hup-a's new tags");
      const p = a.proc;
      await waitFor(() => logged(p, (m) => m.startsWith("reload: 2 applied")), 5_000, "the reload summary");
      assert.ok(logged(p, (m) => m === "reload: log-level info -> debug"));
      assert.ok(logged(p, (m) => m === "reload: tag role=web -> role=db,dc=eu"));
      assert.ok(logged(p, (m) => m === "reload: bind changed (127.0.0.1:0 -> 127.0.0.1:1) but needs a restart: keeping 127.0.0.1:0"));
      const info = await infoOf(a);
      assert.equal(info.address, a.address, "still on the address it started with");
      assert.deepEqual(info.tags, { role: "db", dc: "eu" });
      // Debug is on: the control API logs each request at debug level.
      await waitFor(() => logged(p, (m) => m === "control API request"), 5_000, "a debug line");
      const incarnation = (await aSeenByB())!.incarnation;

      for (const [broken, why] of [
        ['{"tag": {"role": "x"}', `reload failed, nothing changed: ${file}: not valid JSON`],
        [JSON.stringify({ ...base, "log-level": "loud", tag: { role: "x" } }), `reload failed, nothing changed: ${file}: key "log-level": -log-level "loud"`],
      ] as const) {
        writeJson(file, broken);
        process.kill(p.pid, "SIGHUP");
        await waitFor(() => logged(p, (m) => m.startsWith(why)), 5_000, `the reload error: ${why}`);
      }
      assert.deepEqual((await infoOf(a)).tags, { role: "db", dc: "eu" }, "tags as they were");
      const seen = (await aSeenByB())!;
      assert.deepEqual([seen.tags, seen.incarnation], [{ role: "db", dc: "eu" }, incarnation], "no member update went out");
      const debugLines = () => p.logLines().filter((l) => l.msg === "control API request").length;
      const before = debugLines();
      await infoOf(a);
      await waitFor(() => debugLines() > before, 5_000, "debug logging still on");
    } finally {
      await stopAll([a, b]);
      t.cleanup();
    }
  });
});
