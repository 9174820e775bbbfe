import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type ClusterNode, infoOf, startCluster, startClusterNode, stopAll, waitForView } from "../support/daemon_cluster.js";
import { runGcheck, tempDir, waitFor } from "../support/proc.js";

/*
 * The replay from the hardening issue, on real daemons: kill -9 a node,
 * delete its data dir, restart it under the same name while a batch is
 * inside its TTL. Push-pull hands it the live batch; before, it ran the
 * action a second time (with "shutdown -r now", a second reboot).
 */

const dir = tempDir("gc-replay-");
let nodes: (ClusterNode | undefined)[] = [];
after(async () => {
  await stopAll(nodes);
  dir.cleanup();
});

describe("a node that lost its data dir", () => {
  it("does not run a live batch's action again after a restart, and reports the skip", async () => {
    const victimDir = join(dir.path, "victim-data");
    const runs = join(dir.path, "action-runs");
    const names = ["ra", "rb", "victim"];
    nodes = await startCluster(names, (n) => (n === "victim" ? ["-data-dir", victimDir] : []));
    await waitForView(
      nodes as ClusterNode[],
      names.map((n) => `${n}:alive`),
    );
    // A check that always fails, so its action runs whenever the batch runs.
    const file = join(dir.path, "checks.json");
    writeFileSync(file, JSON.stringify({ reboot: { type: "file_exists", path: join(dir.path, "never-there"), action: `echo ran >> ${runs}` } }));
    const first = await runGcheck(["check", "-server", nodes[0]!.cli, "-file", file, "-node", "victim", "-ttl", "5m", "-timeout", "20s"], { timeoutMs: 30_000 });
    assert.equal(first.code, 1, `the check fails on the victim: ${first.stdout}${first.stderr}`);
    assert.equal(readFileSync(runs, "utf8"), "ran\n", "the action ran once");

    // Restarted as a supervisor would: same name, same address, before anyone noticed it was gone.
    const address = nodes[2]!.address;
    await nodes[2]!.proc.kill9();
    rmSync(victimDir, { recursive: true, force: true });
    nodes[2] = await startClusterNode("victim", ["-bind", address, "-data-dir", victimDir, "-peers", nodes[0]!.address]);
    const victim = nodes[2];
    // The live batch reaches it again (push-pull on join, advertisements); it skips it.
    await waitFor(async () => ((await infoOf(victim)).counters.gossip_refusedUnsafe ?? 0) >= 1, 15_000, "the restarted node to skip the live batch");
    const line = victim.proc.logLines().find((l) => typeof l.msg === "string" && l.msg.includes("did not run envelope"));
    assert.ok(line, "the skip is logged");
    assert.match(String(line.msg), /skipped: created before this node's history began \(data dir new or lost\)/);
    assert.equal(readFileSync(runs, "utf8"), "ran\n", "the action still ran only once");

    // A batch created after the restart runs there as usual.
    const second = await runGcheck(["check", "-server", nodes[0]!.cli, "-file", file, "-node", "victim", "-timeout", "20s"], { timeoutMs: 30_000 });
    assert.equal(second.code, 1, second.stdout + second.stderr);
    assert.equal(readFileSync(runs, "utf8"), "ran\nran\n");
  });
});
