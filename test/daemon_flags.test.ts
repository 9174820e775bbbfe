import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseHostPort } from "../src/cmdline/address.js";
import { type DaemonOptions, type FlagContext, parseByteSize, parseDaemonFlags } from "../src/daemon/flags.js";
import { flagShapes, normalizeGoArgv } from "../src/cmdline/goflags.js";
import { checkStartupSafety } from "../src/daemon/safety.js";
import { Command } from "commander";

const ctx: FlagContext = { hostname: "host-a", homeDir: "/home/op", isRoot: false, externalIPv4: ["10.1.2.3"] };

function run(argv: string[], c: FlagContext = ctx): DaemonOptions {
  const r = parseDaemonFlags(argv, c);
  assert.equal(r.kind, "run", r.kind === "exit" ? r.stderr : "");
  return (r as { options: DaemonOptions }).options;
}

function refused(argv: string[]): string {
  const r = parseDaemonFlags(argv, ctx);
  assert.equal(r.kind, "exit", `expected ${argv.join(" ")} to be refused`);
  const e = r as { code: number; stderr: string };
  assert.equal(e.code, 2);
  assert.equal(e.stderr.trim().split("\n").length, 1, "one line");
  return e.stderr;
}

describe("Go-style argv normalization", () => {
  const shapes = flagShapes(new Command().option("--bind <a>").option("--name <n>").option("--no-cli").option("--insecure"));

  it("turns -flag, -flag=value and --flag into commander's --flag", () => {
    assert.deepEqual(normalizeGoArgv(["-bind", "1.2.3.4:5", "-name=x", "--no-cli"], shapes), ["--bind", "1.2.3.4:5", "--name=x", "--no-cli"]);
  });

  it("leaves the value of a value flag alone even when it starts with a dash", () => {
    assert.deepEqual(normalizeGoArgv(["-name", "-odd", "-insecure"], shapes), ["--name", "-odd", "--insecure"]);
  });

  it("keeps single-letter flags short and passes everything after -- through", () => {
    assert.deepEqual(normalizeGoArgv(["-h", "--", "-bind"], shapes), ["-h", "--", "-bind"]);
  });

  it("reads Go boolean forms -flag=true and -flag=false", () => {
    assert.deepEqual(normalizeGoArgv(["-insecure=true", "-no-cli=false"], shapes), ["--insecure"]);
  });
});

describe("gossipcheckd flags", () => {
  it("accepts the original's command lines in all three spellings", () => {
    for (const argv of [["-bind", "127.0.0.1:2000"], ["-bind=127.0.0.1:2000"], ["--bind", "127.0.0.1:2000"]]) {
      assert.deepEqual(run(argv).bind, { host: "127.0.0.1", port: 2000 });
    }
    const o = run(["-no-cli", "-bind", "127.0.0.1:2001", "-peers", "127.0.0.1:2000"]);
    assert.equal(o.cliBind, null);
    assert.deepEqual(o.peers, [{ host: "127.0.0.1", port: 2000 }]);
  });

  it("has the documented defaults", () => {
    const o = run([]);
    assert.deepEqual(o.bind, { host: "0.0.0.0", port: 3505 });
    assert.deepEqual(o.advertise, { host: "10.1.2.3", port: 3505 }, "bind on every interface advertises the first external IPv4");
    assert.deepEqual(o.cliBind, { host: "127.0.0.1", port: 5924 });
    assert.equal(o.gossipGroup, 5);
    assert.equal(o.name, "host-a");
    assert.equal(o.logLevel, "info");
    assert.equal(o.profile, "lan");
    assert.equal(o.dataDir, "/home/op/.local/state/gossipcheck");
    assert.equal(run([], { ...ctx, isRoot: true }).dataDir, "/var/lib/gossipcheck");
    assert.equal(o.actionsEnabled, true);
    assert.equal(o.insecure, false);
    assert.equal(o.maxFrameSize, 16 * 1024 * 1024);
  });

  it("-metrics-bind is off by default; a port alone means every interface", () => {
    assert.equal(run([]).metricsBind, undefined);
    assert.deepEqual(run(["-metrics-bind", ":9924"]).metricsBind, { host: "0.0.0.0", port: 9924 });
    assert.deepEqual(run(["--metrics-bind=127.0.0.1:0"]).metricsBind, { host: "127.0.0.1", port: 0 });
    assert.match(refused(["-metrics-bind", "127.0.0.1"]), /^-metrics-bind "127\.0\.0\.1": .*; expected host:port, e\.g\. 127\.0\.0\.1:9924 or :9924/);
  });

  it("-nodnod-bind is off by default; a port alone means every interface", () => {
    assert.equal(run([]).nodnodBind, undefined);
    assert.deepEqual(run(["-nodnod-bind", ":7070"]).nodnodBind, { host: "0.0.0.0", port: 7070 });
    assert.deepEqual(run(["--nodnod-bind=127.0.0.1:0"]).nodnodBind, { host: "127.0.0.1", port: 0 });
    assert.match(refused(["-nodnod-bind", "127.0.0.1"]), /^-nodnod-bind "127\.0\.0\.1": .*; expected host:port, e\.g\. 127\.0\.0\.1:7070 or :7070/);
  });

  it("splits -peers on commas, trims spaces, and gives port-less peers our bind port", () => {
    const o = run(["-bind", ":2000", "-peers", " 10.0.0.1:3000 , node7.example.org,[::1]:4000 ,"]);
    assert.deepEqual(o.bind, { host: "0.0.0.0", port: 2000 });
    assert.deepEqual(o.peers, [
      { host: "10.0.0.1", port: 3000 },
      { host: "node7.example.org", port: 2000 },
      { host: "::1", port: 4000 },
    ]);
  });

  it("parses tags, the profile, the log level, security flags and sizes", () => {
    const o = run([
      "-tag",
      "role=web",
      "-tag=dc=eu-1",
      "-profile",
      "local",
      "-log-level",
      "debug",
      "-no-actions",
      "-insecure",
      "-label",
      "prod",
      "-key-file",
      "/k",
      "-max-frame-size",
      "32MiB",
      "-advertise",
      "192.168.1.9",
    ]);
    assert.deepEqual(o.tags, { role: "web", dc: "eu-1" });
    assert.equal(o.profile, "local");
    assert.equal(o.logLevel, "debug");
    assert.equal(o.actionsEnabled, false);
    assert.equal(o.insecure, true);
    assert.equal(o.label, "prod");
    assert.equal(o.keyFile, "/k");
    assert.equal(o.maxFrameSize, 32 * 1024 * 1024);
    assert.deepEqual(o.advertise, { host: "192.168.1.9", port: 3505 });
  });

  it("refuses an unknown flag in Go style, whatever its spelling", () => {
    assert.equal(refused(["-foo"]), "unknown flag -foo (see gossipcheckd -help)\n");
    assert.equal(refused(["--foo=1"]), "unknown flag -foo (see gossipcheckd -help)\n");
  });

  it("names the flag, the value and the expected form for a bad address", () => {
    assert.match(refused(["-bind", "localhost:http"]), /^-bind "localhost:http": port "http" is not a number; expected host:port/);
    assert.match(refused(["-bind", "1.2.3.4:70000"]), /-bind "1\.2\.3\.4:70000": port 70000 is above 65535/);
    assert.match(refused(["-cli-bind", "bad host:1"]), /-cli-bind "bad host:1": "bad host" is neither an IP address nor a valid host name/);
    assert.match(refused(["-peers", "10.0.0.1:2000,:2001"]), /-peers ":2001": the host is missing; expected comma-separated host\[:port\]/);
    assert.match(refused(["-bind", "::1:2000"]), /write an IPv6 address in brackets/);
    assert.match(refused(["-advertise", "0.0.0.0:2000"]), /-advertise "0\.0\.0\.0:2000": 0\.0\.0\.0 cannot be dialled/);
  });

  it("refuses other bad values with the flag and what is expected", () => {
    assert.match(refused(["-gossip-group", "0"]), /-gossip-group "0": expected a whole number from 1 to 1000/);
    assert.match(refused(["-gossip-group", "2.5"]), /-gossip-group "2\.5"/);
    assert.match(refused(["-log-level", "loud"]), /-log-level "loud": expected one of trace, debug, info, warn, error, fatal, silent/);
    assert.match(refused(["-profile", "wan"]), /-profile "wan": expected lan or local/);
    assert.match(refused(["-tag", "novalue"]), /-tag "novalue": expected key=value/);
    assert.match(refused(["-tag", "a=1", "-tag", "a=2"]), /tag a is given twice/);
    assert.match(refused(["-tag", `big=${"x".repeat(600)}`]), /at most 512/);
    assert.match(refused(["-name", "two words"]), /-name "two words"/);
    assert.match(refused(["-max-frame-size", "1K"]), /-max-frame-size "1K": expected a size from 64KiB to 1GiB/);
    assert.match(refused(["-bind"]), /^flag -bind needs a value/);
    assert.match(refused(["stray"]), /unexpected argument "stray"/);
    assert.match(refused(["-data-dir", ""]), /-data-dir: the path is empty/);
  });

  it("a peer without port needs one when we bind port 0", () => {
    assert.match(refused(["-bind", "127.0.0.1:0", "-peers", "127.0.0.1"]), /-peers "127\.0\.0\.1": the port is missing/);
  });

  it("prints help and the version with exit 0", () => {
    for (const h of ["-help", "-h", "--help"]) {
      const r = parseDaemonFlags([h], ctx);
      assert.equal(r.kind, "exit");
      assert.equal((r as { code: number }).code, 0);
      assert.match((r as { stdout: string }).stdout, /-bind host:port/);
    }
    const v = parseDaemonFlags(["-version"], ctx) as { kind: string; code: number; stdout: string };
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  });
});

describe("addresses and sizes", () => {
  it("parses host:port forms and rejects malformed ones", () => {
    assert.deepEqual(parseHostPort("[::1]:80"), { ok: true, value: { host: "::1", port: 80 } });
    assert.deepEqual(parseHostPort("example.org", { defaultPort: 7 }), { ok: true, value: { host: "example.org", port: 7 } });
    assert.equal(parseHostPort("1.2.3.4:0").ok, false, "port 0 only where allowed");
    assert.equal(parseHostPort("[::1").ok, false);
    assert.equal(parseHostPort("").ok, false);
  });

  it("reads byte sizes with binary units", () => {
    assert.equal(parseByteSize("65536"), 65536);
    assert.equal(parseByteSize("64K"), 65536);
    assert.equal(parseByteSize("16MiB"), 16 * 2 ** 20);
    assert.equal(parseByteSize("1g"), 2 ** 30);
    assert.equal(parseByteSize("12 apples"), undefined);
  });
});

describe("startup safety", () => {
  it("refuses a non-loopback bind without a cluster key, and says how to make one", () => {
    const v = checkStartupSafety(run(["-bind", "0.0.0.0:3505"]), false);
    assert.match(v.refusal ?? "", /no cluster key is set.*gcheck keygen.*-insecure/);
  });

  it("starts with a warning under -insecure, and quietly with a key or on loopback", () => {
    const insecure = checkStartupSafety(run(["-bind", "0.0.0.0:3505", "-insecure"]), false);
    assert.equal(insecure.refusal, undefined);
    assert.match(insecure.warnings[0] ?? "", /-insecure/);
    assert.deepEqual(checkStartupSafety(run(["-bind", "0.0.0.0:3505"]), true), { warnings: [] });
    assert.deepEqual(checkStartupSafety(run(["-bind", "127.0.0.1:2000"]), false), { warnings: [] });
  });

  it("requires a token for a control API beyond loopback", () => {
    const o = run(["-bind", "127.0.0.1:2000", "-cli-bind", "0.0.0.0:5924"]);
    assert.match(checkStartupSafety(o, false).refusal ?? "", /-cli-bind 0\.0\.0\.0:5924 is not a loopback address.*-cli-token-file/);
    assert.equal(checkStartupSafety({ ...o, cliTokenFile: "/t" }, false).refusal, undefined);
  });

  it("requires the control API's token for NodNod clients beyond loopback, with or without the control API", () => {
    for (const extra of [[], ["-no-cli"]]) {
      const o = run(["-bind", "127.0.0.1:2000", "-nodnod-bind", ":7070", ...extra]);
      assert.match(checkStartupSafety(o, false).refusal ?? "", /-nodnod-bind 0\.0\.0\.0:7070 is not a loopback address.*-cli-token-file.*127\.0\.0\.1/);
      assert.equal(checkStartupSafety({ ...o, cliTokenFile: "/t" }, false).refusal, undefined);
    }
    assert.equal(checkStartupSafety(run(["-bind", "127.0.0.1:2000", "-nodnod-bind", "127.0.0.1:7070"]), false).refusal, undefined);
  });
});

describe("-discover flags and safety", () => {
  it("is off by default; on, it uses the documented group and -bind's host as the interface", () => {
    assert.equal(run(["-bind", "127.0.0.1:2000"]).discover, undefined);
    assert.deepEqual(run(["-bind", "127.0.0.1:2000", "-discover"]).discover, { group: { host: "239.255.35.5", port: 3506 }, interfaceAddress: "127.0.0.1" });
    assert.deepEqual(run(["-bind", ":3505", "-discover", "-discover-group", "10.0.0.255:4000"]).discover, { group: { host: "10.0.0.255", port: 4000 } });
    assert.deepEqual(run(["-bind", ":3505", "-discover", "-discover-interface", "10.1.2.3"]).discover?.interfaceAddress, "10.1.2.3");
  });

  it("refuses a group or interface that is not IPv4, naming the flag", () => {
    assert.match(refused(["-discover", "-discover-group", "[ff02::1]:3506"]), /^-discover-group "\[ff02::1\]:3506": not an IPv4 address/);
    assert.match(refused(["-discover", "-discover-group", "239.255.35.5"]), /^-discover-group .*the port is missing/);
    assert.match(refused(["-discover", "-discover-interface", "eth0"]), /^-discover-interface "eth0": expected the IPv4 address/);
  });

  it("refuses discovery beyond loopback without a cluster key, even under -insecure", () => {
    const everywhere = checkStartupSafety(run(["-bind", "0.0.0.0:3505", "-insecure", "-discover"]), false);
    assert.match(everywhere.refusal ?? "", /^-discover on every interface .*no cluster key is set \(-insecure does not cover discovery\).*gcheck keygen/);
    const iface = checkStartupSafety(run(["-bind", "127.0.0.1:2000", "-discover", "-discover-interface", "10.1.2.3"]), false);
    assert.match(iface.refusal ?? "", /^-discover on 10\.1\.2\.3 /);
    assert.equal(checkStartupSafety(run(["-bind", "0.0.0.0:3505", "-discover"]), true).refusal, undefined);
    assert.deepEqual(checkStartupSafety(run(["-bind", "127.0.0.1:2000", "-discover"]), false), { warnings: [] });
  });
});
