import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import type { LogFormat } from "../src/daemon/flags.js";
import { createDaemonLogger, logStyle, prettyMessage } from "../src/daemon/logging.js";
import { waitFor } from "./support/proc.js";

/* The daemon's log lines in each -log-format, captured from the logger itself. */

const ANSI = /\x1b\[/;

function capture(): { stream: Writable; text: () => string; lines: () => string[] } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text, lines: () => text.split("\n").filter((l) => l !== "") };
}

/** Logs three events in `format` and returns the lines once all three arrived. */
async function logThree(format: LogFormat, isTTY: boolean, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const out = capture();
  const log = await createDaemonLogger({ level: "info", format, name: "node-1" }, { stream: out.stream, isTTY, env });
  log.info({ peers: ["10.0.0.1:3505", "10.0.0.2:3505"], encrypted: true }, "gossipcheckd 0.1.0 started");
  log.warn({ file: "/etc/gossipcheck/cluster key", err: "line one\nline two" }, "could not read\nthe keyring");
  log.debug({}, "below the level: not logged");
  log.error({ count: 3, name: "peer-2" }, "three failures");
  await waitFor(() => out.lines().length >= 3, 5_000, "three log lines");
  return out.lines();
}

describe("daemon logging", () => {
  it("json: one object per line, the level by name, node and pid on every line", async () => {
    const lines = (await logThree("json", false)).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => l.level),
      ["info", "warn", "error"],
    );
    assert.equal(lines[0]!.msg, "gossipcheckd 0.1.0 started");
    assert.deepEqual(lines[0]!.peers, ["10.0.0.1:3505", "10.0.0.2:3505"]);
    for (const l of lines) {
      assert.equal(l.node, "node-1");
      assert.equal(l.pid, process.pid);
      assert.equal(typeof l.time, "number");
    }
  });

  it("pretty: one line per event, the message first and then key=value fields", async () => {
    const lines = await logThree("pretty", false);
    assert.equal(lines.length, 3, lines.join("\n"));
    assert.match(lines[0]!, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: gossipcheckd 0\.1\.0 started node=node-1 peers=\["10\.0\.0\.1:3505","10\.0\.0\.2:3505"\] encrypted=true$/);
    // Values with spaces or newlines are quoted; a newline in the message is escaped: still one line.
    assert.match(lines[1]!, /^\[[\d:.]+\] WARN: could not read\\nthe keyring node=node-1 file="\/etc\/gossipcheck\/cluster key" err="line one\\nline two"$/);
    assert.match(lines[2]!, /^\[[\d:.]+\] ERROR: three failures node=node-1 count=3 name=peer-2$/);
    for (const l of lines) assert.doesNotMatch(l, ANSI);
  });

  it("pretty on a terminal is coloured, unless NO_COLOR is set to anything but the empty string", async () => {
    assert.match((await logThree("pretty", true)).join("\n"), ANSI);
    assert.match((await logThree("pretty", true, { NO_COLOR: "" })).join("\n"), ANSI, "an empty NO_COLOR does not count");
    for (const value of ["1", "0", "false"]) {
      const lines = await logThree("pretty", true, { NO_COLOR: value });
      assert.equal(lines.length, 3);
      for (const l of lines) assert.doesNotMatch(l, ANSI, `NO_COLOR=${value}`);
    }
  });

  it("auto: pretty on a terminal, json elsewhere", async () => {
    assert.deepEqual(logStyle("auto", { isTTY: true, env: {} }), { pretty: true, colorize: true });
    assert.deepEqual(logStyle("auto", { isTTY: false, env: {} }), { pretty: false, colorize: false });
    assert.deepEqual(logStyle("json", { isTTY: true, env: {} }), { pretty: false, colorize: false });
    assert.deepEqual(logStyle("pretty", { isTTY: false, env: {} }), { pretty: true, colorize: false });
    assert.deepEqual(logStyle("auto", { isTTY: true, env: { NO_COLOR: "1" } }), { pretty: true, colorize: false });
    assert.equal(JSON.parse((await logThree("auto", false))[0]!).level, "info");
    assert.match((await logThree("auto", true, { NO_COLOR: "1" }))[0]!, /INFO: gossipcheckd 0\.1\.0 started node=node-1/);
  });

  it("prettyMessage quotes only what would be ambiguous bare", () => {
    assert.equal(prettyMessage({ msg: "m", a: "plain", b: "two words", c: 'q"uote', d: "k=v", e: "", f: null, g: 1n }), 'm a=plain b="two words" c="q\\"uote" d="k=v" e="" f=null g=1');
    assert.equal(prettyMessage({ level: "info", time: 1, pid: 2, hostname: "h", msg: "only the message" }), "only the message");
  });
});
