import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { lengthPrefix } from "../../src/net/framing.js";
import { type ClusterNode, startCluster, stopAll, viewOf, waitForView } from "../support/daemon_cluster.js";
import { rssBytes, runGcheck, tempDir, waitFor } from "../support/proc.js";

/*
 * The attack from the hardening issue, on real keyed daemons: 40 TCP
 * connections to one node's cluster port, each declaring a 16 MiB frame and
 * then trickling bytes. Before, the node buffered every declared frame
 * whole (65 MB -> 754 MB RSS) and kept all 40 open.
 */

const MiB = 1024 * 1024;
const names = ["pa", "pb", "pc"];
const dir = tempDir("gc-preauth-");
let nodes: ClusterNode[] = [];
const sockets: Socket[] = [];

before(async () => {
  const key = await runGcheck(["keygen"]);
  assert.equal(key.code, 0, key.stderr);
  const keyFile = join(dir.path, "cluster.key");
  writeFileSync(keyFile, key.stdout, { mode: 0o600 });
  nodes = await startCluster(names, () => ["-key-file", keyFile]);
  await waitForView(
    nodes,
    names.map((n) => `${n}:alive`),
  );
});

after(async () => {
  for (const s of sockets) s.destroy();
  await stopAll(nodes);
  dir.cleanup();
});

describe("a keyed daemon under a pre-authentication flood", () => {
  it("40 connections declaring 16 MiB frames grow its RSS by under 64 MB, are all closed within the frame deadline, and disturb no member", async () => {
    const target = nodes[1]!;
    const baseline = rssBytes(target.proc.pid);
    const [host, port] = target.address.split(":");
    let closed = 0;
    const declared = new Set<Socket>();
    for (let i = 0; i < 40; i++) {
      const s = connect({ host: host!, port: Number(port) });
      sockets.push(s);
      s.on("error", () => {});
      s.on("close", () => closed++);
      s.resume();
      s.once("connect", () => {
        s.write(Buffer.concat([lengthPrefix(16 * MiB), Buffer.alloc(64 * 1024, 1)]));
        declared.add(s);
      });
    }
    const trickle = setInterval(() => {
      for (const s of declared) if (!s.destroyed && s.writable) s.write(Buffer.alloc(64 * 1024, 1)); // 51 MB/s in all: unbounded buffering would show
    }, 50);
    let peak = baseline;
    const views: string[][] = [];
    const started = Date.now();
    try {
      // The default frame deadline is 10 s; the keyed node needs no deadline here
      // (a first frame over 4 KiB is refused at once), so 12 s is generous.
      await waitFor(
        async () => {
          peak = Math.max(peak, rssBytes(target.proc.pid));
          views.push(...(await Promise.all(nodes.map(viewOf))));
          return closed === 40;
        },
        12_000,
        "every attacking connection to be closed",
      );
    } finally {
      clearInterval(trickle);
    }
    const growth = peak - baseline;
    assert.ok(growth < 64 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB (from ${(baseline / MiB).toFixed(1)}), under 64`);
    assert.ok(Date.now() - started < 12_000);
    for (const v of views)
      assert.deepEqual(
        v,
        names.map((n) => `${n}:alive`),
        "no member was suspected during the attack",
      );
    const info = (await (await fetch(`http://${target.cli}/v1/info`)).json()) as { counters: Record<string, number> };
    assert.equal(info.counters.net_firstFrameRefused, 40, `each connection counted: ${JSON.stringify(Object.fromEntries(Object.entries(info.counters).filter(([k]) => k.startsWith("net_"))))}`);
  });

  it("a legitimate 10 MB batch still runs on every node of the keyed cluster", async () => {
    const big = "x".repeat(10 * 1000 * 1000);
    const file = join(dir.path, "big.json");
    writeFileSync(file, JSON.stringify({ big: { type: "file_exists", path: "/", description: big } }));
    const res = await runGcheck(["check", "-server", nodes[0]!.cli, "-file", file, "-output", "json", "-timeout", "30s"], { timeoutMs: 60_000 });
    assert.equal(
      res.code,
      0,
      `gcheck exited ${res.code}\nstderr: ${res.stderr}\nstdout: ${res.stdout.slice(0, 4000)}\nlogs:\n${nodes.map((n) => `${n.name}: ${n.proc.stdout().slice(-3000)}`).join("\n")}`,
    );
    const report = JSON.parse(res.stdout) as { nodes: { node: string; results?: { status: string; description?: string }[] }[] };
    assert.deepEqual(report.nodes.map((n) => n.node).sort(), names);
    for (const n of report.nodes) {
      assert.equal(n.results?.[0]?.status, "pass", n.node);
      // Each node left the 10 MB description out of its answer; the origin put it back from the batch.
      assert.equal(n.results?.[0]?.description, big, n.node);
    }
  });
});
