import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type ConfigFs, describeSources, loadDaemonConfig } from "../src/daemon/config_file.js";
import { type DaemonOptions, type FlagContext, parseDaemonFlags } from "../src/daemon/flags.js";
import { type LiveTargets, reloadConfig } from "../src/daemon/reload.js";
import { generateSigningKeyPair, type TrustedKeys } from "../src/gossip/signing.js";

/*
 * Config files and GOSSIPCHECKD_* variables (src/daemon/config_file.ts) and
 * the SIGHUP reload (src/daemon/reload.ts), on an in-memory file system
 * where no real file is needed.
 */

const ctx: FlagContext = { hostname: "host-a", homeDir: "/home/op", isRoot: false, externalIPv4: ["10.1.2.3"] };

/** Files by path; a directory is every path under it. */
function memFs(files: Record<string, string>): ConfigFs {
  const enoent = (p: string) => Object.assign(new Error(`ENOENT: ${p}`), { code: "ENOENT" });
  return {
    readFile: (p) => {
      if (!(p in files)) throw enoent(p);
      return files[p]!;
    },
    listFiles: (dir) => {
      const names = Object.keys(files)
        .filter((p) => p.startsWith(dir + "/"))
        .map((p) => p.slice(dir.length + 1));
      if (names.length === 0) throw enoent(dir);
      return names.reverse(); // any order: the loader sorts
    },
  };
}

function load(argv: string[], files: Record<string, string> = {}, env: Record<string, string> = {}) {
  return loadDaemonConfig(argv, env, ctx, memFs(files));
}

function options(argv: string[], files: Record<string, string> = {}, env: Record<string, string> = {}): DaemonOptions {
  const { outcome } = load(argv, files, env);
  assert.equal(outcome.kind, "run", outcome.kind === "exit" ? outcome.stderr : "");
  return (outcome as { options: DaemonOptions }).options;
}

function refused(argv: string[], files: Record<string, string> = {}, env: Record<string, string> = {}): string[] {
  const { outcome } = load(argv, files, env);
  assert.equal(outcome.kind, "exit", "expected a refusal");
  const e = outcome as { code: number; stderr: string };
  assert.equal(e.code, 2);
  return e.stderr.trim().split("\n");
}

const flagsOnly = (argv: string[]) => {
  const r = parseDaemonFlags(argv, ctx);
  assert.equal(r.kind, "run");
  return (r as { options: DaemonOptions }).options;
};

describe("config files", () => {
  it("give exactly what the same flags give, for every shape of value", () => {
    const file = JSON.stringify({
      bind: "127.0.0.1:2000",
      peers: ["10.0.0.1", "10.0.0.2:4000"],
      tag: { role: "web", rack: 7 },
      "gossip-group": 3,
      "no-actions": true,
      "no-cli": false,
      insecure: false,
      "log-level": "debug",
      "max-frame-size": "32MiB",
    });
    assert.deepEqual(
      options(["-config-file", "/etc/g.json"], { "/etc/g.json": file }),
      flagsOnly([
        "-bind",
        "127.0.0.1:2000",
        "-peers",
        "10.0.0.1,10.0.0.2:4000",
        "-tag",
        "role=web",
        "-tag",
        "rack=7",
        "-gossip-group",
        "3",
        "-no-actions",
        "-log-level",
        "debug",
        "-max-frame-size",
        "32MiB",
      ]),
    );
  });

  it("take peers as one comma-separated string and tags as key=value strings too", () => {
    const o = options(["-config-file", "a.json"], { "a.json": '{"peers": "10.0.0.1, 10.0.0.2", "tag": ["role=web", "dc=eu"]}' });
    assert.deepEqual(
      o.peers.map((p) => p.host),
      ["10.0.0.1", "10.0.0.2"],
    );
    assert.deepEqual(o.tags, { role: "web", dc: "eu" });
  });

  it("a later file wins over an earlier one, -config-dir's files come after -config-file's in lexical order", () => {
    const files = {
      "a.json": '{"name": "from-a", "log-level": "warn", "profile": "local"}',
      "b.json": '{"name": "from-b"}',
      "/etc/d/20-last.json": '{"log-level": "error"}',
      "/etc/d/10-first.json": '{"log-level": "debug", "name": "from-dir"}',
      "/etc/d/notes.txt": "not json, not read",
    };
    const o = options(["-config-dir", "/etc/d", "-config-file", "a.json", "-config-file", "b.json"], files);
    assert.equal(o.name, "from-dir");
    assert.equal(o.logLevel, "error");
    assert.equal(o.profile, "local");
  });

  it("precedence: flags > environment > files", () => {
    const files = { "a.json": '{"name": "file", "log-level": "warn", "gossip-group": 2}' };
    const env = { GOSSIPCHECKD_NAME: "env", GOSSIPCHECKD_LOG_LEVEL: "error" };
    const o = options(["-config-file", "a.json", "-name", "flag"], files, env);
    assert.deepEqual([o.name, o.logLevel, o.gossipGroup], ["flag", "error", 2]);
  });

  it("tags merge by name across sources (the higher source wins per name); peers are replaced whole", () => {
    const files = { "a.json": '{"tag": {"role": "web", "dc": "eu"}, "peers": ["10.0.0.1", "10.0.0.2"]}', "b.json": '{"tag": {"rack": "r1"}}' };
    const o = options(["-config-file", "a.json", "-config-file", "b.json", "-tag", "role=db"], files, { GOSSIPCHECKD_TAG: "dc=us,zone=z1", GOSSIPCHECKD_PEERS: "10.0.0.9" });
    assert.deepEqual(o.tags, { role: "db", dc: "us", rack: "r1", zone: "z1" });
    assert.deepEqual(
      o.peers.map((p) => p.host),
      ["10.0.0.9"],
    );
  });

  it("booleans are written as typed: true sets the flag, false is the same as leaving it out", () => {
    assert.equal(options(["-config-file", "a.json"], { "a.json": '{"no-actions": true}' }).actionsEnabled, false);
    assert.equal(options(["-config-file", "a.json"], { "a.json": '{"no-actions": false}' }).actionsEnabled, true);
    assert.equal(options(["-config-file", "a.json"], { "a.json": '{"no-cli": true}' }).cliBind, null);
    assert.equal(options([], {}, { GOSSIPCHECKD_NO_ACTIONS: "1" }).actionsEnabled, false);
    assert.equal(options([], {}, { GOSSIPCHECKD_INSECURE: "true" }).insecure, true);
    assert.equal(options([], {}, { GOSSIPCHECKD_INSECURE: "" }).insecure, false, "an empty variable is unset");
  });
});

describe("configuration errors name the file and key, or the variable", () => {
  it("an unknown key, with a did-you-mean", () => {
    assert.deepEqual(refused(["-config-file", "/etc/g.json"], { "/etc/g.json": '{"bnd": ":3505", "log_level": "debug", "zzz": 1}' }), [
      '/etc/g.json: key "bnd": unknown key (did you mean "bind"?)',
      '/etc/g.json: key "log_level": unknown key (did you mean "log-level"?)',
      '/etc/g.json: key "zzz": unknown key; keys are flag names without the dash (see gossipcheckd -help)',
    ]);
  });

  it('"actions": false points at "no-actions": true; command-line-only keys say so', () => {
    assert.deepEqual(refused(["-config-file", "a.json"], { "a.json": '{"actions": false, "config-dir": "/etc/d"}' }), [
      'a.json: key "actions": unknown key (did you mean "no-actions": true?)',
      'a.json: key "config-dir": -config-dir works only on the command line',
    ]);
  });

  it("a bad value gets the flag's own message, naming the file and key or the variable", () => {
    assert.deepEqual(refused(["-config-file", "a.json"], { "a.json": '{"log-level": "debgu"}' }), [
      'a.json: key "log-level": -log-level "debgu": expected one of trace, debug, info, warn, error, fatal, silent (did you mean debug?) (see gossipcheckd -help)',
    ]);
    assert.match(refused([], {}, { GOSSIPCHECKD_BIND: "127.0.0.1:99999" })[0]!, /^GOSSIPCHECKD_BIND: -bind "127\.0\.0\.1:99999": port 99999 is above 65535/);
    // The flag, when given, wins, and so is the one named.
    assert.match(refused(["-bind", "x:99999"], {}, { GOSSIPCHECKD_BIND: "127.0.0.1:1" })[0]!, /^-bind "x:99999"/);
  });

  it("a value of the wrong JSON type, and a malformed tag, name the file and key", () => {
    assert.deepEqual(refused(["-config-file", "a.json"], { "a.json": '{"bind": ["x"], "insecure": "yes", "tag": "role=web", "peers": [1]}' }), [
      'a.json: key "bind": expected a string (what -bind takes on the command line), got an array',
      'a.json: key "insecure": expected true or false, got the string "yes"',
      'a.json: key "tag": expected an object such as {"role": "web", "dc": "eu1"} or an array of "key=value" strings; got the string "role=web"',
      'a.json: key "peers": expected an array of strings such as ["10.0.0.1", "10.0.0.2:3505"], or one comma-separated string; got an array',
    ]);
    assert.deepEqual(refused(["-config-file", "a.json"], { "a.json": '{"tag": ["role"]}' }), ['a.json: key "tag": -tag "role": expected key=value with a key of 1 to 64 letters, digits or _ . / -']);
  });

  it("an unknown or malformed variable, with a did-you-mean", () => {
    assert.deepEqual(refused([], {}, { GOSSIPCHECKD_BIDN: "x", GOSSIPCHECKD_INSECURE: "yes", GOSSIPCHECKD_CONFIG_FILE: "a.json", OTHER_BIND: "ignored" }), [
      "GOSSIPCHECKD_BIDN: unknown variable (did you mean GOSSIPCHECKD_BIND?)",
      'GOSSIPCHECKD_INSECURE="yes": expected true or false (or 1 or 0)',
      "GOSSIPCHECKD_CONFIG_FILE: -config-file works only on the command line",
    ]);
  });

  it("bad JSON says where (line and column), a missing file or dir says which", () => {
    const [bad] = refused(["-config-file", "a.json"], { "a.json": '{\n  "bind": ":3505",\n}\n' });
    assert.match(bad!, /^a\.json: not valid JSON: .*line 3 column 1/);
    assert.deepEqual(refused(["-config-file", "nope.json", "-config-dir", "/nodir"]), [
      "-config-dir /nodir: cannot read it (no such file or directory)",
      "nope.json: cannot read this config file (no such file or directory)",
    ]);
    assert.deepEqual(refused(["-config-file", "a.json"], { "a.json": "[1]" }), [
      'a.json: expected a JSON object of flag names and values, such as {"bind": ":3505", "tag": {"role": "web"}}; got an array',
    ]);
  });
});

describe("-check-config's summary of sources", () => {
  it("counts the settings each source won", () => {
    const { sources } = load(
      ["-config-file", "a.json", "-config-file", "b.json", "-name", "n1"],
      { "a.json": '{"name": "x", "profile": "local", "tag": {"a": "1"}}', "b.json": "{}" },
      { GOSSIPCHECKD_LOG_LEVEL: "warn" },
    );
    assert.equal(describeSources(sources), "2 settings from 2 files (a.json, b.json), 1 from the environment (GOSSIPCHECKD_LOG_LEVEL), 1 from flags (-name), the rest defaults");
    assert.equal(describeSources(load([]).sources), "all defaults");
  });
});

/** Records what a reload did to the running daemon and what it logged. */
function recorder() {
  const calls: string[] = [];
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  let refuseTags = false;
  const live: LiveTargets = {
    setLogLevel: (l) => void calls.push(`log-level ${l}`),
    setTags: (t) => {
      if (refuseTags) throw new Error("the tags take 600 bytes; at most 512");
      calls.push(`tags ${JSON.stringify(t)}`);
    },
    setTrustedKeys: (k?: TrustedKeys) => void calls.push(`trusted ${k ? k.size : "none"}`),
    setActionsEnabled: (on) => void calls.push(`actions ${on}`),
    setCoordinators: (c) => void calls.push(`coordinators ${c.count} ${c.quorum}`),
    setWatch: async (dir, triggers) => void calls.push(`watch ${dir ?? "-"} ${triggers.length}`),
  };
  const log = Object.fromEntries(["debug", "info", "warn", "error"].map((level) => [level, (obj: object, msg = "") => void lines.push({ level, obj: obj as Record<string, unknown>, msg })])) as never;
  return { calls, lines, live, log, refuse: () => (refuseTags = true) };
}

describe("SIGHUP reload", () => {
  const argv = ["-config-file", "a.json"];
  const start = (file: string) => options(argv, { "a.json": file });
  const reader = (file: () => string) => () => loadDaemonConfig(argv, {}, ctx, memFs({ "a.json": file() }));

  it("-weight changes the advertised tags live; -coordinators and -coordinator-quorum the choice", async () => {
    const running = start('{"bind": "127.0.0.1:2000", "tag": {"role": "db"}}');
    const r = recorder();
    const out = await reloadConfig(
      running,
      reader(() => '{"bind": "127.0.0.1:2000", "tag": {"role": "db"}, "weight": 7, "coordinators": 2, "coordinator-quorum": true}'),
      r.live,
      r.log,
    );
    assert.deepEqual(r.calls.slice(0, 2), ['tags {"role":"db","gossipcheck.weight":"7"}', "coordinators 2 true"]);
    assert.deepEqual(out.applied.sort(), ["coordinator-quorum", "coordinators", "weight"]);
    assert.deepEqual(out.needRestart, []);
    assert.deepEqual([out.running.weight, out.running.coordinators, out.running.coordinatorQuorum, out.running.tags], [7, 2, true, { role: "db" }]);
  });

  it("applies log level, tags and -no-actions, keeps what needs a restart, one line per key", async () => {
    const running = start('{"bind": "127.0.0.1:2000", "tag": {"role": "web"}}');
    const r = recorder();
    const out = await reloadConfig(
      running,
      reader(() => '{"bind": "127.0.0.1:2001", "tag": {"role": "db"}, "log-level": "debug", "no-actions": true, "profile": "local"}'),
      r.live,
      r.log,
    );
    assert.deepEqual(r.calls, ['tags {"role":"db"}', "log-level debug", "actions false", "trusted none", "watch - 0"]);
    assert.deepEqual(out.applied, ["log-level", "tag", "no-actions"]);
    assert.deepEqual(out.needRestart.sort(), ["advertise", "bind", "profile"]);
    assert.deepEqual(out.running.bind, running.bind, "the old bind is kept");
    assert.equal(out.running.profile, "lan");
    assert.deepEqual([out.running.logLevel, out.running.tags, out.running.actionsEnabled], ["debug", { role: "db" }, false]);
    const msgs = r.lines.map((l) => l.msg);
    assert.ok(msgs.includes("reload: log-level info -> debug"));
    assert.ok(msgs.includes("reload: tag role=web -> role=db"));
    assert.ok(msgs.includes("reload: bind changed (127.0.0.1:2000 -> 127.0.0.1:2001) but needs a restart: keeping 127.0.0.1:2000"));
    assert.equal(r.lines.filter((l) => l.obj.reload === "needs restart").length, 3);
  });

  it("a broken file or a bad value changes nothing, and says which file and key", async () => {
    const running = start('{"tag": {"role": "web"}}');
    for (const [file, why] of [
      ['{"tag": {"role": "db"}, "log-level": "loud"}', /^a\.json: key "log-level": -log-level "loud"/],
      ['{"tag": {"role": "db"}', /^a\.json: not valid JSON/],
      ['{"tag": {"role": "db"}, "bnd": 1}', /^a\.json: key "bnd": unknown key \(did you mean "bind"\?\)/],
    ] as const) {
      const r = recorder();
      const out = await reloadConfig(
        running,
        reader(() => file),
        r.live,
        r.log,
      );
      assert.deepEqual(r.calls, [], "nothing applied");
      assert.equal(out.running, running);
      assert.match(out.error!, why);
      assert.equal(r.lines.length, 1);
      assert.equal(r.lines[0]!.level, "error");
      assert.match(r.lines[0]!.msg, /^reload failed, nothing changed: a\.json/);
    }
  });

  it("tags the membership layer refuses change nothing else", async () => {
    const running = start("{}");
    const r = recorder();
    r.refuse();
    const out = await reloadConfig(
      running,
      reader(() => '{"tag": {"role": "db"}, "log-level": "debug"}'),
      r.live,
      r.log,
    );
    assert.deepEqual(r.calls, []);
    assert.match(out.error!, /^-tag: the tags take 600 bytes/);
  });

  it("reads the -trusted-keys dir again, even when its path did not change; an unreadable one changes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "reload-trusted-"));
    try {
      writeFileSync(join(dir, "a.pub"), generateSigningKeyPair().publicKey);
      const file = JSON.stringify({ "trusted-keys": dir });
      const running = start(file);
      writeFileSync(join(dir, "b.pub"), generateSigningKeyPair().publicKey);
      const r = recorder();
      const out = await reloadConfig(
        running,
        reader(() => file),
        r.live,
        r.log,
      );
      assert.deepEqual(r.calls, ["trusted 2", "watch - 0"]);
      assert.deepEqual(out.applied, []);
      assert.ok(r.lines.some((l) => l.msg === `reload: trusted-keys ${dir} read again: 2 keys`));

      const gone = recorder();
      const missing = JSON.stringify({ "trusted-keys": join(dir, "missing"), "log-level": "debug" });
      const failed = await reloadConfig(
        running,
        reader(() => missing),
        gone.live,
        gone.log,
      );
      assert.deepEqual(gone.calls, []);
      assert.match(failed.error!, /^-trusted-keys: cannot read the trusted keys dir/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("examples/gossipcheckd.json", () => {
  it("is a valid configuration", () => {
    const file = fileURLToPath(new URL("../../examples/gossipcheckd.json", import.meta.url));
    const { outcome } = loadDaemonConfig(["-config-file", file], {}, ctx);
    assert.equal(outcome.kind, "run", outcome.kind === "exit" ? outcome.stderr : "");
    const o = (outcome as { options: DaemonOptions }).options;
    assert.deepEqual([o.peers.length, o.tags, o.keyFile], [3, { role: "web", dc: "eu1" }, "/etc/gossipcheck/cluster.key"]);
  });
});
