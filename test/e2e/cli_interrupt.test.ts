import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BatchSummary } from "../../src/control/api_types.js";
import { type ClusterNode, startCluster, stopAll, waitForView } from "../support/daemon_cluster.js";
import { GCHECK_BIN, tempDir, waitFor } from "../support/proc.js";

/*
 * SIGINT during `gcheck check -output json` against real daemons (issue 15):
 * gcheck prints one valid JSON document with what arrived, names the nodes
 * it did not hear from, and exits with the code it would have had (3: a
 * node never answered), or 130 when nothing at all had arrived.
 */

interface Doc {
  interrupted: boolean;
  missing: string[];
  exitCode: number;
}

describe("gcheck check interrupted by SIGINT", () => {
  const dir = tempDir("gc-sigint-");
  let nodes: ClusterNode[] = [];

  before(async () => {
    nodes = await startCluster(["ia", "ib"]);
    await waitForView(nodes, ["ia:alive", "ib:alive"]);
  });
  after(async () => {
    await stopAll(nodes);
    dir.cleanup();
  });

  /** Runs gcheck on `file`, waits until `answered` nodes answered at the origin, sends SIGINT; resolves with its exit code and output. */
  async function interrupt(file: string, answered: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [GCHECK_BIN, "-server", nodes[0]!.cli, "-file", file, "-output", "json", "check", "-timeout", "60s"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const before = new Set<string>();
    const res0 = await fetch(`http://${nodes[0]!.cli}/v1/batches`);
    for (const b of ((await res0.json()) as { batches: BatchSummary[] }).batches) before.add(b.batchId);
    await waitFor(
      async () => {
        const res = await fetch(`http://${nodes[0]!.cli}/v1/batches`);
        const b = ((await res.json()) as { batches: BatchSummary[] }).batches.find((x) => !before.has(x.batchId));
        return b !== undefined && b.answered >= answered;
      },
      15_000,
      `${answered} answers at the origin`,
    );
    child.kill("SIGINT");
    const code = await exited;
    return { code, stdout, stderr };
  }

  it("after one of two nodes answered: one JSON document naming the missing node, exit 3", async () => {
    const file = join(dir.path, "one_slow.json");
    writeFileSync(file, JSON.stringify({ slow_on_ib: { type: "command", command: 'if [ "$GOSSIPCHECK_NODE" = ib ]; then sleep 8; fi', timeout: "20s" } }));
    const r = await interrupt(file, 1);
    const doc = JSON.parse(r.stdout) as Doc;
    assert.equal(doc.interrupted, true);
    assert.deepEqual(doc.missing, ["ib"]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(doc.exitCode, 3);
    assert.match(r.stderr, /interrupted; no answer yet from 1 node/);
  });

  it("before any node answered, with -output ndjson: the accepted line, then a summary saying so, exit 130", async () => {
    const file = join(dir.path, "all_slow.json");
    writeFileSync(file, JSON.stringify({ slow: { type: "command", command: "sleep 8", timeout: "20s" } }));
    const child = spawn(process.execPath, [GCHECK_BIN, "-server", nodes[0]!.cli, "-file", file, "-output", "ndjson", "check", "-timeout", "60s"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // The accepted line is written as it arrives: gcheck is then waiting for answers.
    await waitFor(() => stdout.includes('"event":"accepted"'), 15_000, "the accepted line");
    child.kill("SIGINT");
    const code = await exited;
    const lines = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.at(-1) as unknown as Doc & { event: string };
    assert.equal(summary.event, "summary");
    assert.equal(summary.interrupted, true);
    assert.deepEqual([...summary.missing].sort(), ["ia", "ib"]);
    assert.equal(code, 130);
  });
});
