import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DAEMON_BIN, LOAD_DEBUG, ROOT, loadedPackages, runNode } from "../support/proc.js";

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
