import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { CheckRunContext } from "../src/checks/check_type.js";
import type { Evaluation } from "../src/checks/evaluation.js";
import { parseCheckObject, runBatch } from "../src/checks/index.js";
import { makeServiceCheck } from "../src/checks/service.js";

/*
 * The `service` check type (src/checks/service.ts). Against the real systemd
 * where it is the init system (skipped otherwise, saying so); on any host,
 * with a stand-in `systemctl` put first on PATH that prints what the real
 * `systemctl show -p LoadState,ActiveState,UnitFileState UNIT` prints for a
 * running enabled unit, a stopped disabled one and an unknown one, the
 * "systemd is the init system" probe forced true through makeServiceCheck.
 */

const booted = existsSync("/run/systemd/system");

const fakeDir = mkdtempSync(join(tmpdir(), "gossipcheck-systemctl-"));
// Shaped as the real systemctl show prints it: one PROPERTY=value line per property asked (an unknown unit: LoadState=not-found, UnitFileState empty).
writeFileSync(
  join(fakeDir, "systemctl"),
  `#!/bin/sh
[ "$1 $2 $3" = "show -p LoadState,ActiveState,UnitFileState" ] || { echo "unexpected arguments: $*" >&2; exit 64; }
case "$4" in
  up) printf 'LoadState=loaded\\nActiveState=active\\nUnitFileState=enabled\\n' ;;
  down) printf 'LoadState=loaded\\nActiveState=inactive\\nUnitFileState=disabled\\n' ;;
  *) printf 'LoadState=not-found\\nActiveState=inactive\\nUnitFileState=\\n' ;;
esac
`,
  { mode: 0o755 },
);
after(() => rmSync(fakeDir, { recursive: true, force: true }));

const withFake = makeServiceCheck({ systemdBooted: () => true, env: { ...process.env, PATH: `${fakeDir}:${process.env.PATH ?? ""}` } });
const ctx: CheckRunContext = {
  processes: () => Promise.reject(new Error("unused")),
  syncFileIo: false,
  memo: (_k, load) => load(),
  checks: [],
  check: "c",
  batchId: "b",
  node: "n",
  timeoutMs: undefined,
  allowCommands: true,
};

function fake(fields: Record<string, unknown>): Promise<Evaluation> {
  return withFake.evaluate({ running: true, ...fields } as never, ctx);
}

async function real(fields: Record<string, unknown>) {
  const parsed = parseCheckObject({ c: { type: "service", ...fields } }, "test");
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.errors.join("; "));
  const [r] = await runBatch(parsed.checks, { batchId: "b", node: "n", runActions: true });
  return r!;
}

describe("service checks", () => {
  it("service: without systemd as the init system the result is an error saying so, never a fail", async (t) => {
    if (booted) return t.skip("systemd is the init system here (/run/systemd/system exists)");
    const r = await real({ service: "ssh" });
    assert.equal(r.status, "error");
    assert.match(r.message, /service "ssh": cannot look: systemd is not the init system on this host \(no \/run\/systemd\/system\)/);
  });

  it("service, running, enabled: against the real systemd", async (t) => {
    if (!booted) return t.skip("systemd is not the init system on this host (no /run/systemd/system)");
    const r = await real({ service: "systemd-journald" });
    assert.notEqual(r.status, "error", r.message);
    assert.match(r.message, /systemd-journald/);
    const none = await real({ service: "no-such-unit-gossipcheck" });
    assert.equal(none.status, "fail");
    assert.match(none.message, /not found by systemd; expected running, expected enabled/);
    assert.equal((await real({ service: "no-such-unit-gossipcheck", running: false, enabled: false })).status, "pass");
  });

  it("running and enabled default to true (stand-in systemctl)", async () => {
    const r = await fake({ service: "up" });
    assert.deepEqual(r, { status: "pass", message: 'service "up": active, enabled' });
    const d = await fake({ service: "down" });
    assert.equal(d.status, "fail");
    assert.equal(d.message, 'service "down": inactive, disabled; expected running, expected enabled');
  });

  it("running: false and enabled: false ask for the opposite (stand-in systemctl)", async () => {
    assert.equal((await fake({ service: "down", running: false, enabled: false })).status, "pass");
    assert.match((await fake({ service: "up", running: false })).message, /active, enabled; expected not running$/);
    assert.match((await fake({ service: "up", enabled: false })).message, /expected not enabled$/);
  });

  it("service: a unit systemd does not know is neither running nor enabled (stand-in systemctl)", async () => {
    assert.equal((await fake({ service: "nosuch" })).message, 'service "nosuch": not found by systemd; expected running, expected enabled');
  });

  it("a missing systemctl is an error naming it", async () => {
    const none = makeServiceCheck({ systemdBooted: () => true, env: { PATH: "/nonexistent-gossipcheck" } });
    const r = await none.evaluate({ service: "x" }, ctx);
    assert.deepEqual(r, { status: "error", message: 'service "x": cannot look: systemctl is not on PATH' });
  });

  it("validation names each field and what it expects", () => {
    const p = parseCheckObject({ a: { type: "service", service: "-H", running: "yes" }, b: { type: "service", service: "--all" }, c: { type: "service", enabled: 1 } }, "f.json");
    const errors = p.ok ? [] : p.errors;
    assert.ok(
      errors.some((e) => /f\.json: check "a": field "running": expected true or false/.test(e)),
      errors.join("\n"),
    );
    assert.ok(errors.some((e) => /check "b": field "service": "--all" starts with "-": a unit name cannot start with "-"/.test(e)));
    assert.ok(errors.some((e) => /check "c": field "service" is missing/.test(e)));
    assert.ok(errors.some((e) => /check "c": field "enabled": expected true or false/.test(e)));
  });
});
