import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Command } from "commander";
import { placeFlags } from "../src/cli/flag_placement.js";
import { type Invocation, parseInvocation } from "../src/cli/program.js";

/*
 * Where gcheck's flags may stand: every command's flags before the command
 * word, right after it or at the end, Go style (-flag value, -flag=value) or
 * GNU style (--flag value, --flag=value), all parse to the same invocation.
 * Parsed without running anything (parseInvocation), so no daemon.
 */

type Flag = readonly [name: string, value?: string];

const SPELLINGS: Record<string, (name: string, value?: string) => string[]> = {
  "-flag value": (n, v) => (v === undefined ? [`-${n}`] : [`-${n}`, v]),
  "-flag=value": (n, v) => [v === undefined ? `-${n}` : `-${n}=${v}`],
  "--flag value": (n, v) => (v === undefined ? [`--${n}`] : [`--${n}`, v]),
  "--flag=value": (n, v) => [v === undefined ? `--${n}` : `--${n}=${v}`],
};

const PLACES: Record<string, (command: string, flags: string[], args: string[]) => string[]> = {
  "before the command": (c, f, a) => [...f, c, ...a],
  "right after the command": (c, f, a) => [c, ...f, ...a],
  "at the end": (c, f, a) => [c, ...a, ...f],
};

const GLOBAL_FLAGS: Flag[] = [
  ["server", "127.0.0.1:1"],
  ["file", "f.json"],
  ["output", "json"],
  ["token-file", "tok"],
];
const GLOBALS = { server: "127.0.0.1:1", file: "f.json", output: "json", tokenFile: "tok" };

/** Every spelling in every place parses to `want`; -help/--help/-h before or after show the command's help. */
async function assertFlagsAnywhere(command: string, flags: Flag[], args: string[], want: Omit<Invocation, "command" | "globals">): Promise<void> {
  for (const [style, spell] of Object.entries(SPELLINGS)) {
    const words = [...GLOBAL_FLAGS, ...flags].flatMap(([n, v]) => spell(n, v));
    for (const [where, place] of Object.entries(PLACES)) {
      const argv = place(command, words, args);
      assert.deepEqual(await parseInvocation(argv), { command, ...want, globals: GLOBALS }, `${style} ${where}: gcheck ${argv.join(" ")}`);
    }
  }
  for (const help of ["-help", "--help", "-h"]) {
    for (const argv of [
      [help, command],
      [command, help],
      ["-server", "127.0.0.1:1", help, command, ...args],
    ]) {
      const r = await parseInvocation(argv);
      assert.ok("code" in r, `gcheck ${argv.join(" ")} ran the command`);
      assert.equal(r.code, 0, `gcheck ${argv.join(" ")}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: gcheck ${command} `), `gcheck ${argv.join(" ")} shows ${command}'s help`);
    }
  }
}

describe("gcheck flags before or after the command, Go and GNU style", () => {
  it("check: -dry-run, repeatable -node and -tag, -timeout, -ttl, -sign-key, -fail-on", async () => {
    const flags: Flag[] = [["dry-run"], ["node", "n1"], ["tag", "role=web"], ["node", "n2"], ["tag", "dc=x"], ["timeout", "5s"], ["ttl", "1m"], ["sign-key", "ops.key"], ["fail-on", "warn"]];
    const want = { opts: { dryRun: true, node: ["n1", "n2"], tag: ["role=web", "dc=x"], timeout: "5s", ttl: "1m", signKey: "ops.key", failOn: "warn" }, args: [] };
    await assertFlagsAnywhere("check", flags, [], want);
    // Repeated flags split around the command collect in the order typed.
    assert.deepEqual(await parseInvocation(["-tag", "a=1", "-node", "n1", "check", "-tag", "b=2", "--node=n2"]), {
      command: "check",
      opts: { tag: ["a=1", "b=2"], node: ["n1", "n2"], timeout: "30s", ttl: "5m", failOn: "fail" },
      args: [],
      globals: { server: "127.0.0.1:5924", output: "table" },
    });
  });

  it("local-check: -fail-on, default fail", async () => {
    await assertFlagsAnywhere("local-check", [], [], { opts: { failOn: "fail" }, args: [] });
    await assertFlagsAnywhere("local-check", [["fail-on", "warn"]], [], { opts: { failOn: "warn" }, args: [] });
  });

  it("-fail-on takes fail or warn, and says so for anything else", async () => {
    for (const command of ["check", "local-check"]) {
      const r = await parseInvocation([command, "-fail-on", "warning"]);
      assert.ok("code" in r);
      assert.equal(r.code, 2);
      assert.equal(r.stderr, `-fail-on "warning": expected one of fail, warn (see gcheck ${command} -help)\n`);
    }
  });

  it("validate: the global flags", async () => {
    await assertFlagsAnywhere("validate", [], [], { opts: {}, args: [] });
  });

  it("members: -status", async () => {
    await assertFlagsAnywhere("members", [["status", "alive"]], [], { opts: { status: "alive" }, args: [] });
  });

  it("keygen: -signing and -out", async () => {
    await assertFlagsAnywhere("keygen", [["signing"], ["out", "ops"]], [], { opts: { signing: true, out: "ops" }, args: [] });
  });

  it("keys install KEY: -timeout and -sign-key, before the command, before the operation or after the key", async () => {
    const key = "c2hvcnQ=";
    const want = { opts: { timeout: "3s", signKey: "ops.key" }, args: ["install", key] };
    await assertFlagsAnywhere(
      "keys",
      [
        ["timeout", "3s"],
        ["sign-key", "ops.key"],
      ],
      ["install", key],
      want,
    );
  });

  it("stats: repeatable -node and -tag, -timeout", async () => {
    const flags: Flag[] = [
      ["node", "n1"],
      ["node", "n2"],
      ["tag", "role=web"],
      ["timeout", "3s"],
    ];
    await assertFlagsAnywhere("stats", flags, [], { opts: { node: ["n1", "n2"], tag: ["role=web"], timeout: "3s" }, args: [] });
  });
});

describe("gcheck flags that cannot be placed", () => {
  it("a flag no command has fails naming it, before or after the command: exit 2", async () => {
    const cases: [string[], string][] = [
      [["-bogus", "check"], "unknown flag -bogus (see gcheck -help)\n"],
      // A value flag before the unknown one is not the one named.
      [["-timeout", "5s", "-bogus", "5", "check"], "unknown flag -bogus (see gcheck -help)\n"],
      [["--bogus=1", "members"], "unknown flag -bogus (see gcheck -help)\n"],
      [["check", "-bogus"], "unknown flag -bogus (see gcheck check -help)\n"],
    ];
    for (const [argv, stderr] of cases) {
      assert.deepEqual(await parseInvocation(argv), { code: 2, stdout: "", stderr }, `gcheck ${argv.join(" ")}`);
    }
  });

  it("another command's flag fails naming it and pointing at this command's help, wherever it stands", async () => {
    for (const argv of [
      ["-dry-run", "members"],
      ["members", "--dry-run"],
    ]) {
      assert.deepEqual(await parseInvocation(argv), { code: 2, stdout: "", stderr: "unknown flag -dry-run (see gcheck members -help)\n" }, `gcheck ${argv.join(" ")}`);
    }
  });

  it("the word after a value flag is its value even when it names a command", async () => {
    const r = await parseInvocation(["-node", "check", "check"]);
    assert.ok(!("code" in r), JSON.stringify(r));
    assert.equal(r.command, "check");
    assert.deepEqual(r.opts.node, ["check"]);
  });

  it("-version before or after a command prints the version and runs nothing", async () => {
    for (const argv of [
      ["-version", "check"],
      ["check", "--version"],
    ]) {
      const r = await parseInvocation(argv);
      assert.ok("code" in r && r.code === 0 && /^\d+\.\d+\.\d+/.test(r.stdout), `gcheck ${argv.join(" ")}: ${JSON.stringify(r)}`);
    }
  });
});

describe("placeFlags on a command tree", () => {
  const tree = () => {
    const p = new Command("prog").option("--verbose");
    p.command("remote").option("--timeout <d>").command("add").option("--url <u>").argument("<name>");
    return p;
  };

  it("moves flags behind their command, one nesting level at a time, in order", () => {
    assert.deepEqual(placeFlags(tree(), ["--url", "u", "--verbose", "remote", "--timeout=3s", "add", "origin"]), {
      ok: true,
      argv: ["remote", "add", "--url", "u", "--verbose", "--timeout=3s", "origin"],
      command: ["remote", "add"],
    });
  });

  it("leaves everything after -- alone", () => {
    assert.deepEqual(placeFlags(tree(), ["--", "--url", "remote"]), { ok: true, argv: ["--", "--url", "remote"], command: [] });
  });

  it("refuses a tree where one flag takes a value in one command and not in another (a definition bug)", () => {
    const p = tree();
    p.command("fetch").option("--url");
    assert.throws(() => placeFlags(p, ["remote"]), /flag --url takes a value in one command and not in another/);
  });
});
