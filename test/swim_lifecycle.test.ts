import assert from "node:assert/strict";
import { it } from "node:test";
import { lanConfig, localConfig } from "../src/swim/config.js";
import { SeededRandom } from "../src/base/random.js";
import { SimCluster } from "../src/swim/simulation.js";
import { Swim } from "../src/swim/swim.js";

// 60 s: each half has reaped the other (deadReapMs is 15 s) and meets it
// as new members; 10 s: each half still lists the other as dead, at the
// incarnations that lost, and every member must refute to come back.
for (const partitionMs of [60_000, 10_000]) {
  it(`a partition into two halves for ${partitionMs / 1000} s heals into one cluster once lifted`, async () => {
    const config = localConfig();
    const sim = new SimCluster({ seed: 4, config });
    const names = await sim.form(20);
    const a = names.slice(0, 10);
    const b = names.slice(10);
    sim.net.partition(a.map(SimCluster.addressOf), b.map(SimCluster.addressOf));
    await sim.clock.advance(partitionMs);
    for (const n of a) assert.equal(sim.must(n).swim.statusCounts().alive, a.length, `${n} during the partition`);
    for (const n of b) assert.equal(sim.must(n).swim.statusCounts().alive, b.length, `${n} during the partition`);
    const expected = partitionMs > config.deadReapMs ? undefined : "dead";
    for (const n of a) assert.equal(sim.must(n).swim.member(b[0]!)?.status, expected, `${n} sees ${b[0]}`);
    for (const n of b) assert.equal(sim.must(n).swim.member(a[0]!)?.status, expected, `${n} sees ${a[0]}`);

    sim.net.heal();
    // Within a reconnect interval some node of each half reaches the other;
    // catch-up pulls, refutations and gossip then spread the merge.
    const boundMs = config.reconnectIntervalMs + 10 * config.probeIntervalMs;
    const took = await sim.runUntil(() => sim.agree(names), boundMs);
    assert.ok(took >= 0, `the halves did not merge within ${boundMs} ms of the heal`);
    console.log(`${partitionMs / 1000} s partition healed in ${took} ms (bound ${boundMs} ms)`);
    sim.shutdown();
  });
}

it("a graceful leave shows the node as left everywhere, never as failed", async () => {
  const sim = new SimCluster({ seed: 5, config: localConfig() });
  const names = await sim.form(12);
  const leaver = sim.must("n4");
  const t0 = sim.clock.now();
  let done = false;
  void leaver.swim.leave(5000).then(() => {
    done = true;
  });
  assert.ok((await sim.runUntil(() => done, 6000, 10)) >= 0);
  console.log(`leave returned after ${sim.clock.now() - t0} ms`);
  leaver.swim.shutdown();
  sim.net.silence(leaver.address);
  const others = names.filter((n) => n !== "n4");
  const took = await sim.runUntil(() => others.every((n) => sim.must(n).swim.member("n4")?.status === "left"), 5000, 10);
  assert.ok(took >= 0, "not every member shows n4 as left");
  // Long past any suspicion timeout: still left, and nobody ever saw it fail.
  await sim.clock.advance(10_000);
  for (const n of others) {
    assert.equal(sim.must(n).swim.member("n4")?.status, "left", n);
    assert.ok(!sim.must(n).events.some((e) => e.member.name === "n4" && (e.type === "fail" || e.type === "suspect")), `${n} suspected or failed n4`);
  }
  // Reaped after leftReapMs.
  await sim.clock.advance(localConfig().leftReapMs);
  for (const n of others) assert.equal(sim.must(n).swim.member("n4"), undefined, `${n} still lists n4`);
  sim.shutdown();
});

for (const downMs of [8000, 30_000]) {
  it(`a restarted node (same name and address, fresh state) is alive again everywhere (down ${downMs / 1000} s)`, async () => {
    const sim = new SimCluster({ seed: 6, config: localConfig() });
    const names = await sim.form(12);
    const before = sim.must("n0").swim.member("n7")!.incarnation;
    sim.kill("n7");
    await sim.clock.advance(downMs);
    // Declared dead after a few seconds; reaped after deadReapMs (15 s).
    assert.equal(sim.must("n0").swim.member("n7")?.status ?? "reaped", downMs > 15_000 ? "reaped" : "dead");
    const fresh = sim.restart("n7");
    const joined = fresh.swim.join([sim.must("n1").address]);
    const took = await sim.runUntil(() => sim.agree(names), 30_000);
    assert.ok(took >= 0, "the restarted node is not alive everywhere");
    assert.equal(await joined, 1);
    // Declared dead at its old incarnation, it had to out-bid that one.
    if (downMs < 15_000) for (const n of names) assert.ok(sim.must(n).swim.member("n7")!.incarnation > before, n);
    sim.shutdown();
  });
}

// A daemon that leaves and is started again at once on another port (port 0,
// a new host): the others may still be gossiping the old process's leave.
// Before the fix that notice, at the incarnation the new process counted
// from again, knocked it out on every node (a spurious leave and join) and
// it stayed "left" until a push-pull period later (up to 36 s here).
for (const profile of ["lan", "local"] as const) {
  it(`a node that leaves and comes back at once at another address (${profile}): no spurious leave, alive everywhere within a second`, async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const config = profile === "lan" ? lanConfig() : localConfig();
      const sim = new SimCluster({ seed, config, jitterMs: 1 });
      const names = await sim.form(8);
      const others = names.filter((n) => n !== "n7");
      const victim = sim.must("n7");
      const oldIncarnation = sim.must("n0").swim.member("n7")!.incarnation;
      let settled = false;
      void victim.swim.leave(2000).finally(() => (settled = true));
      assert.ok((await sim.runUntil(() => settled && others.every((n) => sim.must(n).swim.member("n7")?.status === "left"), 10_000, 1)) >= 0, `seed ${seed}: the leave`);

      const fresh = sim.restart("n7", "n7-restarted:7946");
      const after: string[] = [];
      for (const n of others)
        sim.must(n).swim.onEvent((e) => {
          if (e.member.name === "n7") after.push(`${n}:${e.type}`);
        });
      void fresh.swim.join([sim.must("n0").address]);
      const took = await sim.runUntil(() => sim.agree(names), 30_000, 1);
      assert.ok(took >= 0 && took <= 1000, `seed ${seed}: alive everywhere after ${took} ms`);
      // And it stays so: nothing about n7 but the one join on each node.
      await sim.clock.advance(30_000);
      assert.ok(sim.agree(names), `seed ${seed}: still alive everywhere 30 s later`);
      assert.deepEqual(after.sort(), others.map((n) => `${n}:join`).sort(), `seed ${seed}`);
      for (const n of others) assert.equal(sim.must(n).swim.member("n7")!.address, "n7-restarted:7946", `seed ${seed}: ${n}`);
      for (const n of others) assert.ok(sim.must(n).swim.member("n7")!.incarnation > oldIncarnation, `seed ${seed}: ${n} holds the new process above the old`);
      sim.shutdown();
    }
  });
}

it("a second node with a taken name is refused, and join rejects saying so", async () => {
  const sim = new SimCluster({ seed: 7, config: localConfig() });
  const names = await sim.form(6);
  const impostor = new Swim({
    name: "n3",
    transport: sim.net.transport("impostor:7946"),
    clock: sim.clock,
    random: new SeededRandom(1),
    config: localConfig(),
  });
  let error: Error | undefined;
  impostor.join([sim.must("n0").address]).catch((e: Error) => {
    error = e;
  });
  assert.ok((await sim.runUntil(() => error !== undefined, 5000, 10)) >= 0, "join did not reject");
  assert.match(error!.message, /node name "n3" is already taken by a running member at n3:7946/);
  assert.match(error!.message, /unique -name/);
  await sim.clock.advance(5000);
  for (const n of names) assert.equal(sim.must(n).swim.member("n3")?.address, "n3:7946");
  assert.ok(sim.must("n0").swim.counters().joinsRefused! >= 1);
  impostor.shutdown();
  sim.shutdown();
});
