import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Command, Option } from "commander";
import { completionScript } from "../src/cli/commands/completion.js";
import { completionSpec, SHELLS } from "../src/cli/completion/spec.js";
import { INFO_COUNTERS, infoTable } from "../src/cli/output/info.js";
import { parseInvocation, programDefinition } from "../src/cli/program.js";
import type { DaemonInfo } from "../src/control/api_types.js";

/*
 * What a newcomer meets first: the help (one line per command, an example
 * in every command's help), list-members as the original's name for
 * members, `-file -`, the completion scripts (made from the commander
 * definitions; bash's run for real, fish's too and zsh's syntax-checked
 * where those shells are installed), and the info table. No daemon.
 */

const has = (shell: string) => spawnSync("sh", ["-c", `command -v ${shell}`]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "gcheck-completion-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The script for shell, written to a file the shell can read. */
function scriptFile(shell: (typeof SHELLS)[number]): string {
  const path = join(dir, `gcheck.${shell}`);
  writeFileSync(path, completionScript(programDefinition(), shell));
  return path;
}

async function helpOf(argv: string[]): Promise<string> {
  const r = await parseInvocation(argv);
  assert.ok("code" in r && r.code === 0, `gcheck ${argv.join(" ")}: ${JSON.stringify(r)}`);
  return r.stdout;
}

const commandNames = programDefinition().commands.map((c) => c.name());

describe("gcheck help", () => {
  it("lists every command on one line of its own, list-members saying it is members", async () => {
    const help = await helpOf(["-help"]);
    const section = help.slice(help.indexOf("Commands:\n") + "Commands:\n".length, help.indexOf("\n\n", help.indexOf("Commands:\n")));
    const lines = section.split("\n");
    // Every line starts a command (none is a wrapped continuation), within 80 columns.
    assert.deepEqual(
      lines.map((l) => /^ {2}(\S+)/.exec(l)?.[1]),
      [...commandNames, "help"],
    );
    for (const l of lines) assert.ok(l.length <= 80, `longer than 80 columns: ${l}`);
    assert.match(section, /^ {2}list-members +same as members \(the original gossipcheck's name\)$/m);
    assert.match(help, /\nExamples:\n {2}gcheck -file checks\.json check/);
  });

  it("shows an example at the end of every command's help", async () => {
    for (const name of commandNames) {
      const help = await helpOf([name, "-help"]);
      assert.match(help, /\nExamples?:\n(?: {2}\S.*# .+\n)+\n?$/, `gcheck ${name} -help:\n${help}`);
    }
  });
});

describe("gcheck list-members", () => {
  it("takes the same flags as members and runs the same command", async () => {
    const members = await parseInvocation(["members", "-status", "alive", "-output", "json"]);
    const listMembers = await parseInvocation(["-status=alive", "list-members", "--output", "json"]);
    assert.ok(!("code" in members) && !("code" in listMembers));
    assert.deepEqual({ ...listMembers, command: "members" }, members);
    assert.equal(listMembers.command, "list-members");
  });

  it("refuses an unknown -status naming the ones it takes", async () => {
    assert.deepEqual(await parseInvocation(["list-members", "-status", "zombie"]), {
      code: 2,
      stdout: "",
      stderr: '-status "zombie": expected one of alive, suspect, dead, left (see gcheck list-members -help)\n',
    });
  });
});

describe("-file -", () => {
  it("is the file name -, before or after the command, spaced or with =", async () => {
    for (const argv of [
      ["-file", "-", "validate"],
      ["validate", "-file", "-"],
      ["-file=-", "check"],
      ["local-check", "--file=-"],
    ]) {
      const r = await parseInvocation(argv);
      assert.ok(!("code" in r), `gcheck ${argv.join(" ")}: ${JSON.stringify(r)}`);
      assert.equal(r.globals.file, "-", argv.join(" "));
    }
  });
});

describe("completion scripts", () => {
  const spec = completionSpec(programDefinition());

  it("come from the commander definitions: every command, every flag in both spellings, every choice", () => {
    assert.deepEqual(
      spec.commands.map((c) => c.name),
      commandNames,
    );
    assert.deepEqual(spec.commands.find((c) => c.name === "keys")!.args[0]!.choices, ["list", "install", "use", "remove"]);
    assert.deepEqual(spec.globals.find((g) => g.name === "output")!.choices, ["table", "json", "junit", "ndjson", "tap", "nagios"]);
    assert.equal(spec.globals.find((g) => g.name === "file")!.files, true);
    for (const shell of SHELLS) {
      const script = completionScript(programDefinition(), shell);
      for (const c of spec.commands) {
        assert.ok(script.includes(c.name), `${shell}: command ${c.name}`);
        for (const f of [...c.flags, ...spec.globals]) {
          if (shell === "fish") assert.ok(script.includes(`-o ${f.name} -l ${f.name}`), `${shell}: flag ${f.name}`);
          else if (shell === "zsh") assert.ok(script.includes(`'*-${f.name}`) && script.includes(`'*--${f.name}`), `${shell}: flag ${f.name}`);
          else assert.match(script, new RegExp(`[" ]${f.name}[" ]`), `${shell}: flag ${f.name}`);
        }
      }
    }
  });

  it("follow a new command or flag without anyone editing a list", () => {
    const p = new Command("tool").option("--verbose", "talk more");
    p.command("deploy")
      .summary("ship it")
      .addOption(new Option("--env <name>", "where").choices(["prod", "staging"]));
    const bash = completionScript(p, "bash");
    assert.match(bash, /deploy\) names="env"/);
    assert.match(bash, /-env\|--env\) COMPREPLY=\(\$\(compgen -W "prod staging"/);
    assert.match(completionScript(p, "fish"), /complete -c tool -n '__tool_using deploy' -o env -l env -x -a 'prod staging' -d 'where'/);
    assert.match(completionScript(p, "zsh"), /'deploy:ship it'/);
  });

  it("bash: the script parses (bash -n) and completes commands, flags, values and arguments", () => {
    const file = scriptFile("bash");
    execFileSync("bash", ["-n", file]);
    // COMP_WORDS as bash splits them (COMP_WORDBREAKS has "="); the last word is the one being completed.
    const cases: [string[], string[]][] = [
      [[""], commandNames],
      [["li"], ["list-members"]],
      [["-file", "x", "loc"], ["local-check"]],
      [["-ou"], ["-output"]],
      [["--ou"], ["--output"]],
      [
        ["-output", "j"],
        ["json", "junit"],
      ],
      [
        ["-output", "=", "ta"],
        ["table", "tap"],
      ],
      [
        ["check", "-d"],
        ["-dry-run", "-detach"],
      ],
      [["-tag", "a", "=", "b", "check", "-ti"], ["-timeout"]],
      [["check", "-timeout", ""], []],
      [["members", "-status", "s"], ["suspect"]],
      [
        ["keys", ""],
        ["list", "install", "use", "remove"],
      ],
      [["keys", "install", ""], []],
      [
        ["-server", "h:1", "completion", ""],
        ["bash", "zsh", "fish"],
      ],
      [["-file", join(dir, "gcheck.ba")], [join(dir, "gcheck.bash")]],
    ];
    const driver = cases.map(([words]) => `COMP_WORDS=(gcheck ${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length}; COMPREPLY=(); _gcheck; echo "\${COMPREPLY[*]}"`).join("\n");
    const out = execFileSync("bash", ["-c", `source '${file}'\n${driver}`], { encoding: "utf8" }).split("\n");
    for (const [i, [words, want]] of cases.entries()) assert.deepEqual(out[i]!.split(" ").filter(Boolean), want, `gcheck ${words.join(" ")}<TAB>`);
  });

  it("zsh: the script parses (zsh -n) and registers itself as _gcheck", { skip: !has("zsh") && "zsh is not installed" }, () => {
    execFileSync("zsh", ["-n", scriptFile("zsh")]);
  });

  it("zsh: the script is a #compdef file with an _arguments spec for every flag", () => {
    const script = completionScript(programDefinition(), "zsh");
    assert.match(script, /^#compdef gcheck\n/);
    assert.match(script, /'\*-output=\[output format \(ndjson for check, results, event and query; tap and nagios for check and results only\)\]:format:\(table json junit ndjson tap nagios\)'/);
    assert.match(script, /'\*-file=\[check file, JSON or YAML \(or a Goss gossfile\); - reads it from standard input\]:file:_files'/);
    assert.match(script, /'keys'\) _arguments -S \$globals .*'1:op:\(list install use remove\)'/);
  });

  it("fish: the script parses (fish -n) and completes commands, flags, values and arguments", { skip: !has("fish") && "fish is not installed" }, () => {
    const file = scriptFile("fish");
    execFileSync("fish", ["-n", file]);
    const cases: [string, string[]][] = [
      ["gcheck li", ["list-members"]],
      ["gcheck -file x loc", ["local-check"]],
      ["gcheck -ou", ["-output"]],
      ["gcheck --ou", ["--output"]],
      ["gcheck -output ", ["json", "junit", "nagios", "ndjson", "table", "tap"]],
      ["gcheck check -dry", ["-dry-run"]],
      ["gcheck members -status s", ["suspect"]],
      ["gcheck keys ", ["install", "list", "remove", "use"]],
      ["gcheck keys install ", []],
      ["gcheck -server h:1 completion ", ["bash", "fish", "zsh"]],
    ];
    const driver = cases.map(([line]) => `echo (complete -C '${line}' | string replace -r '\\t.*' '')`).join("\n");
    const out = execFileSync("fish", ["-c", `source '${file}'\n${driver}`], { encoding: "utf8" }).split("\n");
    for (const [i, [line, want]] of cases.entries()) assert.deepEqual(out[i]!.split(" ").filter(Boolean).sort(), [...want].sort(), `${line}<TAB>`);
  });
});

describe("gcheck info table", () => {
  const info: DaemonInfo = {
    name: "web-1",
    version: "1.2.3",
    protocolVersion: 1,
    address: "10.0.0.1:3505",
    cliAddress: "127.0.0.1:5924",
    pid: 42,
    startedMs: 0,
    uptimeMs: 3 * 86_400_000 + 4 * 3_600_000,
    tags: { role: "web", dc: "x" },
    actionsEnabled: false,
    members: { alive: 4, suspect: 1, dead: 0, left: 2 },
    counters: { net_decryptFailures: 17, gossip_consumed: 12345 },
  };

  it("shows who, since when, the members by status, and each counter that matters in its group", () => {
    const text = infoTable(info, Date.UTC(2025, 0, 10));
    assert.match(text, /^node +web-1$/m);
    assert.match(text, /^version +gossipcheckd 1\.2\.3 \(protocol 1\)$/m);
    assert.match(text, /^uptime +3d04h \(since 2025-01-06T20:00:00Z\), pid 42$/m);
    assert.match(text, /^tags +role=web, dc=x$/m);
    assert.match(text, /^actions +disabled/m);
    assert.match(text, /^members +4 alive, 1 suspect, 0 dead, 2 left$/m);
    assert.match(text, /^ {2}net_decryptFailures +17 {2}packets and frames no installed key opened/m);
    assert.match(text, /^ {2}gossip_consumed +12345 {2}run on this node$/m);
    // A counter this daemon does not report shows "-" rather than a made-up 0.
    assert.match(text, /^ {2}net_firstFrameRefused +- {2}/m);
    for (const [group, counters] of INFO_COUNTERS) {
      assert.ok(text.includes(`\n${group}:\n`), group);
      for (const [name] of counters) assert.ok(text.includes(`  ${name} `), name);
    }
  });
});
