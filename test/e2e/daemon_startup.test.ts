import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DAEMON_BIN, LOAD_DEBUG, ROOT, loadedPackages, runGcheck, runNode, spawnDaemon, tempDir } from "../support/proc.js";

/*
 * gossipcheckd -version and -help answer from src/daemon/bin.ts without
 * loading the daemon, and say exactly what the full command line says.
 */

const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

describe("gossipcheckd's short answers", () => {
  it("-version and --version print the version and load no package", async () => {
    for (const flag of ["-version", "--version"]) {
      const r = await runNode(DAEMON_BIN, [flag], { env: { NODE_DEBUG: LOAD_DEBUG } });
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${VERSION}\n`);
      assert.deepEqual([...loadedPackages(r.stderr)], [], flag);
    }
  });

  it("-help, --help and -h print commander's help, the same as the full parse, loading no package", async () => {
    // A second flag makes bin.ts go the full way: main.ts, which parses with commander.
    const full = await runNode(DAEMON_BIN, ["-log-level", "info", "-help"]);
    assert.equal(full.code, 0);
    assert.match(full.stdout, /^Usage: gossipcheckd \[options\]\n/);
    for (const flag of ["-help", "--help", "-h"]) {
      const r = await runNode(DAEMON_BIN, [flag], { env: { NODE_DEBUG: LOAD_DEBUG } });
      assert.equal(r.code, 0);
      assert.equal(r.stdout, full.stdout, flag);
      assert.deepEqual([...loadedPackages(r.stderr)], [], flag);
    }
  });

  it("a flag error still goes through the full parse", async () => {
    const r = await runNode(DAEMON_BIN, ["-version=nope"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /see gossipcheckd -help/);
  });
});

describe("a serving daemon's start", () => {
  // Pretty logging (pino-pretty beside the inlined pino) is tested in daemon_logging.test.ts.
  it("loads neither worker_threads nor assert (pino's stand-ins in the bundle), and its JSON log is as before", async () => {
    const t = tempDir("gc-startup-modules-");
    try {
      // A preload that keeps writing the builtins this process loaded, until the test reads them.
      // Written beside and renamed over, so a read never sees a half-written list.
      const out = join(t.path, "modules.txt");
      const preload = join(t.path, "modules.cjs");
      writeFileSync(
        preload,
        `const fs = require("node:fs");\n` +
          `setInterval(() => { fs.writeFileSync(${JSON.stringify(`${out}.tmp`)}, process.moduleLoadList.join("\\n")); ` +
          `fs.renameSync(${JSON.stringify(`${out}.tmp`)}, ${JSON.stringify(out)}); }, 20).unref();\n`,
      );
      const d = await spawnDaemon(["-name", "mods"], { env: { NODE_OPTIONS: `--require ${preload}` } });
      try {
        const members = await runGcheck(["-server", d.cliAddress!, "members"]);
        assert.equal(members.code, 0, members.stderr);
        // A list written after the daemon has answered: drop any older one and wait for the next.
        rmSync(out, { force: true });
        const deadline = Date.now() + 10_000;
        while (!existsSync(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const loaded = readFileSync(out, "utf8").split("\n");
        assert.ok(loaded.includes("NativeModule net"), "the list is the daemon's");
        for (const name of ["worker_threads", "assert"]) assert.ok(!loaded.includes(`NativeModule ${name}`), `${name} was loaded`);
      } finally {
        await d.stop();
      }
      assert.equal(d.startup.level, "info");
      assert.equal(d.startup.node, "mods");
      assert.equal(d.stderr(), "");
    } finally {
      t.cleanup();
    }
  });
});
