import { it } from "node:test";
import assert from "node:assert/strict";
import { pb } from "../src/proto/index.js";
import { SeededRandom } from "../src/base/random.js";
import { localConfig } from "../src/swim/config.js";
import { SimCluster } from "../src/swim/simulation.js";
import { localGossipConfig, type GossipConfig } from "../src/gossip/config.js";
import { idToHex } from "../src/gossip/envelope.js";
import type { Disseminator } from "../src/gossip/disseminator.js";
import { buildNodeStack } from "../src/stack/node_stack.js";
import type { Transport } from "../src/net/transport.js";

/**
 * Gossip on the real SWIM membership (in the memory network): failures SWIM
 * detects end the origin's wait, and a joiner gets live batches through
 * SWIM's push-pull. This is also how the daemon wires the two: SWIM takes a
 * delegate that forwards to the Disseminator built after it.
 */
function gossipCluster(seed: number, gossipConfig: Partial<GossipConfig> = {}) {
  const cluster = new SimCluster({ seed, config: localConfig() });
  const gossips = new Map<string, Disseminator>();
  const consumed = new Map<string, number>(); // "node/id" -> count

  async function add(name: string): Promise<Disseminator> {
    let added: { transport: Transport } | undefined;
    const { gossip } = buildNodeStack(
      (delegate) => (added = cluster.add(name, { delegate })).swim,
      () => ({ transport: added!.transport, clock: cluster.clock, random: new SeededRandom(seed + gossips.size), config: { ...localGossipConfig(), ...gossipConfig } }),
    );
    gossip.onEnvelope(pb.EnvelopeKind.CHECK_BATCH, async (env) => {
      const key = `${name}/${idToHex(env.id)}`;
      consumed.set(key, (consumed.get(key) ?? 0) + 1);
      return { checks: { results: [] } };
    });
    await gossip.start();
    gossips.set(name, gossip);
    return gossip;
  }
  const count = (name: string, id: string) => consumed.get(`${name}/${id}`) ?? 0;
  return { cluster, gossips, add, count };
}

it("on SWIM: nodes killed at submission are declared dead and reported unreachable; every survivor answers once", async () => {
  const { cluster, gossips, add, count } = gossipCluster(71);
  const names = Array.from({ length: 30 }, (_, i) => `g${i}`);
  for (const n of names) await add(n);
  for (const n of names.slice(1))
    void cluster
      .must(n)
      .swim.join([cluster.must(names[0]!).address])
      .catch(() => undefined);
  assert.notEqual(await cluster.runUntil(() => cluster.agree(names), 30_000), -1, "the cluster did not converge");

  const res = gossips.get(names[0]!)!.publish(pb.EnvelopeKind.CHECK_BATCH, new Uint8Array([1]), { expected: names });
  assert.ok(res.ok);
  const killed = ["g5", "g17", "g23"];
  for (const k of killed) cluster.kill(k);

  assert.notEqual(await cluster.runUntil(() => res.publication.done, 30_000, 50), -1, "the origin never stopped waiting");
  const done = await res.publication.finished;
  assert.equal(done.reason, "complete");
  assert.deepEqual(done.unreachable.sort(), killed.slice().sort());
  const survivors = names.filter((n) => !killed.includes(n));
  assert.deepEqual(done.answered.sort(), survivors.sort());
  assert.ok(survivors.every((n) => count(n, res.publication.idHex) === 1));
  cluster.shutdown();
});

it("on SWIM: a node joining while a batch is live gets it through the join push-pull and runs it once", async () => {
  // Advertising once a minute: within the test, only push-pull can deliver.
  const { cluster, gossips, add, count } = gossipCluster(72, { advertiseIntervalMs: 60_000, advertiseJitter: 0 });
  const names = Array.from({ length: 8 }, (_, i) => `h${i}`);
  for (const n of names) await add(n);
  for (const n of names.slice(1))
    void cluster
      .must(n)
      .swim.join([cluster.must(names[0]!).address])
      .catch(() => undefined);
  assert.notEqual(await cluster.runUntil(() => cluster.agree(names), 30_000), -1);

  const res = gossips.get("h3")!.publish(pb.EnvelopeKind.CHECK_BATCH, new Uint8Array([2]), { ttlMs: 60_000 });
  assert.ok(res.ok);
  assert.notEqual(await cluster.runUntil(() => names.every((n) => count(n, res.publication.idHex) === 1), 2000, 10), -1);

  await cluster.clock.advance(10_000);
  const late = await add("late");
  void cluster.must("late").swim.join([cluster.must("h0").address]);
  assert.notEqual(await cluster.runUntil(() => count("late", res.publication.idHex) === 1, 2000, 5), -1);
  assert.ok(late.counters().wanted >= 1);
  await cluster.clock.advance(3000);
  assert.equal(count("late", res.publication.idHex), 1);
  cluster.shutdown();
});
