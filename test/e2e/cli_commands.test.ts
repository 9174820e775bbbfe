import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type DaemonProc, LOAD_DEBUG, ROOT, loadedPackages, runGcheck, spawnDaemon, tempDir } from "../support/proc.js";

/*
 * gcheck against a real single-node gossipcheckd: every command, its output
 * formats and its exit codes, with check files that really pass, really
 * fail and really get fixed by their actions.
 */

const EXAMPLES = join(ROOT, "examples/checks");
const FIXTURES = join(ROOT, "test/fixtures");

let d: DaemonProc;
const t = tempDir("gcheck-e2e-");
const gcheck = (...args: string[]) => runGcheck(["-server", d.cliAddress!, ...args]);
const lines = (s: string) => s.trimEnd().split("\n");

/** Writes a check file into the test's temp dir and returns its path. */
function checkFile(name: string, checks: Record<string, unknown>): string {
  const p = join(t.path, name);
  writeFileSync(p, JSON.stringify(checks, null, 2));
  return p;
}

before(async () => {
  d = await spawnDaemon(["-name", "solo", "-tag", "role=web"]);
});
after(async () => {
  await d.stop();
  t.cleanup();
});

describe("gcheck validate (offline)", () => {
  it("accepts the example files: exit 0 and the check count", async () => {
    for (const [file, n] of [
      ["demo.json", 4],
      ["original.json", 3],
    ] as const) {
      const r = await runGcheck(["-file", join(EXAMPLES, file), "validate"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${join(EXAMPLES, file)}: valid, ${n} checks\n`);
    }
  });

  it("lists every problem of an invalid file and exits 2", async () => {
    const file = join(FIXTURES, "cli_two_bad_checks.json");
    const r = await runGcheck([`-file=${file}`, "validate"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /check "first_bad": field "path" is missing/);
    assert.match(r.stderr, /check "second_bad": field "path": expected a string/);
    assert.match(r.stderr, /invalid, 2 problems\n$/);
  });

  it("reports malformed JSON with its line and column", async () => {
    const r = await runGcheck(["-file", join(EXAMPLES, "invalid-syntax.json"), "validate"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid-syntax\.json:\d+:\d+: malformed JSON/);
  });

  it("gives a JSON document with -output json", async () => {
    const r = await runGcheck(["-output", "json", "-file", join(FIXTURES, "cli_two_bad_checks.json"), "validate"]);
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.stdout) as { valid: boolean; errors: string[] };
    assert.equal(doc.valid, false);
    assert.equal(doc.errors.length, 2);
  });

  it("needs no daemon", async () => {
    const r = await runGcheck(["-server", "127.0.0.1:1", "-file", join(EXAMPLES, "demo.json"), "validate"]);
    assert.equal(r.code, 0);
  });
});

describe("gcheck local-check", () => {
  it("evaluates the demo file on the daemon's host and prints a table", async () => {
    const r = await gcheck("-file", join(EXAMPLES, "demo.json"), "local-check");
    const markerExists = existsSync("/tmp/gossipcheck-demo/marker");
    assert.equal(r.code, markerExists ? 0 : 1, r.stderr);
    const out = lines(r.stdout);
    assert.match(out[0]!, /^CHECK\s+STATUS\s+DURATION\s+MESSAGE$/);
    for (const name of ["hostname_file_exists", "os_release_has_id", "node_is_running"]) {
      assert.match(r.stdout, new RegExp(`^${name}\\s+PASS\\s`, "m"));
    }
    assert.match(r.stdout, new RegExp(`^demo_marker_exists\\s+${markerExists ? "PASS" : "FAIL"}\\s`, "m"));
    assert.match(out.at(-1)!, /^solo: \d passed, \d failed, 0 errored$/);
  });

  it("exits 0 when all pass and 1 when one fails, and never runs actions", async () => {
    const pass = checkFile("lc-pass.json", { here: { type: "file_exists", path: t.path } });
    assert.equal((await gcheck("-file", pass, "local-check")).code, 0);
    const marker = join(t.path, "lc-marker");
    const fail = checkFile("lc-fail.json", { here: { type: "file_exists", path: t.path }, missing: { type: "file_exists", path: marker, action: `touch ${marker}` } });
    const r = await gcheck("local-check", "-file", fail);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^missing\s+FAIL\s/m);
    assert.equal(existsSync(marker), false, "local-check ran no action");
  });

  it("gives JSON and JUnit documents", async () => {
    const f = checkFile("lc-json.json", { here: { type: "file_exists", path: t.path } });
    const json = await gcheck("-file", f, "-output", "json", "local-check");
    const doc = JSON.parse(json.stdout) as { node: string; exitCode: number; results: { name: string; status: string }[] };
    assert.deepEqual([doc.node, doc.exitCode, doc.results[0]!.name, doc.results[0]!.status], ["solo", 0, "here", "pass"]);
    const junit = await gcheck("-file", f, "-output", "junit", "local-check");
    assert.match(junit.stdout, /<testsuite name="solo" hostname="solo" tests="1" failures="0" errors="0"/);
  });
});

describe("gcheck check on one node", () => {
  it("runs the fixing action, reports FIXED with the node's name, exits 0", async () => {
    const marker = join(t.path, "fixed-marker");
    const f = checkFile("fix.json", { needs_marker: { type: "file_exists", path: marker, action: `printf %s "$GOSSIPCHECK_NODE" > ${marker}` } });
    const r = await gcheck(`-file=${f}`, "check");
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(readFileSync(marker, "utf8"), "solo", "the action ran with GOSSIPCHECK_NODE");
    assert.match(r.stdout, /^NODE\s+CHECK\s+STATUS\s+DURATION\s+MESSAGE$/m);
    assert.match(r.stdout, /^solo\s+needs_marker\s+FIXED\s/m);
    assert.match(lines(r.stdout).at(-1)!, /^1\/1 nodes answered; checks: 0 passed, 1 fixed, 0 failed, 0 errored; \S+$/);
    assert.equal(r.stderr, "", "no progress line when stderr is not a terminal");
  });

  it("exits 1 when a check stays failing, with the failing rows first", async () => {
    const f = checkFile("fail.json", {
      a_passes: { type: "file_exists", path: t.path },
      b_fails: { type: "file_contains", path: join(ROOT, "package.json"), check: "no-such-text-anywhere", action: "echo tried; exit 3" },
    });
    const r = await gcheck("-file", f, "check");
    assert.equal(r.code, 1);
    const rows = lines(r.stdout).slice(1, 3);
    assert.match(rows[0]!, /^solo\s+b_fails\s+FAIL\s/);
    assert.match(rows[1]!, /^solo\s+a_passes\s+PASS\s/);
    assert.match(r.stdout, /checks: 1 passed, 0 fixed, 1 failed, 0 errored/);
  });

  it("gives one JSON document with every result and the exit code", async () => {
    const f = checkFile("json.json", { a_passes: { type: "file_exists", path: t.path }, b_fails: { type: "file_exists", path: join(t.path, "nope") } });
    const r = await gcheck("-file", f, "check", "--output", "json");
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout) as {
      exitCode: number;
      failOn: string;
      origin: string;
      summary: { answered: number; checks: Record<string, number> };
      nodes: { node: string; state: string; results: { status: string }[] }[];
    };
    assert.equal(doc.exitCode, 1);
    assert.equal(doc.origin, "solo");
    assert.equal(doc.summary.answered, 1);
    // Every status's count, warn included at 0: a script reads the key without guarding it.
    assert.deepEqual(doc.summary.checks, { pass: 1, warn: 0, fixed: 0, fail: 1, error: 0 });
    assert.equal(doc.failOn, "fail");
    assert.deepEqual(
      doc.nodes.map((n) => [n.node, n.state, n.results.map((x) => x.status)]),
      [["solo", "answered", ["pass", "fail"]]],
    );
  });

  it("gives JUnit XML with a failure carrying the action's output", async () => {
    const f = checkFile("junit.json", {
      ok: { type: "file_exists", path: t.path },
      broken: { type: "file_exists", path: join(t.path, "never"), action: "echo 'could not <fix> & gave up'; exit 4" },
    });
    const r = await gcheck("-file", f, "-output", "junit", "check");
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="gossipcheck" tests="2" failures="1" errors="0"/);
    assert.match(r.stdout, /<testsuite name="solo" hostname="[^"]+" tests="2" failures="1" errors="0"/);
    assert.match(r.stdout, /<failure type="fail" message="[^"]*never[^"]*">[^<]*could not &lt;fix&gt; &amp; gave up/);
  });

  it("--dry-run evaluates without running the action", async () => {
    const marker = join(t.path, "dry-marker");
    const f = checkFile("dry.json", { m: { type: "file_exists", path: marker, action: `touch ${marker}` } });
    const r = await gcheck("-file", f, "check", "--dry-run");
    assert.equal(r.code, 1);
    assert.equal(existsSync(marker), false);
    assert.match(r.stdout, /^solo\s+m\s+FAIL\s.*dry run/m);
  });

  it("--node and --tag targeting that excludes this node expects nobody", async () => {
    const f = checkFile("target.json", { ok: { type: "file_exists", path: t.path } });
    for (const target of [
      ["--node", "elsewhere"],
      ["--tag", "role=db"],
    ]) {
      const r = await gcheck("-file", f, "check", ...target, "-output", "json");
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { summary: { expected: number } }).summary.expected, 0);
      assert.equal(r.stderr, "gcheck: no node matched the targeting (-node / -tag), so no node ran the batch\n");
    }
    const r = await gcheck("-file", f, "check", "--node", "solo", "--tag", "role=web");
    assert.match(r.stdout, /^1\/1 nodes answered/m);
  });

  it("exits 3 when the node does not answer before --timeout", async () => {
    const f = checkFile("slow.json", { slow: { type: "file_exists", path: join(t.path, "never-there"), action: "sleep 3", timeout: "5s" } });
    const r = await gcheck("-file", f, "check", "--timeout", "500ms");
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /^solo\s+-\s+NO ANSWER\s/m);
    assert.match(r.stdout, /0\/1 nodes answered;.*not answered: solo \(no answer\); timed out/);
  });

  it("refuses bad durations and tags as usage errors", async () => {
    const f = checkFile("usage.json", { ok: { type: "file_exists", path: t.path } });
    const bad = await gcheck("-file", f, "check", "--timeout", "soon");
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'gcheck: -timeout "soon": expected a duration such as 30s, 2m or 1m30s\n');
    const tag = await gcheck("-file", f, "check", "--tag", "novalue");
    assert.equal(tag.code, 2);
    assert.match(tag.stderr, /-tag "novalue": expected key=value/);
  });
});

describe("gcheck members, keygen and usage", () => {
  it("lists the node as a table and as JSON", async () => {
    const r = await gcheck("members");
    assert.equal(r.code, 0);
    assert.match(lines(r.stdout)[0]!, /^NAME\s+ADDRESS\s+STATUS\s+INCARNATION\s+TAGS\s+SINCE(\s+ROLE)?$/);
    assert.match(r.stdout, /^solo\s+127\.0\.0\.1:\d+\s+alive\s+1\s+role=web\s+\d+s ago(\s+coordinator)?$/m); // SWIM starts at incarnation 1
    const json = JSON.parse((await gcheck("members", "-output", "json", "--status", "alive")).stdout) as { members: { name: string }[] };
    assert.deepEqual(
      json.members.map((m) => m.name),
      ["solo"],
    );
    assert.deepEqual(JSON.parse((await gcheck("members", "--output=json", "--status", "dead")).stdout).members, []);
    const bad = await gcheck("members", "--status", "zombie");
    assert.equal(bad.code, 2);
  });

  it("keygen prints a fresh 32-byte base64 key each time", async () => {
    const a = (await runGcheck(["keygen"])).stdout.trim();
    const b = (await runGcheck(["keygen"])).stdout.trim();
    assert.equal(Buffer.from(a, "base64").length, 32);
    assert.notEqual(a, b);
  });

  it("says the daemon is not reachable, exit 2, no stack trace", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const f = checkFile("unreach.json", { ok: { type: "file_exists", path: t.path } });
    for (const cmd of ["local-check", "check", "members"]) {
      const r = await runGcheck(["-server", `127.0.0.1:${port}`, "-file", f, cmd]);
      assert.equal(r.code, 2);
      assert.equal(r.stderr, `gcheck: gossipcheckd not reachable at 127.0.0.1:${port}: is it running? (start it with gossipcheckd, or point -server at it)\n`);
    }
    const viaEnv = await runGcheck(["members"], { env: { GOSSIPCHECK_SERVER: `127.0.0.1:${port}` } });
    assert.match(viaEnv.stderr, new RegExp(`not reachable at 127\\.0\\.0\\.1:${port}`));
  });

  it("reports usage errors in one line with exit 2", async () => {
    const cases: [string[], RegExp][] = [
      [["-foo", "members"], /^gcheck: unknown flag -foo \(see gcheck -help\)\n$/],
      [["local-check"], /^gcheck: no check file: pass one with -file/],
      [["-file", join(t.path, "absent.json"), "check"], /absent\.json: no such file/],
      [["-output", "xml", "members"], /-output/],
      [["-output", "junit", "members"], /^gcheck: -output junit is not available for members: use table or json\n$/],
      [["frobnicate"], /^gcheck: unknown command "frobnicate"/],
      [["-server", "nohost:port", "members"], /^gcheck: -server "nohost:port": port "port" is not a number/],
    ];
    for (const [args, want] of cases) {
      const r = await runGcheck(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, want, args.join(" "));
    }
  });

  it("loads no heavy package (protobufjs, pino, systeminformation) for commands that do not need one", async () => {
    const f = checkFile("light.json", { ok: { type: "file_exists", path: t.path } });
    for (const args of [["--version"], ["members"], ["-file", f, "validate"], ["-file", f, "local-check"], ["-file", f, "check"]]) {
      const r = await runGcheck(["-server", d.cliAddress!, ...args], { env: { NODE_DEBUG: LOAD_DEBUG } });
      const loaded = loadedPackages(r.stderr);
      for (const heavy of ["protobufjs", "pino", "systeminformation"]) assert.ok(!loaded.has(heavy), `${args.join(" ")} loaded ${heavy}`);
      assert.ok(args[0] === "--version" || loaded.has("commander"), "the probe sees package loads");
    }
  });

  it("prints its version and help with exit 0", async () => {
    const v = await runGcheck(["--version"]);
    assert.equal(v.code, 0);
    assert.equal(v.stdout.trim(), (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version);
    const h = await runGcheck(["-help"]);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /local-check/);
  });
});
