import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Cluster, type ClusterNode, allAlive, freePort, startCluster, startNode, statusOf, waitForViews } from "../support/cluster.js";

/*
 * Membership between real gossipcheckd processes on loopback (-profile
 * local): a cluster forms through one seed, a kill -9 is detected by every
 * other member, a graceful stop is seen as `left`, and a seed that starts
 * after its peers is joined when it appears.
 */

describe("ten daemons joined through one seed", () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(10, { namePrefix: "m-" });
  });
  after(() => cluster?.close("SIGKILL"));

  it("all list the same 10 members alive", async () => {
    const views = await waitForViews(cluster.nodes, allAlive(cluster.names), { timeoutMs: 20_000, what: "every node lists all 10 alive" });
    for (const [name, view] of views) {
      assert.equal(view.node, name, "each daemon answers for itself");
      const byName = new Map(view.members.map((m) => [m.name, m]));
      for (const n of cluster.nodes) assert.equal(byName.get(n.name)?.address, n.address, `${name} lists ${n.name} at its cluster address`);
    }
  });

  it("a kill -9'd node is declared dead by every other member", async () => {
    const victim = cluster.node("m-4");
    await victim.kill9();
    const others = cluster.running();
    // Local profile at N=10: a probe every 500 ms, suspicion from 2 s (confirmed) to 12 s (unconfirmed).
    await waitForViews(others, (v) => statusOf(v, victim.name) === "dead", { timeoutMs: 25_000, what: `every other node lists ${victim.name} dead` });
    // Nobody else was taken down with it.
    const alive = others.map((n) => n.name);
    await waitForViews(others, (v) => alive.every((n) => statusOf(v, n) === "alive"), { timeoutMs: 10_000, what: "the survivors all list each other alive" });
  });

  it("a node stopped with SIGTERM leaves: every other member lists it left, not dead", async () => {
    const leaver = cluster.node("m-7");
    const e = await leaver.stop("SIGTERM");
    assert.equal(e.code, 0, `graceful stop exits 0:\n${leaver.log()}`);
    const others = cluster.running();
    const views = await waitForViews(others, (v) => statusOf(v, leaver.name) !== "alive" && statusOf(v, leaver.name) !== "suspect", {
      timeoutMs: 15_000,
      what: `every other node has news of ${leaver.name}`,
    });
    for (const [name, view] of views) assert.equal(statusOf(view, leaver.name), "left", `${name} lists ${leaver.name} as left`);
  });
});

describe("a seed that starts after its peers", () => {
  const nodes: ClusterNode[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
    for (const n of nodes) n.removeDir();
  });

  it("is joined once it appears", async () => {
    const port = await freePort();
    const seedAddress = `127.0.0.1:${port}`;
    // The peers start first: their join fails and they retry with backoff.
    nodes.push(...(await Promise.all(["late-2", "late-3", "late-4"].map((name) => startNode({ name, peers: [seedAddress] })))));
    for (const n of nodes) {
      const view = await n.members();
      assert.deepEqual(
        view.members.map((m) => m.name),
        [n.name],
        `${n.name} is alone before the seed exists`,
      );
    }
    const seed = await startNode({ name: "late-1", port });
    nodes.push(seed);
    assert.equal(seed.address, seedAddress);
    await waitForViews(nodes, allAlive(nodes.map((n) => n.name)), { timeoutMs: 20_000, what: "the late seed and its 3 peers all list each other alive" });
  });
});
