import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type ClusterNode, membersOf, startCluster, startClusterNode, stopAll, viewOf, waitForView } from "../support/daemon_cluster.js";
import { EarlyExit, runDaemonToExit, runGcheck, tempDir } from "../support/proc.js";

/*
 * gossipcheckd as a cluster of real processes on loopback (no key): three
 * daemons form a cluster through one seed, `gcheck check` brings back every
 * node's results with the right exit code, a taken name is refused, and a
 * daemon stopped with SIGTERM is listed as left, not dead.
 */

const t = tempDir("gcd-cluster-");
let nodes: ClusterNode[] = [];
const [a, b, c] = [() => nodes[0]!, () => nodes[1]!, () => nodes[2]!];

function checkFile(name: string, checks: Record<string, unknown>): string {
  const p = join(t.path, name);
  writeFileSync(p, JSON.stringify(checks));
  return p;
}

interface CheckDoc {
  exitCode: number;
  summary: { expected: number; answered: number; unreachable: number; silent: number };
  nodes: { node: string; state: string; results: { name: string; status: string }[] }[];
}

before(async () => {
  nodes = await startCluster(["ca", "cb", "cc"], (n) => (n === "ca" ? ["-tag", "role=web"] : ["-tag", "role=db"]));
  await waitForView(nodes, ["ca:alive", "cb:alive", "cc:alive"]);
});
after(async () => {
  await stopAll(nodes);
  t.cleanup();
});

describe("a three-daemon cluster", () => {
  it("forms through one seed: every member lists all three alive, with their real addresses and tags", async () => {
    const r = await runGcheck(["-server", c().cli, "members", "-output", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { node: string; members: { name: string; address: string; status: string; tags: Record<string, string> }[] };
    assert.equal(doc.node, "cc");
    assert.deepEqual(
      doc.members.map((m) => [m.name, m.address, m.status, m.tags.role]),
      nodes.map((n) => [n.name, n.address, "alive", n.name === "ca" ? "web" : "db"]),
    );
  });

  it("gcheck check: every node runs the batch once and answers; exit 0 when fixed, 1 when failing", async () => {
    const marks = join(t.path, "marks");
    const once = checkFile("once.json", { mark: { type: "file_exists", path: `${marks}-never`, action: `echo ran >> ${marks}-$GOSSIPCHECK_NODE` } });
    const failing = await runGcheck(["-server", b().cli, "-file", once, "check", "-output", "json"]);
    const doc = JSON.parse(failing.stdout) as CheckDoc;
    // The path never appears, so the action leaves each check failing: exit 1, one run per node.
    assert.equal(failing.code, 1, failing.stderr);
    assert.deepEqual(
      doc.nodes.map((n) => [n.node, n.state, n.results.map((x) => x.status)]),
      [
        ["ca", "answered", ["fail"]],
        ["cb", "answered", ["fail"]],
        ["cc", "answered", ["fail"]],
      ],
    );
    for (const n of nodes) assert.equal(readFileSync(`${marks}-${n.name}`, "utf8"), "ran\n", `${n.name} ran the action exactly once`);

    const passing = checkFile("pass.json", { dir: { type: "file_exists", path: t.path }, text: { type: "file_contains", path: once, check: "mark" } });
    const ok = await runGcheck(["-server", a().cli, "-file", passing, "check"]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^3\/3 nodes answered; checks: 6 passed, 0 fixed, 0 failed, 0 errored; /m);

    const fixable = join(t.path, "fixable");
    const repair = checkFile("repair.json", { fixable: { type: "file_exists", path: fixable, action: `touch ${fixable}` } });
    const repaired = await runGcheck(["-server", c().cli, "-file", repair, "check", "-output", "json"]);
    const counts = (JSON.parse(repaired.stdout) as CheckDoc & { summary: { checks: Record<string, number> } }).summary.checks;
    assert.equal(repaired.code, 0, repaired.stdout);
    assert.equal(counts.pass + counts.fixed, 3, "each node either fixed the file or found it fixed by another");
  });

  it("gcheck check: --tag and --node pick the nodes that run it; the others only relay", async () => {
    const f = checkFile("target.json", { here: { type: "file_exists", path: t.path } });
    const web = JSON.parse((await runGcheck(["-server", b().cli, "-file", f, "check", "--tag", "role=web", "-output", "json"])).stdout) as CheckDoc;
    assert.deepEqual(
      web.nodes.map((n) => n.node),
      ["ca"],
    );
    const two = JSON.parse((await runGcheck(["-server", a().cli, "-file", f, "check", "--node", "cb", "--node", "cc", "-output", "json"])).stdout) as CheckDoc;
    assert.deepEqual(
      two.nodes.map((n) => [n.node, n.state]),
      [
        ["cb", "answered"],
        ["cc", "answered"],
      ],
    );
  });

  it("gcheck check: exit 3 when a targeted node has not answered by --timeout", async () => {
    const f = checkFile("slow.json", { slow: { type: "file_exists", path: join(t.path, "never"), action: "sleep 2", timeout: "5s" } });
    const r = await runGcheck(["-server", a().cli, "-file", f, "check", "--node", "cb", "--timeout", "400ms"]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /^cb\s+-\s+NO ANSWER\s/m);
  });

  it("gcheck keys on a cluster without a key: one line saying how to get one, exit 2", async () => {
    const r = await runGcheck(["-server", a().cli, "keys", "list"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^gcheck: gossipcheckd at \S+ answered 409: this cluster runs without a key: start every daemon with -key-file \(gcheck keygen > key\)/);
  });

  it("a second daemon with a taken name is refused: it exits 2 with the message, and the cluster is unchanged", async () => {
    let dup: ClusterNode | undefined;
    try {
      dup = await startClusterNode("cb", ["-peers", a().address]);
    } catch (e) {
      // It may already be gone by the time its startup line is read.
      assert.ok(e instanceof EarlyExit, String(e));
      assert.equal(e.exited.code, 2);
      assert.match(e.stderr, /node name "cb" is already taken/);
      return;
    }
    const exited = await dup.proc.exited;
    assert.equal(exited.code, 2);
    assert.match(dup.proc.stderr(), /^gossipcheckd: join refused by \S+: node name "cb" is already taken by a running member at \S+; start this node \(\S+\) with a unique -name\n$/);
    assert.deepEqual(await viewOf(a()), ["ca:alive", "cb:alive", "cc:alive"]);
    assert.equal((await membersOf(a())).find((m) => m.name === "cb")!.address, b().address);
  });

  it("a cluster port already in use: one line naming -bind and what to do, exit 2", async () => {
    const r = await runDaemonToExit(["-name", "late", "-bind", a().address, "-no-cli", "-data-dir", join(t.path, "late")]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `gossipcheckd: -bind ${a().address}: address ${a().address} is already in use (another gossipcheckd?): pick another -bind port\n`);
  });

  it("SIGTERM: the daemon leaves gracefully, exits 0, and the others list it as left, not dead", async () => {
    assert.deepEqual(await c().proc.stop("SIGTERM"), { code: 0, signal: null });
    await waitForView([a(), b()], ["ca:alive", "cb:alive", "cc:left"]);
    assert.ok(!existsSync(join(t.path, "never")));
  });
});
