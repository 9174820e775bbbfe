import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Logger } from "../src/base/logger.js";
import { CoordinatorWatch } from "../src/daemon/cluster/coordinator_watch.js";
import { lanConfig, type SwimConfig } from "../src/swim/config.js";
import { WEIGHT_TAG } from "../src/swim/coordinator.js";
import { SimCluster } from "../src/swim/simulation.js";
import type { TriggerEvent } from "../src/triggers/index.js";

/*
 * The coordinator in simulated clusters (SWIM on a MemoryNetwork, virtual
 * clock, seeded): every live node runs the daemon's CoordinatorWatch on its
 * own member list. After churn, every live node names the same coordinator;
 * after the coordinator is killed, agreement on the next one takes the
 * failure detection time; in a partition each side has its own unless
 * -coordinator-quorum, then only the majority side has one. The numbers
 * printed here are the README's (Coordinator).
 */

const silent = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {}, trace: () => {}, fatal: () => {} } as unknown as Logger;

interface Node {
  watch: CoordinatorWatch;
  fired: TriggerEvent[];
}

class CoordinatorSim {
  readonly sim: SimCluster;
  readonly watches = new Map<string, Node>();
  constructor(
    seed: number,
    config: SwimConfig,
    private readonly quorum: boolean,
  ) {
    this.sim = new SimCluster({ seed, config, recordEvents: false });
  }

  /** Starts a node with this weight and joins it through seed (if any). */
  add(name: string, weight: number, seed?: string): void {
    const node = this.sim.add(name, { tags: { [WEIGHT_TAG]: String(weight) } });
    const fired: TriggerEvent[] = [];
    const watch = new CoordinatorWatch({
      self: name,
      members: () => node.swim.members(),
      config: { count: 1, quorum: this.quorum },
      clock: this.sim.clock,
      log: silent,
      fire: (e) => void fired.push(e),
    });
    node.swim.onEvent((e) => watch.onMemberEvent(e));
    watch.start();
    this.watches.set(name, { watch, fired });
    if (seed === undefined) watch.markJoined();
    else void node.swim.join([SimCluster.addressOf(seed)]).then(() => watch.markJoined());
  }

  kill(name: string): void {
    this.sim.kill(name);
    this.watches.get(name)!.watch.stop();
    this.watches.delete(name);
  }

  /** A killed node back under its name (a fresh process, state lost). */
  rejoin(name: string, weight: number, seed: string): void {
    this.sim.nodes.delete(name);
    this.add(name, weight, seed);
  }

  coordinatorOf(name: string): string {
    const c = this.watches.get(name)!.watch.current();
    return c.coordinators[0] ?? "(none)";
  }

  /** Every listed node names the same single coordinator, and it is one of them. */
  agree(names: string[]): string | null {
    const seen = new Set(names.map((n) => this.coordinatorOf(n)));
    if (seen.size !== 1) return null;
    const c = [...seen][0]!;
    return names.includes(c) ? c : null;
  }

  live(): string[] {
    return [...this.watches.keys()];
  }
}

describe("the coordinator in a simulated cluster", () => {
  it("after joins, kills and rejoins, every live node names the same coordinator: the heaviest live one", async () => {
    const c = new CoordinatorSim(17, lanConfig(), false);
    const weight = (i: number) => (i * 7) % 5;
    c.add("n0", weight(0));
    for (let i = 1; i < 30; i++) c.add(`n${i}`, weight(i), "n0");
    assert.ok((await c.sim.runUntil(() => c.sim.agree(c.live()), 60_000)) >= 0, "30 nodes converge");
    // Churn: kill six (the heaviest among them), add five, bring three back.
    const killed = ["n3", "n8", "n13", "n21", "n22", "n29"];
    for (const n of killed) c.kill(n);
    for (let i = 30; i < 35; i++) c.add(`n${i}`, weight(i), "n1");
    await c.sim.clock.advance(2_000);
    for (const n of ["n3", "n21", "n29"]) c.rejoin(n, weight(Number(n.slice(1))), "n2");
    const live = () => c.live();
    const took = await c.sim.runUntil(() => c.sim.agree(live()) && c.agree(live()) !== null, 120_000);
    assert.ok(took >= 0, "the cluster converged after the churn");
    const chosen = c.agree(live())!;
    const expected = live().sort((a, b) => weight(Number(b.slice(1))) - weight(Number(a.slice(1))) || (a < b ? -1 : 1))[0];
    assert.equal(chosen, expected, "the heaviest live node, ties to the smallest name");
    console.log(`churn: ${live().length} live nodes agree on ${chosen} (weight ${weight(Number(chosen.slice(1)))}) ${took} ms after the last rejoin`);
    c.sim.shutdown();
  });

  it("the coordinator killed: every node names the next one after the failure detection time (lan profile)", async () => {
    const samples: number[] = [];
    for (const seed of [1, 2, 3, 4, 5]) {
      const c = new CoordinatorSim(seed, lanConfig(), false);
      c.add("n0", 10);
      c.add("n1", 9, "n0");
      for (let i = 2; i < 20; i++) c.add(`n${i}`, 1, "n0");
      assert.ok((await c.sim.runUntil(() => c.sim.agree(c.live()) && c.agree(c.live()) === "n0", 60_000)) >= 0);
      await c.sim.clock.advance(5_000);
      c.kill("n0");
      const t0 = c.sim.clock.now();
      const took = await c.sim.runUntil(() => c.agree(c.live()) === "n1", 60_000, 10);
      assert.ok(took >= 0, `seed ${seed}: no agreement on n1`);
      // n1 ran its coordinator-promote trigger.
      const promoted = c.watches.get("n1")!.fired.filter((e) => e.event === "coordinator-promote");
      assert.equal(promoted.length, 1);
      assert.ok(promoted[0]!.atMs - t0 <= took);
      samples.push(took);
      c.sim.shutdown();
    }
    samples.sort((a, b) => a - b);
    console.log(`failover at N=20, lan profile (probe 1 s, suspicion mult 4): agreement on the next coordinator ${samples.join(", ")} ms after the kill (median ${samples[2]} ms)`);
    // The suspicion timeout at N=20 is mult 4 x log10(20) x probe 1 s = 5.2 s at most, plus the probe that finds the node.
    assert.ok(samples[4]! < 15_000, "within the failure detection bound");
  });

  for (const quorum of [false, true]) {
    it(`a partition 3 | 2 ${quorum ? "with -coordinator-quorum: only the majority side has one" : "without quorum: each side has its own"}`, async () => {
      const c = new CoordinatorSim(9, lanConfig(), quorum);
      const names = ["n0", "n1", "n2", "n3", "n4"];
      c.add("n0", 5);
      names.slice(1).forEach((n, i) => c.add(n, 4 - i, "n0"));
      assert.ok((await c.sim.runUntil(() => c.sim.agree(names), 60_000)) >= 0);
      // Past the stable window: 5 is the last stable size.
      await c.sim.clock.advance(15_000);
      assert.equal(c.agree(names), "n0");
      // The heaviest (n0) on the minority side.
      const minority = ["n0", "n4"];
      const majority = ["n1", "n2", "n3"];
      c.sim.net.partition(minority.map(SimCluster.addressOf), majority.map(SimCluster.addressOf));
      // When each side settles: the majority names n1, the minority (with quorum) names none.
      let majorityMs = -1;
      let minorityMs = -1;
      const t0 = c.sim.clock.now();
      const settled = await c.sim.runUntil(
        () => {
          const now = c.sim.clock.now() - t0;
          if (majorityMs < 0 && c.agree(majority) === "n1") majorityMs = now;
          if (minorityMs < 0 && minority.every((n) => c.watches.get(n)!.watch.current().coordinators.length === 0)) minorityMs = now;
          return majorityMs >= 0 && (!quorum || minorityMs >= 0);
        },
        60_000,
        10,
      );
      assert.ok(settled >= 0, "the majority side agrees on n1");
      console.log(
        `partition 3 | 2 (quorum ${quorum}): the majority side named n1 ${majorityMs} ms after the split` +
          (quorum
            ? `; the minority withheld its coordinator at ${minorityMs} ms (two coordinators for ${Math.max(0, minorityMs - majorityMs)} ms, none for ${Math.max(0, majorityMs - minorityMs)} ms)`
            : ""),
      );
      await c.sim.clock.advance(60_000);
      assert.equal(c.agree(majority), "n1", "still n1 a minute later");
      const minorityView = minority.map((n) => c.watches.get(n)!.watch.current());
      if (quorum) {
        for (const v of minorityView) {
          assert.deepEqual(v.coordinators, [], "no coordinator on the minority side");
          assert.match(v.withheld!, /sees 2 alive members, fewer than a majority \(3\) of the last stable cluster size 5/);
        }
        assert.equal(c.watches.get("n0")!.fired.filter((e) => e.event === "coordinator-demote").length, 1, "n0 demoted itself");
      } else {
        assert.deepEqual(
          minorityView.map((v) => v.coordinators),
          [["n0"], ["n0"]],
          "the minority keeps its own coordinator: two in the cluster",
        );
      }
      // Healed: one coordinator again, the heaviest.
      c.sim.net.heal();
      const healed = await c.sim.runUntil(() => c.sim.agree(names) && c.agree(names) === "n0", 120_000);
      assert.ok(healed >= 0, "one coordinator after the heal");
      console.log(`partition 3 | 2 (quorum ${quorum}): healed, every node names n0 ${healed} ms after the heal`);
      c.sim.shutdown();
    });
  }
});
