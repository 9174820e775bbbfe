import assert from "node:assert/strict";
import { it } from "node:test";
import { localConfig, lanConfig } from "../src/swim/config.js";
import { suspicionTimeoutMs } from "../src/swim/scale.js";
import { SimCluster } from "../src/swim/simulation.js";

it("a silenced node is declared dead by every member within the bound computed from the config, and no earlier than the minimum suspicion timeout", async () => {
  const config = localConfig();
  const sim = new SimCluster({ seed: 2, config });
  const names = await sim.form(50);
  await sim.clock.advance(5000);
  const victim = "n17";
  const others = names.filter((n) => n !== victim);
  const silencedAt = sim.clock.now();
  sim.net.silence(sim.must(victim).address);

  // Someone probes the victim within one round of a prober (N - 1 periods),
  // the probe fails one period later, the suspicion lasts at most max, and
  // the death notice then needs a few gossip rounds.
  const n = names.length;
  const minMs = suspicionTimeoutMs(config.suspicionMult, n, config.probeIntervalMs);
  const maxMs = config.suspicionMaxTimeoutMult * minMs;
  const boundMs = (n - 1) * config.probeIntervalMs + config.probeIntervalMs + maxMs + 10 * config.gossipIntervalMs;

  const failedAt = new Map<string, number>();
  for (const name of others) {
    sim.must(name).swim.onEvent((e) => {
      if (e.type === "fail" && e.member.name === victim && !failedAt.has(name)) failedAt.set(name, sim.clock.now());
    });
  }
  const took = await sim.runUntil(() => failedAt.size === others.length, boundMs, 50);
  assert.ok(took >= 0, `only ${failedAt.size} of ${others.length} members declared ${victim} dead within ${boundMs} ms`);
  const first = Math.min(...failedAt.values()) - silencedAt;
  const last = Math.max(...failedAt.values()) - silencedAt;
  assert.ok(first >= minMs, `declared dead after ${first} ms, before the minimum suspicion timeout of ${minMs} ms`);
  for (const name of others) assert.equal(sim.must(name).swim.member(victim)?.status, "dead");
  console.log(`detection at N=${n}: first ${first} ms, everyone ${last} ms (min suspicion ${minMs} ms, bound ${boundMs} ms)`);
  sim.shutdown();
});

for (const config of [lanConfig(), localConfig()]) {
  it(`with 10% packet loss for 10 simulated minutes no healthy node is ever declared dead (${config.profile} profile)`, async () => {
    const sim = new SimCluster({ seed: 3, config, recordEvents: false });
    const names = await sim.form(24);
    const failures: string[] = [];
    for (const name of names) {
      sim.must(name).swim.onEvent((e) => {
        if (e.type === "fail") failures.push(`${name} declared ${e.member.name} dead at ${sim.clock.now()}`);
      });
    }
    sim.net.packetLoss = 0.1;
    await sim.clock.advance(10 * 60_000);
    assert.deepEqual(failures, []);
    let suspicions = 0;
    let refutes = 0;
    for (const name of names) {
      const c = sim.must(name).swim.counters();
      suspicions += c.suspicions!;
      refutes += c.refutes!;
    }
    assert.ok(sim.net.stats.packetsDropped > 0);
    assert.ok(sim.agree(names), "every node still lists every node alive");
    console.log(`${config.profile}: ${sim.net.stats.packetsDropped} of ${sim.net.stats.packets} packets dropped, ${suspicions} suspicions raised, ${refutes} refuted, 0 deaths`);
    sim.shutdown();
  });
}

it("reachablePeers() always equals a fresh projection of reachableMembers(), through joins, deaths, restarts and probe-order shuffles, and is reused while nothing changes", async () => {
  const sim = new SimCluster({ seed: 5, config: localConfig(), recordEvents: false });
  const names = await sim.form(12);
  const project = (name: string) =>
    sim
      .must(name)
      .swim.reachableMembers()
      .map((m) => ({ name: m.name, address: m.address }));
  for (const name of names) assert.deepEqual(sim.must(name).swim.reachablePeers(), project(name), name);
  const a = sim.must(names[0]!).swim.reachablePeers();
  assert.equal(sim.must(names[0]!).swim.reachablePeers(), a, "the same array while nothing changed");
  let checks = 0;
  for (let step = 0; step < 40; step++) {
    if (step === 5) sim.kill(names[3]!);
    if (step === 20) sim.restart(names[3]!);
    if (step === 25)
      sim
        .add("late")
        .swim.join([sim.must(names[0]!).address])
        .catch(() => undefined);
    await sim.clock.advance(500);
    for (const name of names)
      if (name !== names[3] || step >= 20) {
        assert.deepEqual(sim.must(name).swim.reachablePeers(), project(name), `${name} at step ${step}`);
        checks++;
      }
  }
  assert.ok(checks > 400);
  assert.ok(
    !sim
      .must(names[0]!)
      .swim.reachablePeers()
      .some((p) => p.name === names[0]),
    "never itself",
  );
  sim.shutdown();
});
