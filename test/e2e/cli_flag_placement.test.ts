import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type DaemonProc, runGcheck, spawnDaemon, tempDir } from "../support/proc.js";

/*
 * Flags before the command through the built gcheck binary (issue 10,
 * item 5): the command line from the report against a real daemon, and the
 * exit codes and streams of help and of an unknown flag.
 */

let d: DaemonProc;
const t = tempDir("gcheck-flags-");

before(async () => {
  d = await spawnDaemon(["-name", "solo"]);
});
after(async () => {
  await d.stop();
  t.cleanup();
});

describe("gcheck with flags before the command, as a process", () => {
  it("gcheck -server S -file F -timeout 5s -dry-run check runs the batch, evaluating only", async () => {
    const marker = join(t.path, "marker");
    const file = join(t.path, "checks.json");
    writeFileSync(file, JSON.stringify({ needs_marker: { type: "file_exists", path: marker, action: `touch ${marker}` } }));
    const r = await runGcheck(["-server", d.cliAddress!, "-file", file, "-timeout", "5s", "-dry-run", "check"]);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /^solo\s+needs_marker\s+FAIL\s/m);
    assert.equal(existsSync(marker), false, "-dry-run before the command was honoured: no action ran");
  });

  it("-help before the command prints that command's help on stdout, exit 0; an unknown flag there exits 2 naming it", async () => {
    const h = await runGcheck(["-help", "keys"]);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^Usage: gcheck keys /);
    const u = await runGcheck(["-server", d.cliAddress!, "-timeout", "5s", "-bogus", "check"]);
    assert.equal(u.code, 2);
    assert.equal(u.stderr, "gcheck: unknown flag -bogus (see gcheck -help)\n");
  });
});
