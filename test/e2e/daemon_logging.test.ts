import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { DAEMON_BIN, runNode, spawnDaemon, tempDir, waitFor } from "../support/proc.js";

/*
 * gossipcheckd's log lines as a real process writes them: -log-format json
 * names its levels; pretty is one line per event and has no colour under
 * NO_COLOR; auto follows whether stdout is a terminal (a real one, from
 * util-linux `script`, where that is installed).
 */

const ANSI = /\x1b\[/;
/** A pretty line: time, level, message (src/daemon/logging.ts). */
const PRETTY_LINE = /^\[\d\d:\d\d:\d\d\.\d{3}\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL): \S/;

describe("gossipcheckd -log-format", () => {
  it("json: every line names its level", async () => {
    const d = await spawnDaemon(["-log-format", "json", "-name", "log-json"]);
    assert.equal(d.startup.level, "info");
    assert.deepEqual(await d.stop(), { code: 0, signal: null });
    const lines = d.logLines();
    assert.ok(lines.length >= 3, d.stdout());
    for (const l of lines) assert.ok(["trace", "debug", "info", "warn", "error", "fatal"].includes(String(l.level)), JSON.stringify(l));
    assert.ok(lines.some((l) => l.msg === "stopped" && l.level === "info"));
  });

  it("pretty with NO_COLOR: one line per event, no ANSI escapes", async () => {
    const data = tempDir("gcd-log-");
    const child = spawn(process.execPath, [DAEMON_BIN, "-log-format", "pretty", "-name", "log-pretty", "-bind", "127.0.0.1:0", "-cli-bind", "127.0.0.1:0", "-data-dir", data.path], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    try {
      await waitFor(() => / started: node log-pretty/.test(out), 10_000, "the startup line");
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
      data.cleanup();
    }
    assert.doesNotMatch(out, ANSI);
    const lines = out.trimEnd().split("\n");
    for (const l of lines) assert.match(l, PRETTY_LINE);
    const startup = lines.find((l) => l.includes(" started: node log-pretty"))!;
    assert.match(startup, /^\[[\d:.]+\] INFO: gossipcheckd \S+ started: node log-pretty, .* node=log-pretty name=log-pretty version=\S+ bind=127\.0\.0\.1:\d+ .*peers=\[\] /);
    assert.match(lines.at(-1)!, /INFO: stopped node=log-pretty$/);
  });

  it("rejects an unknown format with one line naming the flag", async () => {
    const r = await runNode(DAEMON_BIN, ["-log-format", "xml"]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, '-log-format "xml": expected auto, json, pretty (see gossipcheckd -help)\n');
  });
});

const script = spawnSync("script", ["--version"], { encoding: "utf8" });
const noScript = script.status === 0 ? false : "util-linux `script` is not installed: no terminal to run the daemon on";

describe("gossipcheckd -log-format auto on a terminal", { skip: noScript }, () => {
  // A control port already taken: the daemon logs its first lines, then exits 2 by itself, so nothing lingers in the pty.
  let busy: Server;
  let busyPort = 0;
  const data = tempDir("gcd-tty-");
  before(async () => {
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    busyPort = (busy.address() as { port: number }).port;
  });
  after(() => {
    busy.close();
    data.cleanup();
  });

  const onTerminal = async (env: NodeJS.ProcessEnv): Promise<string> => {
    const cmd = [process.execPath, DAEMON_BIN, "-bind", "127.0.0.1:0", "-cli-bind", `127.0.0.1:${busyPort}`, "-data-dir", data.path].map((a) => `'${a}'`).join(" ");
    const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 20_000, stdio: ["ignore", "pipe", "pipe"] });
    assert.equal(r.status, 2, `the daemon exits 2 on the taken -cli-bind: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /-cli-bind 127\.0\.0\.1:\d+/);
    return r.stdout;
  };

  it("is pretty and coloured, and has no colour with NO_COLOR set", async () => {
    const coloured = await onTerminal({ NO_COLOR: "" });
    assert.match(coloured, ANSI);
    const plain = await onTerminal({ NO_COLOR: "1" });
    assert.doesNotMatch(plain, ANSI);
    const logLines = plain.split("\r\n").filter((l) => l.startsWith("["));
    assert.ok(logLines.length >= 2, plain);
    for (const l of logLines) assert.match(l, PRETTY_LINE);
  });
});
