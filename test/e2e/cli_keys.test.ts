import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { keyFingerprint } from "../../src/control/fingerprint.js";
import { type ClusterNode, infoOf, startCluster, startClusterNode, stopAll, viewOf, waitForView } from "../support/daemon_cluster.js";
import { runGcheck, tempDir, waitFor } from "../support/proc.js";

/*
 * The cluster key on real daemons: a keyed cluster of three stays closed to
 * a daemon with another key or none (no join, no batch run there), and
 * `gcheck keys` rotates its key live (install B, use B, remove A) with every
 * node answering ok at every step and nobody declared dead; a node restarted
 * afterwards comes back on the rotated keyring saved in its data dir.
 */

const t = tempDir("gcd-keys-");
const keyA = join(t.path, "a.key");
const keyB = join(t.path, "b.key");
const dataDir = (name: string) => join(t.path, `data-${name}`);
const fp = (file: string) => keyFingerprint(Buffer.from(readFileSync(file, "utf8").trim(), "base64"));
const args = (name: string) => ["-key-file", keyA, "-data-dir", dataDir(name)];
let nodes: ClusterNode[] = [];
const intruders: ClusterNode[] = [];
// Issue 5 asks for the rotation across a live 5-node cluster.
const NAMES = ["ka", "kb", "kc", "kd", "ke"];
const allAlive = NAMES.map((n) => `${n}:alive`);
const everyNode = (keys: string[]) => NAMES.map((n) => [n, "ok", keys]);

interface KeysDoc {
  exitCode: number;
  summary: { expected: number; ok: number };
  keys: { fingerprint: string; installed: number; primary: number }[];
  nodes: { node: string; state: string; keys: string[]; error?: string }[];
}

async function keys(via: ClusterNode, ...argv: string[]): Promise<KeysDoc> {
  const r = await runGcheck(["-server", via.cli, "keys", ...argv, "-output", "json"]);
  assert.equal(r.code, 0, `gcheck keys ${argv.join(" ")}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as KeysDoc;
}

/** Resolves once the daemon has retried its join at least `times` times (each attempt was dropped unread). */
function joinFailures(n: ClusterNode, times: number): Promise<void> {
  return waitFor(() => n.proc.logLines().filter((l) => String(l.msg).startsWith("no seed answered the join")).length >= times, 10_000, `${n.name} to retry its join ${times} times`);
}

before(async () => {
  for (const f of [keyA, keyB]) {
    const k = await runGcheck(["keygen"]);
    writeFileSync(f, k.stdout, { mode: 0o600 });
  }
  nodes = await startCluster(NAMES, args);
  await waitForView(nodes, allAlive);
});
after(async () => {
  await stopAll([...nodes, ...intruders]);
  t.cleanup();
});

describe("a keyed cluster", () => {
  it("a daemon with another key, or with none, can neither join nor get a batch run there", async () => {
    const [ka] = nodes;
    const stranger = await startClusterNode("stranger", ["-key-file", keyB, "-peers", ka!.address]);
    const plain = await startClusterNode("plain", ["-peers", ka!.address]);
    intruders.push(stranger, plain);
    await Promise.all([joinFailures(stranger, 2), joinFailures(plain, 2)]);
    for (const n of nodes) assert.deepEqual(await viewOf(n), allAlive);
    assert.deepEqual(await viewOf(stranger), ["stranger:alive"]);
    assert.deepEqual(await viewOf(plain), ["plain:alive"]);
    assert.ok((await infoOf(ka!)).counters.net_decryptFailures! > 0, "their join requests reached the seed and were dropped unread");

    const marker = join(t.path, "ran");
    const file = join(t.path, "intrude.json");
    writeFileSync(file, JSON.stringify({ intrude: { type: "file_exists", path: join(t.path, "nothing"), action: `touch ${marker}-$GOSSIPCHECK_NODE` } }));
    for (const intruder of [stranger, plain]) {
      const r = await runGcheck(["-server", intruder.cli, "-file", file, "check", "-output", "json"]);
      const doc = JSON.parse(r.stdout) as { nodes: { node: string }[] };
      assert.deepEqual(
        doc.nodes.map((n) => n.node),
        [intruder.name],
        "only the intruder itself was expected",
      );
      assert.ok(existsSync(`${marker}-${intruder.name}`), "the action mechanism works: it ran on the intruder itself");
    }
    for (const n of nodes) {
      assert.ok(!existsSync(`${marker}-${n.name}`), `the intruders' action never ran on ${n.name}`);
      assert.equal((await infoOf(n)).counters.gossip_received, 0, `${n.name} never received an envelope`);
    }
    await stopAll(intruders.splice(0));
  });

  it("gcheck keys rotates the key live: install B, use B, remove A, every node ok at every step, nobody declared dead", async () => {
    const [ka, kb, kc] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const [a, b] = [fp(keyA), fp(keyB)];
    const seen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const n of nodes) for (const v of await viewOf(n)) if (!v.endsWith(":alive")) seen.add(`${n.name} saw ${v}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const listed = await keys(ka, "list");
    assert.deepEqual(listed.keys, [{ fingerprint: a, installed: NAMES.length, primary: NAMES.length }]);
    const installed = await keys(kb, "install", `@${keyB}`);
    assert.deepEqual(
      installed.nodes.map((n) => [n.node, n.state, n.keys]),
      everyNode([a, b]),
    );
    const used = await keys(kc, "use", readFileSync(keyB, "utf8").trim());
    assert.deepEqual(
      used.nodes.map((n) => [n.node, n.state, n.keys]),
      everyNode([b, a]),
    );
    const removed = await keys(ka, "remove", `@${keyA}`);
    assert.deepEqual(
      removed.nodes.map((n) => [n.node, n.state, n.keys]),
      everyNode([b]),
    );

    watching = false;
    await watcher;
    assert.deepEqual([...seen], [], "every member stayed alive on every node during the rotation");
    for (const n of nodes) {
      assert.equal((await infoOf(n)).counters.swim_failures, 0, `${n.name} declared nobody dead`);
      const saved = join(dataDir(n.name), "keyring.json");
      assert.deepEqual(JSON.parse(readFileSync(saved, "utf8")), [readFileSync(keyB, "utf8").trim()]);
      assert.equal(statSync(saved).mode & 0o777, 0o600);
    }

    const refused = await runGcheck(["-server", kb.cli, "keys", "remove", `@${keyB}`]);
    assert.equal(refused.code, 1, "removing the primary is refused on every node");
    assert.match(refused.stdout, /^ka\s+FAILED\s+\S+\*\s+refusing to remove the primary key/m);
  });

  it("a node restarted after the rotation rejoins on the keyring saved in its data dir; one with only the old key cannot", async () => {
    const [ka, , kc] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    assert.deepEqual(await kc.proc.stop(), { code: 0, signal: null });
    await waitForView(
      nodes.filter((n) => n !== kc),
      allAlive.map((v) => (v === "kc:alive" ? "kc:left" : v)),
    );
    // Same flags as before (-key-file A): the saved keyring wins.
    nodes[2] = await startClusterNode("kc", ["-peers", ka.address, ...args("kc")]);
    assert.ok(nodes[2].proc.logLines().some((l) => /using the keyring saved by gcheck keys/.test(String(l.msg))));
    await waitForView(nodes, allAlive);
    assert.deepEqual((await keys(nodes[2], "list")).keys, [{ fingerprint: fp(keyB), installed: NAMES.length, primary: NAMES.length }]);

    const stale = await startClusterNode("stale", ["-key-file", keyA, "-peers", ka.address]);
    intruders.push(stale);
    await joinFailures(stale, 2);
    assert.deepEqual(await viewOf(ka), allAlive);
  });
});

describe("gcheck keys usage", () => {
  it("a missing or unknown operation, a missing, extra or malformed key: one line and exit 2, before any daemon is asked", async () => {
    const cases: [string[], RegExp][] = [
      [["keys"], /^gcheck: no keys operation: use gcheck keys list \| install KEY \| use KEY \| remove KEY/],
      [["keys", "rotate"], /^gcheck: unknown keys operation "rotate"/],
      [["keys", "install"], /^gcheck: keys install needs the key/],
      [["keys", "list", "extra"], /^gcheck: keys list takes no key/],
      [["keys", "use", "c2hvcnQ="], /^gcheck: the key: a cluster key is 32 bytes \(AES-256\) in base64, but .* decodes to 5 bytes/],
      [["keys", "remove", `@${join(t.path, "missing.key")}`], /^gcheck: key file .*missing\.key: cannot read it \(ENOENT\)/],
      [["keys", "list", "-timeout", "soon"], /^gcheck: -timeout "soon": expected a duration/],
      [["keys", "list", "-output", "junit"], /^gcheck: -output junit is not available for keys: use table or json/],
    ];
    // Port 1: nothing listens there, so reaching the daemon would fail differently.
    const runs = await Promise.all(cases.map(([argv]) => runGcheck(["-server", "127.0.0.1:1", ...argv])));
    for (const [i, [argv, want]] of cases.entries()) {
      const r = runs[i]!;
      assert.equal(r.code, 2, argv.join(" "));
      assert.match(r.stderr, want, argv.join(" "));
      assert.equal(r.stderr.split("\n").length, 2, `one line: ${r.stderr}`);
    }
  });
});
