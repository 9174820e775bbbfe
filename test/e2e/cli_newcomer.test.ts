import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { INFO_COUNTERS } from "../../src/cli/output/info.js";
import type { DaemonInfo } from "../../src/control/api_types.js";
import { type DaemonProc, ROOT, runGcheck, spawnDaemon, tempDir } from "../support/proc.js";

/*
 * The commands a newcomer reaches for, against a real single-node
 * gossipcheckd: list-members (the original's name for members), version,
 * info (table and JSON, its counters the daemon's real ones), a check file
 * piped on standard input with -file -, a check file with "$schema", and a
 * completion script from the built gcheck.
 */

const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const DEMO = join(ROOT, "examples/checks/demo.json");
let d: DaemonProc;
const t = tempDir("gcheck-newcomer-");
const gcheck = (args: string[], input?: string) => runGcheck(["-server", d.cliAddress!, ...args], input === undefined ? {} : { input });
/** Nothing listens on port 1 of loopback. */
const NO_DAEMON = "127.0.0.1:1";

before(async () => {
  d = await spawnDaemon(["-name", "solo", "-tag", "role=web"]);
});
after(async () => {
  await d.stop();
  t.cleanup();
});

describe("gcheck list-members", () => {
  it("answers exactly as members does, in JSON and as a table, with and without -status", async () => {
    for (const args of [["-output", "json"], ["-output=json", "-status", "alive"], ["-status", "dead", "-output", "json"], []]) {
      const [members, listMembers] = await Promise.all([gcheck(["members", ...args]), gcheck(["list-members", ...args])]);
      assert.equal(listMembers.code, 0, listMembers.stderr);
      // How long ago a member's status changed ("3s ago", statusAgeMs) may tick between the two runs.
      const stable = (s: string) => s.replace(/\d+s ago/g, "Ns ago").replace(/"statusAgeMs": \d+/g, '"statusAgeMs": N');
      assert.equal(stable(listMembers.stdout), stable(members.stdout), args.join(" "));
    }
    assert.match((await gcheck(["list-members"])).stdout, /^solo\s+127\.0\.0\.1:\d+\s+alive\s/m);
  });
});

describe("gcheck version", () => {
  it("prints gcheck's version and the daemon's name and version", async () => {
    const r = await gcheck(["version"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `gcheck        ${VERSION}\ngossipcheckd  ${VERSION} (node solo, protocol 1, at ${d.cliAddress})\n`);
    const json = JSON.parse((await gcheck(["version", "-output", "json"])).stdout) as unknown;
    assert.deepEqual(json, { gcheck: { version: VERSION }, daemon: { name: "solo", version: VERSION, protocolVersion: 1, server: d.cliAddress } });
  });

  it("says no daemon answered, still exit 0: the version asked for is gcheck's", async () => {
    const r = await runGcheck(["-server", NO_DAEMON, "version"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, `gcheck        ${VERSION}\ngossipcheckd  none answered: gossipcheckd not reachable at ${NO_DAEMON}: is it running? (start it with gossipcheckd, or point -server at it)\n`);
    const json = JSON.parse((await runGcheck(["-server", NO_DAEMON, "version", "-output", "json"])).stdout) as { daemon: unknown; daemonError: string };
    assert.equal(json.daemon, null);
    assert.match(json.daemonError, /not reachable/);
  });
});

describe("gcheck info", () => {
  it("shows name, version, uptime, members by status and the counters that matter, each a real counter of the daemon", async () => {
    const r = await gcheck(["info"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^node +solo$/m);
    assert.match(r.stdout, new RegExp(`^version +gossipcheckd ${VERSION.replace(/\./g, "\\.")} \\(protocol 1\\)$`, "m"));
    assert.match(r.stdout, /^uptime +\S+ \(since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\), pid \d+$/m);
    assert.match(r.stdout, /^tags +role=web$/m);
    assert.match(r.stdout, /^members +1 alive, 0 suspect, 0 dead, 0 left$/m);
    // "-" would mean the daemon has no such counter: a renamed counter fails here.
    for (const [, counters] of INFO_COUNTERS) {
      for (const [name] of counters) assert.match(r.stdout, new RegExp(`^ {2}${name} +\\d+ {2}\\S`, "m"), name);
    }
  });

  it("-output json is the daemon's GET /v1/info document, every counter included", async () => {
    const r = await gcheck(["-output", "json", "info"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as DaemonInfo;
    const direct = (await (await fetch(`http://${d.cliAddress}/v1/info`)).json()) as DaemonInfo;
    assert.deepEqual(Object.keys(doc).sort(), Object.keys(direct).sort());
    assert.deepEqual(Object.keys(doc.counters).sort(), Object.keys(direct.counters).sort());
    assert.equal(doc.name, "solo");
    assert.deepEqual(doc.members, { alive: 1, suspect: 0, dead: 0, left: 0 });
  });

  it("fails with exit 2 and one line when no daemon answers; -output junit is refused", async () => {
    const none = await runGcheck(["-server", NO_DAEMON, "info"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^gcheck: gossipcheckd not reachable at 127\.0\.0\.1:1: is it running\?.*\n$/);
    const junit = await gcheck(["info", "-output", "junit"]);
    assert.equal(junit.code, 2);
    assert.equal(junit.stderr, "gcheck: -output junit is not available for info: use table or json\n");
  });
});

describe("-file - reads the check file from standard input", () => {
  const passing = JSON.stringify({ root_exists: { type: "file_exists", path: "/" } });

  it("validate: valid and invalid files, named standard input", async () => {
    const ok = await runGcheck(["-file", "-", "validate"], { input: readFileSync(DEMO) });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "standard input: valid, 4 checks\n");
    const json = await runGcheck(["validate", "-file=-", "-output", "json"], { input: passing });
    assert.deepEqual(JSON.parse(json.stdout), { file: "standard input", valid: true, checks: 1, errors: [] });
    const bad = await runGcheck(["-file", "-", "validate"], { input: '{\n  "a": {"type": "file_exists",}\n}' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^standard input:2:30: malformed JSON: trailing comma/);
    assert.match(bad.stderr, /standard input: invalid, 1 problem\n$/);
    const empty = await runGcheck(["-file", "-", "validate"], { input: "" });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /^standard input: the file is empty/);
  });

  it("local-check and check run what came on standard input", async () => {
    const local = await gcheck(["-file", "-", "local-check", "-output", "json"], passing);
    assert.equal(local.code, 0, local.stderr);
    assert.deepEqual(
      (JSON.parse(local.stdout) as { results: { name: string; status: string }[] }).results.map((r) => [r.name, r.status]),
      [["root_exists", "pass"]],
    );
    const batch = await gcheck(["check", "-file", "-", "-timeout", "20s"], passing);
    assert.equal(batch.code, 0, batch.stderr);
    assert.match(batch.stdout, /^solo\s+root_exists\s+PASS\s/m);
  });

  it("a bad file on standard input is refused before the daemon is asked, naming standard input", async () => {
    const r = await runGcheck(["-server", NO_DAEMON, "-file", "-", "check"], { input: '{"a": {"type": "file_exist", "path": "/"}}' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^gcheck: standard input: check "a": field "type": unknown type "file_exist".*did you mean "file_exists"/);
  });
});

describe('"$schema" in a check file', () => {
  it("is accepted and ignored by validate, local-check and check, as is $comment in a check", async () => {
    const file = join(t.path, "with-schema.json");
    writeFileSync(file, JSON.stringify({ $schema: join(ROOT, "schema/checks.schema.json"), root_exists: { type: "file_exists", path: "/", $comment: "the root always exists" } }, null, 2));
    const v = await runGcheck(["-file", file, "validate"]);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout, `${file}: valid, 1 check\n`);
    for (const command of ["local-check", "check"]) {
      const r = await gcheck(["-file", file, command, "-output", "json"]);
      assert.equal(r.code, 0, `${command}: ${r.stderr}`);
      assert.match(r.stdout, /"name": "root_exists"/);
      assert.doesNotMatch(r.stdout, /\$schema/);
    }
  });

  it("in the shipped demo file sent to the control API as it is (README's curl), the daemon ignores it too", async () => {
    const res = await fetch(`http://${d.cliAddress}/v1/local-check`, { method: "POST", body: `{"checks": ${readFileSync(DEMO, "utf8")}}` });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { results: { name: string }[] };
    assert.deepEqual(
      body.results.map((r) => r.name),
      ["hostname_file_exists", "os_release_has_id", "node_is_running", "demo_marker_exists"],
    );
  });
});

describe("gcheck completion", () => {
  it("prints a bash script that bash accepts; an unknown shell is a usage error naming the ones there are", async () => {
    const r = await runGcheck(["completion", "bash"]);
    assert.equal(r.code, 0, r.stderr);
    const file = join(t.path, "gcheck.bash");
    writeFileSync(file, r.stdout);
    execFileSync("bash", ["-n", file]);
    assert.match(r.stdout, /^complete -F _gcheck gcheck$/m);
    const bad = await runGcheck(["completion", "powershell"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'gcheck: shell "powershell": expected one of bash, zsh, fish (see gcheck completion -help)\n');
  });
});
