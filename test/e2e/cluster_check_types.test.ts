import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type ClusterNode, startCluster, stopAll, waitForView } from "../support/daemon_cluster.js";
import { ROOT, runGcheck, tempDir } from "../support/proc.js";

/*
 * The check types of issue 13 through the whole path: gcheck reads the file
 * (JSON, YAML, or a Goss gossfile), the batch spreads to three real daemons,
 * each evaluates its checks, and every node's results come back; `warn` from
 * a Nagios plugin passes unless -fail-on warn.
 */

const names = ["ta", "tb", "tc"];
const dir = tempDir("gc-types-");
let nodes: ClusterNode[] = [];
let server: Server;
let port = 0;

before(async () => {
  // A tcp probe ends with a reset (src/checks/tcp.ts): the server sees ECONNRESET.
  server = createServer((s) => {
    s.on("error", () => {});
    s.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
  nodes = await startCluster(names);
  await waitForView(
    nodes,
    names.map((n) => `${n}:alive`),
  );
});
after(async () => {
  server.close();
  await stopAll(nodes);
  dir.cleanup();
});

interface Doc {
  exitCode: number;
  nodes: { node: string; results?: { name: string; status: string; message: string }[] }[];
}

async function check(file: string, ...args: string[]): Promise<{ code: number; doc: Doc; raw: string }> {
  const r = await runGcheck(["check", "-server", nodes[0]!.cli, "-file", file, "-output", "json", "-timeout", "20s", ...args], { timeoutMs: 40_000 });
  try {
    return { code: r.code ?? -1, doc: JSON.parse(r.stdout) as Doc, raw: r.stdout + r.stderr };
  } catch {
    throw new Error(`gcheck printed no JSON: ${r.stdout}${r.stderr}`);
  }
}

describe("new check types on a 3-node cluster", () => {
  it("tcp, port, package, user, kernel_param, file and memory checks run on every node and pass", async () => {
    const file = join(dir.path, "types.json");
    writeFileSync(
      file,
      JSON.stringify({
        listener: { type: "tcp", address: `127.0.0.1:${port}` },
        listening: { type: "port", port: `tcp:${port}` },
        bash: { type: "package", package: "bash" },
        root: { type: "user", user: "root", uid: 0 },
        ostype: { type: "kernel_param", key: "kernel.ostype", value: "Linux" },
        passwd: { type: "file", path: "/etc/passwd", filetype: "file" },
        memory: { type: "memory", min_available_bytes: 1 },
      }),
    );
    const { code, doc, raw } = await check(file);
    assert.equal(code, 0, raw);
    assert.deepEqual(doc.nodes.map((n) => n.node).sort(), names);
    for (const n of doc.nodes)
      assert.deepEqual(
        n.results?.map((r) => r.status),
        Array(7).fill("pass"),
        JSON.stringify(n.results),
      );
  });

  it("a Nagios WARNING is warn on every node: exit 0 by default, 1 with -fail-on warn", async (t) => {
    const plugin = "/usr/lib/nagios/plugins/check_dummy";
    const { existsSync } = await import("node:fs");
    if (!existsSync(plugin)) return t.skip("no Nagios plugins (apt-get install monitoring-plugins-basic)");
    const file = join(dir.path, "nagios.json");
    writeFileSync(file, JSON.stringify({ almost: { type: "nagios", command: `${plugin} 1 'almost full|used=80%;70;90'` } }));
    const plain = await check(file);
    assert.equal(plain.code, 0, plain.raw);
    for (const n of plain.doc.nodes) assert.equal(n.results?.[0]?.status, "warn");
    assert.equal((await check(file, "-fail-on", "warn")).code, 1);
  });

  it("a Goss gossfile runs fleet-wide", async () => {
    const goss = join(dir.path, "goss.yaml");
    writeFileSync(
      goss,
      `package:\n  bash:\n    installed: true\nuser:\n  root:\n    exists: true\n    uid: 0\naddr:\n  tcp://127.0.0.1:${port}:\n    reachable: true\nkernel-param:\n  kernel.ostype:\n    value: Linux\n`,
    );
    const { code, doc, raw } = await check(goss);
    assert.equal(code, 0, raw);
    for (const n of doc.nodes) assert.equal(n.results?.length, 4, JSON.stringify(n.results));
  });

  it("the shipped example gossfile translates with gcheck import", async () => {
    const r = await runGcheck(["import", "-file", join(ROOT, "test/fixtures/goss/goss.yaml")]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Object.keys(JSON.parse(r.stdout) as object).length > 5);
  });
});
