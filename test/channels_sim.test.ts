import { it } from "node:test";
import assert from "node:assert/strict";
import { Channels } from "../src/daemon/cluster/channels.js";
import type { ChannelMessage } from "../src/control/talk_types.js";
import { GossipSim, type SimNode } from "./support/gossip_sim.js";

/*
 * Channels on the in-memory network (virtual clock, seeded randomness):
 * ClusterTalk's ring of 1,000 servers, each passing a message to the next
 * over a channel (a direct send), and one sender's order surviving 10%
 * loss and jitter.
 */

/** Messages live 2 s here: the ring's hops take a few virtual ms each, and 1,000 nodes holding 10 s of them is memory the test does not need. */
function channelsOn(sim: GossipSim, node: SimNode): Channels {
  return new Channels({ gossip: node.gossip, localName: node.name, clock: sim.clock, isRunning: (n) => sim.nodes.has(n), running: () => sim.nodes.size, limits: { ttlMs: 2000 } });
}

it(
  "a ring of 1,000 nodes: each passes the message to the next by a direct send, three times round; every node gets each lap's message once, in order, from its predecessor only",
  { timeout: 600_000 },
  async () => {
    const sim = new GossipSim({ seed: 17 });
    const nodes = await sim.addNodes(1000);
    const laps = 3;
    const got = new Map<string, ChannelMessage[]>(nodes.map((n) => [n.name, []]));
    const channels = nodes.map((n) => channelsOn(sim, n));
    let hops = 0;
    nodes.forEach((n, i) => {
      const next = nodes[(i + 1) % nodes.length]!;
      const sub = channels[i]!.subscribe("ring", (m) => {
        got.get(n.name)!.push(m);
        hops++;
        const lap = Number(m.text!.split(" ")[1]);
        // The last node of a lap hands the next lap to node-0 (node-0 starts each lap).
        if (i !== 0 || lap < laps) {
          const r = channels[i]!.publish("ring", new TextEncoder().encode(`lap ${i === 0 ? lap + 1 : lap}`), next.name);
          assert.ok(r.ok, r.ok ? "" : r.error);
        }
      });
      assert.ok(sub.ok);
    });
    const start = channels[0]!.publish("ring", new TextEncoder().encode("lap 1"), nodes[1]!.name);
    assert.ok(start.ok);
    const total = laps * nodes.length;
    const t0 = sim.clock.now();
    assert.notEqual(await sim.clock.runUntil(() => hops >= total, 600_000, 20), -1, `the ring stopped after ${hops} of ${total} hops`);
    const ms = sim.clock.now() - t0;
    await sim.clock.advance(2000);
    assert.equal(hops, total, "no message was delivered twice");
    nodes.forEach((n, i) => {
      const prev = nodes[(i + nodes.length - 1) % nodes.length]!.name;
      const msgs = got.get(n.name)!;
      assert.deepEqual(
        msgs.map((m) => [m.from, m.seq, m.direct, m.missed]),
        Array.from({ length: laps }, (_, k) => [prev, k + 1, true, undefined]),
        n.name,
      );
    });
    console.log(`ring of ${nodes.length}: ${total} hops in ${ms} virtual ms (${(ms / total).toFixed(2)} ms a hop)`);
  },
);

it("one sender's 100 messages reach a subscriber once each and in order under 10% frame loss and jitter", { timeout: 120_000 }, async () => {
  const sim = new GossipSim({ seed: 5, net: { frameLoss: 0.1, latencyMs: 1, jitterMs: 20 } });
  const nodes = await sim.addNodes(50);
  const channels = nodes.map((n) => channelsOn(sim, n));
  const got: ChannelMessage[] = [];
  assert.ok(channels[49]!.subscribe("feed", (m) => got.push(m)).ok);
  for (let i = 1; i <= 100; i++) {
    const r = channels[0]!.publish("feed", new TextEncoder().encode(`m${i}`));
    assert.ok(r.ok);
    await sim.clock.advance(2);
  }
  assert.notEqual(await sim.clock.runUntil(() => got.length >= 100, 30_000, 10), -1, `only ${got.length} of 100 arrived`);
  await sim.clock.advance(5000);
  assert.deepEqual(
    got.map((m) => m.seq),
    Array.from({ length: 100 }, (_, i) => i + 1),
  );
  assert.ok(got.every((m) => m.missed === undefined && m.text === `m${m.seq}`));
  const c = channels[49]!.counters();
  assert.equal(c.gaps, 0);
  assert.ok(c.reordered > 0, "the jitter should have made some messages wait for a predecessor");
  console.log(`10% loss: ${c.reordered} messages waited for a predecessor, ${sim.net.stats.requestsFailed} requests lost`);
});
