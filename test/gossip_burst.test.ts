import { it } from "node:test";
import assert from "node:assert/strict";
import { pb } from "../src/proto/index.js";
import type { Publication } from "../src/gossip/publication.js";
import { batchPayload, GossipSim, type SimNode } from "./support/gossip_sim.js";

const BATCH = pb.EnvelopeKind.CHECK_BATCH;

function publishAll(origin: SimNode, nodes: SimNode[]): Publication {
  const res = origin.gossip.publish(BATCH, batchPayload(3), { expected: nodes.map((n) => n.name) });
  assert.ok(res.ok, res.ok ? "" : res.error);
  return res.publication;
}

function sum(nodes: SimNode[], key: "forwarded" | "served" | "wanted" | "duplicates" | "repliesRetried"): number {
  return nodes.reduce((s, n) => s + n.gossip.counters()[key], 0);
}

it("a batch published on one of 200 nodes reaches every node, each consumes it once, and every reply reaches the origin", async () => {
  const sim = new GossipSim({ seed: 11 });
  const nodes = await sim.addNodes(200);
  const pub = publishAll(nodes[0]!, nodes);

  // The burst alone: well inside one advertise interval's worth of virtual time.
  assert.notEqual(await sim.clock.runUntil(() => pub.done, 1000, 5), -1, "publication did not complete");
  const done = await pub.finished;
  assert.equal(done.reason, "complete");
  assert.equal(done.answered.length, 200);
  assert.deepEqual(done.unreachable, []);
  assert.ok(sim.exactlyOnce(pub.idHex, sim.nodes.keys()));

  // Anti-entropy keeps running; nobody consumes it a second time.
  await sim.clock.advance(3000);
  assert.equal(sim.maxConsumed(pub.idHex), 1);
  assert.ok(sum(nodes, "duplicates") > 0, "the burst should have produced duplicate pushes that were dropped");
  // A duplicate push carries the envelope ID as dedup key: dropped before it is decoded.
  const skipped = nodes.reduce((s, n) => s + n.transport.counters().knownSkipped!, 0);
  assert.equal(skipped, sum(nodes, "forwarded") - 199, "every push but each node's first was dropped unopened");
  assert.equal(skipped, sum(nodes, "duplicates"));
});

it("each reply carries the node's name, address and report", async () => {
  const sim = new GossipSim({ seed: 3 });
  const nodes = await sim.addNodes(20);
  const pub = publishAll(nodes[5]!, nodes);
  const replies = new Map<string, pb.NodeReply>();
  pub.subscribe((e) => {
    if (e.type === "reply") replies.set(e.node, e.reply);
  });
  assert.notEqual(await sim.clock.runUntil(() => pub.done, 5000, 5), -1);
  assert.equal(replies.size, 20);
  for (const n of nodes) {
    const r = replies.get(n.name)!;
    assert.equal(r.address, n.address);
    assert.equal(Buffer.from(r.envelopeId).toString("hex"), pub.idHex);
    assert.equal(r.body, "checks");
    assert.equal(r.checks?.results?.[0]?.message, `ran on ${n.name}`);
    assert.ok(r.finishedMs >= r.receivedMs);
  }
});

it("with 10% of frames lost, 200 nodes still each consume the batch once and every reply arrives", async () => {
  const sim = new GossipSim({ seed: 12, net: { frameLoss: 0.1 } });
  const nodes = await sim.addNodes(200);
  const pub = publishAll(nodes[0]!, nodes);
  assert.notEqual(await sim.clock.runUntil(() => pub.done, 10_000, 10), -1, "publication did not complete");
  const done = await pub.finished;
  assert.equal(done.reason, "complete");
  assert.equal(done.answered.length, 200);
  await sim.clock.advance(2000);
  assert.ok(sim.exactlyOnce(pub.idHex, sim.nodes.keys()));
  assert.ok(sum(nodes, "repliesRetried") > 0, "some replies should have needed a retry");
});

it("with 20% of 200 nodes killed during the burst, every survivor consumes it and the killed are reported unreachable once failed", async () => {
  const sim = new GossipSim({ seed: 13 });
  const nodes = await sim.addNodes(200);
  const origin = nodes[0]!;
  const pub = publishAll(origin, nodes);
  const unreachable = new Map<string, string>();
  pub.subscribe((e) => {
    if (e.type === "unreachable") unreachable.set(e.node, e.reason);
  });

  // Mid-burst (latency is 1 ms): 40 random non-origin nodes crash.
  await sim.clock.advance(2);
  const others = nodes.slice(1);
  const killed = new Set<string>();
  while (killed.size < 40) killed.add(others[sim.random.int(others.length)]!.name);
  for (const name of killed) sim.kill(name);
  const survivors = nodes.filter((n) => !killed.has(n.name)).map((n) => n.name);

  assert.notEqual(await sim.clock.runUntil(() => survivors.every((s) => sim.consumedCount(s, pub.idHex) === 1), 5000, 10), -1);
  assert.notEqual(await sim.clock.runUntil(() => survivors.every((s) => pub.done || pub.hasAnswered(s)), 5000, 10), -1);
  const silentKilled = [...killed].filter((k) => !pub.hasAnswered(k));
  assert.ok(silentKilled.length > 0, "some killed nodes should not have answered");
  assert.equal(pub.done, false, "the origin must keep waiting while the membership still lists them alive");

  // SWIM declares them dead: the origin stops waiting for them.
  for (const name of killed) sim.roster.fail(name);
  const done = await pub.finished;
  assert.equal(done.reason, "complete");
  assert.deepEqual([...unreachable.keys()].sort(), silentKilled.sort());
  assert.ok([...unreachable.values()].every((r) => r === "failed"));
  assert.equal(done.answered.length + done.unreachable.length, 200);
  assert.ok(sim.exactlyOnce(pub.idHex, survivors));
});

it("the burst alone reaches every one of 200 nodes: the ring-successor link closes the gaps random picks leave", async () => {
  // No repair and no advertising inside the window: only pushes can deliver.
  // With 3 purely random picks per node, about 200 * e^-3 = 10 nodes would be missed.
  for (const seed of [21, 22, 23]) {
    const sim = new GossipSim({ seed, config: { gossipGroup: 3, repairAfterMs: 600_000, advertiseIntervalMs: 600_000 } });
    const nodes = await sim.addNodes(200);
    const pub = publishAll(nodes[0]!, nodes);
    assert.notEqual(await sim.clock.runUntil(() => pub.done, 5_000, 5), -1, `seed ${seed}: the burst missed someone`);
    assert.equal((await pub.finished).answered.length, 200);
    assert.equal(sum(nodes, "served"), 0, "nothing came through anti-entropy");
    assert.equal(sum(nodes, "forwarded"), 3 * 200, "each node (the origin too) pushes to gossip-group members");
  }
});

it("with gossip-group 1 the anti-entropy phase still delivers to every one of 200 nodes", async () => {
  // The origin's directed repair is held back, so periodic advertising alone must do it.
  const sim = new GossipSim({ seed: 14, config: { gossipGroup: 1, repairAfterMs: 600_000 } });
  const nodes = await sim.addNodes(200);
  const pub = publishAll(nodes[0]!, nodes);
  assert.notEqual(await sim.clock.runUntil(() => pub.done, 20_000, 10), -1, "publication did not complete");
  assert.equal((await pub.finished).answered.length, 200);
  assert.ok(sim.exactlyOnce(pub.idHex, sim.nodes.keys()));
  assert.ok(sum(nodes, "served") > 0, "some nodes must have been reached by anti-entropy pulls");
  assert.equal(nodes[0]!.gossip.counters().repairs, 0);
});

it("a one-node cluster publishes, consumes and answers itself", async () => {
  const sim = new GossipSim({ seed: 15 });
  const [only] = await sim.addNodes(1);
  const pub = publishAll(only!, [only!]);
  assert.notEqual(await sim.clock.runUntil(() => pub.done, 1000, 5), -1);
  const done = await pub.finished;
  assert.deepEqual(done.answered, [only!.name]);
  assert.equal(sim.consumedCount(only!.name, pub.idHex), 1);
  assert.equal(only!.gossip.counters().forwarded, 0);
});
