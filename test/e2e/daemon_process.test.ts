import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type DaemonProc, EarlyExit, runDaemonToExit, runGcheck, spawnDaemon, tempDir, waitFor } from "../support/proc.js";

/* gossipcheckd as a real process: startup, refusals, signals, token. */

describe("gossipcheckd process lifecycle", () => {
  it("starts on ephemeral ports, logs its addresses, and exits 0 on SIGTERM", async () => {
    const d = await spawnDaemon(["-name", "lifecycle-1"]);
    assert.equal(d.startup.name, "lifecycle-1");
    assert.match(String(d.cliAddress), /^127\.0\.0\.1:\d+$/);
    assert.notEqual(d.cliAddress, "127.0.0.1:0");
    const exited = await d.stop("SIGTERM");
    assert.deepEqual(exited, { code: 0, signal: null });
    assert.ok(
      d.logLines().some((l) => l.msg === "stopped"),
      "logs that it stopped",
    );
  });

  it("exits 0 on SIGINT too", async () => {
    const d = await spawnDaemon();
    assert.deepEqual(await d.stop("SIGINT"), { code: 0, signal: null });
  });

  it("with -no-cli runs without a control API until signalled", async () => {
    const d = await spawnDaemon(["-no-cli"]);
    assert.equal(d.cliAddress, null);
    // Still running after the startup line: nothing made it exit on its own.
    assert.equal(await Promise.race([d.exited.then(() => "exited"), new Promise((r) => setImmediate(() => r("running")))]), "running");
    assert.deepEqual(await d.stop(), { code: 0, signal: null });
  });

  it("writes -cli-addr-file and creates the data dir private", async () => {
    const t = tempDir();
    try {
      const addrFile = join(t.path, "cli.addr");
      const dataDir = join(t.path, "state/nested");
      const d = await spawnDaemon(["-cli-addr-file", addrFile, "-data-dir", dataDir]);
      assert.equal(readFileSync(addrFile, "utf8").trim(), d.cliAddress);
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
      await d.stop();
    } finally {
      t.cleanup();
    }
  });

  it("opens its history database once serving, with no batch to make it; one that cannot open is logged after the startup line and the daemon serves on", async () => {
    const t = tempDir();
    try {
      const good = join(t.path, "good");
      const d = await spawnDaemon(["-data-dir", good]);
      await waitFor(() => existsSync(join(good, "history.sqlite")), 10_000, "history.sqlite in the data dir");
      await d.stop();
      // A directory where the database file goes: the history is off, nothing else.
      const bad = join(t.path, "bad");
      mkdirSync(join(bad, "history.sqlite"), { recursive: true });
      const b = await spawnDaemon(["-data-dir", bad]);
      await waitFor(() => b.logLines().some((l) => /^history is off: .*history\.sqlite/.test(String(l.msg))), 10_000, "the history-is-off line");
      const msgs = b.logLines().map((l) => String(l.msg));
      assert.ok(msgs.findIndex((m) => m.startsWith("gossipcheckd ")) < msgs.findIndex((m) => m.startsWith("history is off")), "the database is opened after the daemon is serving");
      const status = await runGcheck(["-server", b.cliAddress!, "history", "-output", "json"]);
      assert.match(`${status.stdout}${status.stderr}`, /history\.sqlite/, "a history query names the file it could not open");
      await b.stop();
    } finally {
      t.cleanup();
    }
  });
});

describe("gossipcheckd refuses to start, with one line and exit 2", () => {
  const refusal = async (args: string[]) => {
    const r = await runDaemonToExit(args);
    assert.equal(r.code, 2, `exit code for ${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
    return r.stderr;
  };

  it("an unknown flag", async () => {
    assert.equal(await refusal(["-foo"]), "unknown flag -foo (see gossipcheckd -help)\n");
  });

  it("a bad address", async () => {
    assert.match(await refusal(["-bind", "127.0.0.1:99999"]), /^-bind "127\.0\.0\.1:99999": port 99999 is above 65535; expected host:port/);
  });

  it("a control API port already in use", async () => {
    const first = await spawnDaemon();
    try {
      const stderr = await refusal(["-bind", "127.0.0.1:0", "-cli-bind", first.cliAddress!, "-data-dir", first.dataDir!]);
      assert.match(stderr, new RegExp(`^gossipcheckd: -cli-bind ${first.cliAddress}: the port is already in use`));
    } finally {
      await first.stop();
    }
  });

  it("a non-loopback -bind without a cluster key, saying how to make one", async () => {
    const t = tempDir();
    try {
      assert.match(await refusal(["-bind", "0.0.0.0:0", "-advertise", "127.0.0.1:3505", "-data-dir", t.path]), /no cluster key is set.*gcheck keygen.*-insecure/);
    } finally {
      t.cleanup();
    }
  });

  it("a non-loopback -cli-bind without a token", async () => {
    const t = tempDir();
    try {
      assert.match(await refusal(["-bind", "127.0.0.1:0", "-cli-bind", "0.0.0.0:0", "-data-dir", t.path]), /not a loopback address, so the control API needs a token.*-cli-token-file/);
    } finally {
      t.cleanup();
    }
  });

  it("a missing key or token file", async () => {
    const t = tempDir();
    try {
      assert.match(await refusal(["-bind", "127.0.0.1:0", "-key-file", join(t.path, "nope.key"), "-data-dir", t.path]), /-key-file .*nope\.key: no such file or directory/);
      assert.match(await refusal(["-bind", "127.0.0.1:0", "-cli-token-file", join(t.path, "nope.token"), "-data-dir", t.path]), /-cli-token-file .*nope\.token: no such file/);
    } finally {
      t.cleanup();
    }
  });

  it("starts under -insecure on a non-loopback bind, with a warning", async () => {
    const d = await spawnDaemon(["-bind", "0.0.0.0:0", "-advertise", "127.0.0.1:3505", "-insecure"]);
    await waitFor(() => d.logLines().some((l) => l.level === "warn" && /-insecure/.test(String(l.msg))), 5_000, "the -insecure warning");
    await d.stop();
  });

  it("reports an early exit to spawnDaemon callers with its output", async () => {
    await assert.rejects(spawnDaemon(["-gossip-group", "0"]), (e: unknown) => e instanceof EarlyExit && e.exited.code === 2 && /-gossip-group/.test(e.stderr));
  });
});

describe("control API token, end to end", () => {
  let d: DaemonProc;
  const t = tempDir();
  const tokenFile = join(t.path, "cli.token");
  const token = "Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OQ==";
  before(async () => {
    writeFileSync(tokenFile, token + "\n", { mode: 0o600 });
    d = await spawnDaemon(["-cli-token-file", tokenFile]);
  });
  after(async () => {
    await d.stop();
    t.cleanup();
  });

  it("gcheck without the token gets a one-line 401 and exit 2", async () => {
    const r = await runGcheck(["-server", d.cliAddress!, "members"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^gcheck: gossipcheckd at 127\.0\.0\.1:\d+ answered 401: missing or wrong token/);
  });

  it("gcheck with a wrong token is refused the same way", async () => {
    const r = await runGcheck(["-server", d.cliAddress!, "members"], { env: { GOSSIPCHECK_TOKEN: "not-the-right-token-at-all" } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /answered 401/);
  });

  it("gcheck with -token-file or GOSSIPCHECK_TOKEN is served", async () => {
    const viaFile = await runGcheck(["-server", d.cliAddress!, "-token-file", tokenFile, "members"]);
    assert.equal(viaFile.code, 0, viaFile.stderr);
    const viaEnv = await runGcheck(["-server", d.cliAddress!, "members"], { env: { GOSSIPCHECK_TOKEN: token } });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.match(viaEnv.stdout, /alive/);
  });
});
