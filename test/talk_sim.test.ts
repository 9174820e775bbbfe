import assert from "node:assert/strict";
import { it } from "node:test";
import { nullLogger } from "../src/base/logger.js";
import { encodeUserEvent, newTalkCounters, userEventHandler, type TalkHandlers } from "../src/daemon/cluster/user_events.js";
import { pb } from "../src/proto/index.js";
import type { TriggerEvent } from "../src/triggers/index.js";
import { GossipSim, type SimNode } from "./support/gossip_sim.js";

/*
 * A user event on 1,000 simulated nodes (MemoryNetwork, VirtualClock,
 * SeededRandom): every node runs its handler exactly once, with no loss and
 * with 10% of frames lost, and none runs it again while anti-entropy keeps
 * advertising it for the rest of its TTL. The handler is a counter per node
 * (the user_events.ts consumer, with the trigger runner replaced).
 *
 * The time bound is the gossip layer's (src/gossip/config.ts, local
 * profile): the burst reaches a stable ring in one pass, the origin's repair
 * and anti-entropy (advertise every 200 ms) pick up what frame loss drops,
 * so every node has it within a few advertise intervals.
 */

const N = 1000;

async function cluster(seed: number, frameLoss: number) {
  const sim = new GossipSim({ seed, net: { frameLoss } });
  const nodes = await sim.addNodes(N);
  /** node name -> handler runs, and the payload each saw. */
  const runs = new Map<string, { count: number; payload: string }>();
  for (const n of nodes) {
    const handlers: TalkHandlers = {
      fireAndFollow: (e: TriggerEvent) => {
        const r = runs.get(n.name) ?? { count: 0, payload: "" };
        r.count++;
        r.payload = Buffer.from(e.talk!.payload).toString();
        runs.set(n.name, r);
        return { handlers: 1, runs: [], ended: Promise.resolve([]) };
      },
    };
    n.gossip.onEnvelope(pb.EnvelopeKind.USER_EVENT, userEventHandler({ node: { name: n.name, tags: {} }, handlers: () => handlers, counters: newTalkCounters(), clock: sim.clock, log: nullLogger }));
  }
  return { sim, nodes, runs };
}

function publishEvent(origin: SimNode, nodes: SimNode[]) {
  const payload = encodeUserEvent({ name: "deploy", payload: Buffer.from("v1.4.2"), targetNodes: [], targetTags: {}, waitHandlers: false, submitter: "" });
  const res = origin.gossip.publish(pb.EnvelopeKind.USER_EVENT, payload, { ttlMs: 30_000, expected: nodes.map((n) => n.name) });
  assert.ok(res.ok, res.ok ? "" : res.error);
  return res.publication;
}

for (const [profile, frameLoss, boundMs] of [
  ["no loss", 0, 1000],
  ["10% of frames lost", 0.1, 3000],
] as const) {
  it(`an event published on one of ${N} nodes runs every node's handler exactly once (${profile}), within ${boundMs} ms, and never again`, async () => {
    const { sim, nodes, runs } = await cluster(profile === "no loss" ? 41 : 42, frameLoss);
    const pub = publishEvent(nodes[0]!, nodes);
    const at = await sim.clock.runUntil(() => runs.size === N, boundMs, 5);
    assert.notEqual(at, -1, `after ${boundMs} ms only ${runs.size} of ${N} nodes ran the handler`);
    // Every delivered reply reaches the origin too.
    assert.notEqual(await sim.clock.runUntil(() => pub.done, 10_000, 10), -1, "the publication did not complete");
    assert.equal((await pub.finished).answered.length, N);
    // The rest of the TTL: bursts of duplicates and anti-entropy rounds run nothing twice.
    await sim.clock.advance(5_000);
    const counts = [...runs.values()].map((r) => r.count);
    assert.equal(runs.size, N);
    assert.equal(Math.max(...counts), 1, "some node ran the handler twice");
    assert.ok([...runs.values()].every((r) => r.payload === "v1.4.2"));
    const dup = nodes.reduce((s, n) => s + n.gossip.counters().duplicates, 0);
    assert.ok(dup > 0, "copies arrived more than once (burst and anti-entropy) and were dropped");
    if (frameLoss > 0) assert.ok(nodes.reduce((s, n) => s + n.gossip.counters().served + n.gossip.counters().repairs, 0) > 0, "some nodes were reached by repair or anti-entropy");
  });
}
