/**
 * -discover on real interfaces: gossipcheckd processes, each in a network
 * namespace of its own on one bridged segment (test/support/netns.ts), with
 * no -peers at all. Three clusters share the segment and the default
 * multicast group: A (3 nodes, label "A", key 1), B (2 nodes, label "B",
 * key 1: only the label differs) and C (2 nodes, label "A", key 2: only the
 * key differs). Each must form by itself and never take in a node of another,
 * while every node hears the others' hellos (counted as unopened). Then two
 * nodes find each other by broadcast (-discover-group 10.77.0.255:PORT).
 *
 * Needs root (CI runs as root) and iproute2; skipped otherwise, saying why.
 * A failure to create the namespaces as root fails the test with ip's error.
 * Also on loopback without root: two nodes of one label find each other, a
 * node of another label stays alone.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { MembersResponse } from "../../src/control/api_types.js";
import { generateKey } from "../../src/net/keyring.js";
import { type Host, netnsUnavailable, NsHttp, Segment } from "../support/netns.js";
import { DAEMON_BIN, tempDir, waitFor } from "../support/proc.js";
import { membersOf, startClusterNode, stopAll, type ClusterNode } from "../support/daemon_cluster.js";

const CLI = "127.0.0.1:5924"; // each namespace has its own loopback

interface NsDaemon {
  name: string;
  host: Host;
  child: ChildProcess;
  /** Reaches the daemon's control API, inside its namespace. */
  http: NsHttp;
  out: () => string;
}

/** GET path on a daemon's control API. */
function getInNs(d: NsDaemon, path: string): Promise<string> {
  return d.http.get(`http://${CLI}${path}`);
}

/** Names of the members d lists as alive or suspect, sorted. */
async function runningNames(d: NsDaemon): Promise<string[]> {
  const r = JSON.parse(await getInNs(d, "/v1/members")) as MembersResponse;
  return r.members
    .filter((m) => m.status === "alive" || m.status === "suspect")
    .map((m) => m.name)
    .sort();
}

/** A counter's value from d's /metrics (0 when absent). */
async function metric(d: NsDaemon, series: string): Promise<number> {
  const text = await getInNs(d, "/metrics");
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const unavailable = netnsUnavailable();

describe("-discover in network namespaces: clusters of different labels and keys on one segment", { skip: unavailable ?? false }, () => {
  let segment: Segment | undefined;
  const daemons: NsDaemon[] = [];
  const dir = tempDir("gc-discover-");
  const keys = [join(dir.path, "k1"), join(dir.path, "k2")];

  function start(name: string, label: string, key: string, extra: string[] = []): NsDaemon {
    const host = segment!.addHost();
    const args = ["-name", name, "-bind", `${host.address}:3505`, "-cli-bind", CLI, "-data-dir", join(dir.path, name), "-label", label, "-key-file", key, "-discover", "-log-format", "json", ...extra];
    const [bin, argv] = Segment.execArgv(host, [process.execPath, DAEMON_BIN, ...args]);
    const child = spawn(bin, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (out += s));
    const d = { name, host, child, http: new NsHttp(host), out: () => out };
    daemons.push(d);
    return d;
  }

  before(() => {
    for (const k of keys) {
      writeFileSync(k, generateKey() + "\n");
      chmodSync(k, 0o600);
    }
    // As root with ip present, a namespace that cannot be made is a failure (with ip's error), not a skip.
    segment = new Segment("gcd");
  });

  after(async () => {
    // Only the processes this test started, by PID; then the namespaces it created.
    for (const d of daemons) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill("SIGKILL");
    await Promise.all(daemons.map((d) => (d.child.exitCode === null && d.child.signalCode === null ? new Promise((r) => d.child.once("close", r)) : null)));
    await Promise.all(daemons.map((d) => d.http.close()));
    segment?.remove();
    dir.cleanup();
  });

  it("three clusters form by themselves and never mix, though each hears the others", async () => {
    const clusters: Record<string, NsDaemon[]> = {
      a: [start("a1", "A", keys[0]!), start("a2", "A", keys[0]!), start("a3", "A", keys[0]!)],
      b: [start("b1", "B", keys[0]!), start("b2", "B", keys[0]!)],
      c: [start("c1", "A", keys[1]!), start("c2", "A", keys[1]!)],
    };
    const all = Object.values(clusters).flat();
    const expected = new Map(
      all.map((d) => [
        d.name,
        Object.values(clusters)
          .find((c) => c.includes(d))!
          .map((x) => x.name)
          .sort(),
      ]),
    );
    const view = async () => new Map(await Promise.all(all.map(async (d) => [d.name, await runningNames(d).catch(() => [] as string[])] as const)));
    const describeView = (v: Map<string, string[]>) => [...v].map(([n, m]) => `${n}: ${m.join(",")}`).join("; ");
    const foreign = (v: Map<string, string[]>) => [...v].filter(([n, m]) => m.some((x) => !expected.get(n)!.includes(x)));

    let last = new Map<string, string[]>();
    const t0 = Date.now();
    await waitFor(
      async () => {
        last = await view();
        assert.deepEqual(foreign(last), [], `a node listed a member of another cluster: ${describeView(last)}`);
        return all.every((d) => JSON.stringify(last.get(d.name)) === JSON.stringify(expected.get(d.name)));
      },
      30_000,
      "every node to list exactly its own cluster",
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last view: ${describeView(last)}; a1's log:\n${all[0]!.out().slice(-3000)}`);
    });

    const formedMs = Date.now() - t0;
    // Stay apart for longer than a fast hello interval (5 s + 20%): every node hears every other's hello meanwhile.
    const watchUntil = Date.now() + 7_000;
    while (Date.now() < watchUntil) {
      const v = await view();
      assert.deepEqual(foreign(v), [], `a node listed a member of another cluster: ${describeView(v)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const d of all) {
      // 4 or 5 foreign nodes announce themselves on the group: their hellos reach d and do not open.
      const unopened = await metric(d, 'gossipcheck_discovery_hellos_dropped_total{reason="unopened"}');
      assert.ok(unopened >= 4, `${d.name} dropped ${unopened} hellos of other clusters as unopened`);
      assert.ok((await metric(d, "gossipcheck_discovery_hellos_sent_total")) >= 2, `${d.name} kept announcing`);
    }
    // For the record: from the last daemon's spawn to every node listing exactly its cluster (daemon start-up included).
    console.log(`# discovery: 7 daemons in 3 clusters formed ${formedMs} ms after the last spawn`);
  });

  it("two nodes find each other by broadcast on the subnet's broadcast address", async () => {
    const group = ["-discover-group", "10.77.0.255:3507"];
    const pair = [start("d1", "D", keys[0]!, group), start("d2", "D", keys[0]!, group)];
    await waitFor(async () => (await Promise.all(pair.map((d) => runningNames(d).catch(() => [])))).every((m) => m.join(",") === "d1,d2"), 30_000, "d1 and d2 to list each other");
    assert.ok((await metric(pair[0]!, 'gossipcheck_discovery_joins_total{result="succeeded"}')) + (await metric(pair[1]!, 'gossipcheck_discovery_joins_total{result="succeeded"}')) >= 1);
  });
});

describe("-discover on loopback", () => {
  const nodes: ClusterNode[] = [];
  after(() => stopAll(nodes));

  it("finds the nodes of its label with no -peers and no key; a node of another label stays alone", async () => {
    // A group and port of this run's own, so parallel runs on one host do not hear each other.
    const group = ["-discover", "-discover-group", `239.255.${(process.pid >> 8) & 255}.${process.pid & 255}:${20_000 + (process.pid % 20_000)}`];
    nodes.push(...(await Promise.all(["l1", "l2", "l3"].map((n) => startClusterNode(n, [...group, "-label", "L"])))));
    const other = await startClusterNode("x1", [...group, "-label", "X"]);
    nodes.push(other);
    const names = async (n: ClusterNode) => (await membersOf(n)).map((m) => m.name).sort();
    await waitFor(async () => (await Promise.all(nodes.slice(0, 3).map(names))).every((m) => m.join(",") === "l1,l2,l3"), 20_000, "l1, l2 and l3 to list each other");
    // x1 heard them (their hellos carry another label) and joined none.
    await waitFor(
      async () => /gossipcheck_discovery_hellos_dropped_total\{reason="label"\} [1-9]/.test(await (await fetch(`http://${other.cli}/metrics`)).text()),
      15_000,
      "x1 to drop a hello of label L",
    );
    assert.deepEqual(await names(other), ["x1"]);
  });
});
