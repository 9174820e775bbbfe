import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BatchEvent } from "../../src/control/api_types.js";
import { type ClusterNode, startCluster, startClusterNode, stopAll, waitForView } from "../support/daemon_cluster.js";
import { GCHECK_BIN, ndjsonEvents, runGcheck, tempDir, waitFor } from "../support/proc.js";

/*
 * The always-on parts on real daemons (issue 14): a schedule set with
 * `gcheck schedule set` runs on every node, a node that was down when it was
 * set gets it in push-pull, `gcheck status` aggregates it; a trigger script
 * records member-failed when a node is killed; `gcheck results ID` returns
 * every node's results of a batch whose gcheck was killed mid-run; kill -9
 * during heavy history writes leaves a database the restarted node reads.
 */

async function statusLines(node: ClusterNode): Promise<{ code: number | null; stdout: string }> {
  const r = await runGcheck(["-server", node.cli, "status", "-timeout", "5s"]);
  return { code: r.code, stdout: r.stdout };
}

describe("schedules, status and triggers on a real cluster", () => {
  const dir = tempDir("gc-watch-");
  const flag = join(dir.path, "flag");
  const events = join(dir.path, "events.log");
  let nodes: ClusterNode[] = [];
  let late: ClusterNode | undefined;

  before(async () => {
    writeFileSync(flag, "up\n");
    const script = join(dir.path, "record.sh");
    // The event's variables, one line per run; the JSON on stdin must parse.
    writeFileSync(
      script,
      `#!/bin/sh\njson=$(cat)\necho "$GOSSIPCHECK_EVENT $GOSSIPCHECK_MEMBER_NAME $GOSSIPCHECK_CHECK_NAME $GOSSIPCHECK_CHECK_STATUS $(printf '%s' "$json" | head -c 1)" >> ${events}\n`,
    );
    chmodSync(script, 0o755);
    nodes = await startCluster(["wa", "wb", "wc"], (n) => (n === "wa" ? ["-on", `member-failed=${script}`, "-on", `check-fail=${script}`, "-on", `check-recover=${script}`] : []));
    await waitForView(nodes, ["wa:alive", "wb:alive", "wc:alive"]);
  });
  after(async () => {
    await stopAll([...nodes, late]);
    dir.cleanup();
  });

  it("a schedule set through one node runs on every node, and status aggregates it", async () => {
    const file = join(dir.path, "sched.json");
    writeFileSync(file, JSON.stringify({ flag_present: { type: "file_exists", path: flag, interval: "1s" } }));
    const set = await runGcheck(["-server", nodes[1]!.cli, "-file", file, "schedule", "set", "-name", "flags"]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /schedule flags version \d+ .*set on wb/);
    await waitFor(async () => /flags\/flag_present: 3 pass/.test((await statusLines(nodes[0]!)).stdout), 15_000, "status: 3 pass");
    const list = await runGcheck(["-server", nodes[2]!.cli, "schedule", "list", "-output", "json"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /"name": ?"flags"/);
  });

  it("a failing scheduled check is a transition: status exits 1 naming the nodes, and check-fail then check-recover fire", async () => {
    rmSync(flag);
    await waitFor(async () => (await statusLines(nodes[0]!)).code === 1, 15_000, "status exit 1");
    const failing = await statusLines(nodes[0]!);
    assert.match(failing.stdout, /flag_present: 3 fail: wa, wb, wc/);
    await waitFor(() => existsSync(events) && /check-fail\s+flag_present fail \{/.test(readFileSync(events, "utf8")), 10_000, "check-fail trigger on wa");
    writeFileSync(flag, "up\n");
    await waitFor(async () => (await statusLines(nodes[0]!)).code === 0, 15_000, "status exit 0 again");
    await waitFor(() => /check-recover\s+flag_present pass \{/.test(readFileSync(events, "utf8")), 10_000, "check-recover trigger on wa");
    const history = await runGcheck(["-server", nodes[0]!.cli, "history", "-check", "flag_present", "-output", "json"]);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /"to": ?"fail"/);
  });

  it("a node that was not there when the schedule was set gets it in push-pull and runs it", async () => {
    late = await startClusterNode("wd", ["-peers", nodes[0]!.address]);
    await waitFor(async () => /flags\/flag_present: 4 pass/.test((await statusLines(nodes[0]!)).stdout), 20_000, "status: 4 pass");
  });

  it("a trigger script records member-failed when a node is killed", async () => {
    await nodes[2]!.proc.kill9();
    await waitFor(() => existsSync(events) && /^member-failed wc/m.test(readFileSync(events, "utf8")), 20_000, "member-failed wc in the trigger log");
  });
});

describe("gcheck results after gcheck was killed, and kill -9 during history writes", () => {
  const dir = tempDir("gc-results-");
  let nodes: ClusterNode[] = [];

  before(async () => {
    nodes = await startCluster(["ra", "rb", "rc"], (n) => ["-data-dir", join(dir.path, n)]);
    await waitForView(nodes, ["ra:alive", "rb:alive", "rc:alive"]);
  });
  after(async () => {
    await stopAll(nodes);
    dir.cleanup();
  });

  it("gcheck results ID returns every node's results of a batch whose gcheck was killed mid-run", async () => {
    const file = join(dir.path, "slow.json");
    // The action takes a while, so gcheck is killed before any result is back.
    writeFileSync(file, JSON.stringify({ missing: { type: "file_exists", path: join(dir.path, "nothing-here"), action: "sleep 1" } }));
    const gcheck = spawn(process.execPath, [GCHECK_BIN, "-server", nodes[0]!.cli, "-file", file, "check"], { stdio: "ignore" });
    let batchId = "";
    await waitFor(
      async () => {
        const res = await fetch(`http://${nodes[0]!.cli}/v1/batches`);
        const b = ((await res.json()) as { batches: { batchId: string }[] }).batches[0];
        batchId = b?.batchId ?? "";
        return batchId !== "";
      },
      10_000,
      "the batch to be accepted",
    );
    gcheck.kill("SIGKILL");
    await waitFor(
      async () => {
        const r = await runGcheck(["-server", nodes[1]!.cli, "results", batchId, "-output", "json", "-timeout", "5s"]);
        return r.code === 1 && ["ra", "rb", "rc"].every((n) => r.stdout.includes(`"${n}"`));
      },
      20_000,
      "every node's results through gcheck results",
    );
    const table = await runGcheck(["-server", nodes[2]!.cli, "results", batchId]);
    assert.equal(table.code, 1, table.stderr);
    assert.match(table.stdout, /missing/);
    // Each node's history names who submitted it (gcheck sends user@host).
    const h = await runGcheck(["-server", nodes[0]!.cli, "history", "-node", "rb", "-output", "json"]);
    const recorded = (JSON.parse(h.stdout) as { batches: { batchId: string; submitter: string }[] }).batches.find((b) => b.batchId === batchId);
    assert.match(recorded?.submitter ?? "", /^[^@\s]+@[^@\s]+$/, h.stdout);
  });

  it("kill -9 during heavy history writes leaves a database the restarted node answers from", async () => {
    const file = join(dir.path, "many.json");
    const checks: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) checks[`c${i}`] = { type: "file_exists", path: `/etc/hostname-${i}`, description: "x".repeat(200) };
    writeFileSync(file, JSON.stringify(checks));
    const victim = nodes[2]!;
    const ids: string[] = [];
    // Batches back to back from four streams until the node dies under them.
    let stop = false;
    const streams = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 200 && !stop; i++) {
        const res = await fetch(`http://${victim.cli}/v1/check`, { method: "POST", body: JSON.stringify({ checks: JSON.parse(readFileSync(file, "utf8")), nodes: [victim.name] }) }).catch(() => null);
        if (!res) return;
        const evs = await ndjsonEvents<BatchEvent>(res).catch(() => []);
        const accepted = evs.find((e) => e.type === "accepted");
        if (accepted?.type === "accepted" && evs.some((e) => e.type === "result")) ids.push(accepted.batchId);
      }
    });
    await waitFor(() => ids.length >= 40, 30_000, "40 batches run on the victim");
    await victim.proc.kill9();
    stop = true;
    await Promise.all(streams);
    // A node coming back under its name is refused while the others still list it alive.
    await waitForView([nodes[0]!], ["ra:alive", "rb:alive", `${victim.name}:dead`], 20_000);
    const restarted = await startClusterNode(victim.name, ["-peers", nodes[0]!.address, "-data-dir", join(dir.path, victim.name)]);
    nodes[2] = restarted;
    const r = await runGcheck(["-server", restarted.cli, "results", ids[0]!, "-node", victim.name, "-output", "json", "-timeout", "10s"]);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /"c19"/);
    const h = await runGcheck(["-server", restarted.cli, "history", "-node", victim.name, "-limit", "1000", "-output", "json"]);
    assert.equal(h.code, 0, h.stderr);
    const recorded = ids.filter((id) => h.stdout.includes(id)).length;
    // A batch is recorded before its results are sent, and a committed WAL transaction survives the process: every answered batch is there.
    assert.equal(recorded, ids.length, `${recorded} of the ${ids.length} answered batches are in the history after kill -9`);
    const log = restarted.proc.logLines().map((l) => String(l.msg));
    assert.ok(!log.some((m) => /history is off/.test(m)), `the history opened after kill -9: ${log.filter((m) => /history/.test(m)).join(" | ")}`);
  });
});

describe("signed schedules on nodes with -trusted-keys", () => {
  const dir = tempDir("gc-signed-sched-");
  let nodes: ClusterNode[] = [];

  before(async () => {
    const keys = join(dir.path, "trusted");
    const made = await runGcheck(["keygen", "-signing", "-out", join(dir.path, "op")]);
    assert.equal(made.code, 0, made.stderr);
    mkdirSync(keys);
    copyFileSync(join(dir.path, "op.pub"), join(keys, "op.pub"));
    nodes = await startCluster(["ta", "tb"], () => ["-trusted-keys", keys]);
    await waitForView(nodes, ["ta:alive", "tb:alive"]);
  });
  after(async () => {
    await stopAll(nodes);
    dir.cleanup();
  });

  it("an unsigned schedule is refused before it spreads; a signed one runs on every node", async () => {
    const file = join(dir.path, "s.json");
    writeFileSync(file, JSON.stringify({ tmp_there: { type: "file_exists", path: "/tmp", interval: "1s" } }));
    const unsigned = await runGcheck(["-server", nodes[0]!.cli, "-file", file, "schedule", "set", "-name", "s"]);
    assert.notEqual(unsigned.code, 0);
    assert.match(unsigned.stderr, /accepts only schedules signed by a trusted key/);
    const signed = await runGcheck(["-server", nodes[0]!.cli, "-file", file, "schedule", "set", "-name", "s", "-sign-key", join(dir.path, "op.key")]);
    assert.equal(signed.code, 0, signed.stderr);
    await waitFor(async () => /s\/tmp_there: 2 pass/.test((await statusLines(nodes[1]!)).stdout), 15_000, "the signed schedule runs on both nodes");
    const list = await runGcheck(["-server", nodes[1]!.cli, "schedule", "list"]);
    assert.match(list.stdout, /\bs\b.*[0-9a-f]{8}/, "the signer's fingerprint is listed");
    const audit = await runGcheck(["-server", nodes[1]!.cli, "history", "-audit", "-node", "tb"]);
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, /schedule-set .*schedule s version \d+ set \(1 checks\).* signed by [0-9a-f]{8}/);
  });
});
