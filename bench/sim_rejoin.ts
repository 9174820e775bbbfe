/*
 * A member that comes back at once (src/swim/state.ts: reclaim, the address
 * in suspect and dead notices, the correction for a member held left): in
 * the in-memory simulation (SimCluster, lan profile, 8 nodes, 1 +- 1 ms
 * links), n7 leaves or is killed and a new process under its name starts
 * at once, at a new address (a daemon on port 0, a rescheduled container)
 * or at the same one, and joins through n0. Per scenario,
 * BENCH_SIM_REJOIN_SEEDS runs (20 by default):
 *   - spurious events: leave, failure or suspicion of n7 on a node that had
 *     already seen the new process alive (the old process's notices knocking
 *     the new one out; the old one's own leave, still spreading when the new
 *     one started, does not count);
 *   - until every node lists all 8 alive (virtual ms), and whether they
 *     still do 30 s later.
 * The loops restart n7 six times, 150 to 450 virtual ms apart.
 */
import { performance } from "node:perf_hooks";
import { lanConfig } from "../src/swim/config.js";
import { SimCluster } from "../src/swim/simulation.js";
import { percentile, type BenchSection } from "./report.js";

interface Scenario {
  name: string;
  /** How the old process goes: a graceful leave or kill -9 (then declared dead everywhere first). */
  end: "leave" | "kill";
  newAddress: boolean;
  cycles: number;
}

const SCENARIOS: Scenario[] = [
  { name: "leave, back at once at a new address", end: "leave", newAddress: true, cycles: 1 },
  { name: "kill -9, declared dead, back at a new address", end: "kill", newAddress: true, cycles: 1 },
  { name: "leave, back at once at the same address", end: "leave", newAddress: false, cycles: 1 },
  { name: "6 cycles: leave, back at the same address", end: "leave", newAddress: false, cycles: 6 },
  { name: "6 cycles: leave, back at a new address", end: "leave", newAddress: true, cycles: 6 },
];

interface Outcome {
  spurious: number;
  tookMs: number;
  stable: boolean;
}

async function once(s: Scenario, seed: number): Promise<Outcome> {
  const sim = new SimCluster({ seed, config: lanConfig(), jitterMs: 1, recordEvents: false });
  const names = await sim.form(8);
  const others = names.filter((n) => n !== "n7");
  let spurious = 0;
  for (let k = 0; k < s.cycles; k++) {
    const old = sim.must("n7");
    if (s.end === "leave") {
      let left = false;
      void old.swim.leave(500).finally(() => (left = true));
      await sim.runUntil(() => left, 2000, 1);
    } else {
      sim.kill("n7");
      await sim.runUntil(() => others.every((n) => sim.must(n).swim.member("n7")?.status === "dead"), 60_000, 10);
    }
    // The old process's last incarnation, as it held it itself.
    const oldIncarnation = old.swim.member("n7")?.incarnation ?? 0;
    const address = s.newAddress ? `n7-${k}:7946` : SimCluster.addressOf("n7");
    const fresh = sim.restart("n7", address);
    if (k === s.cycles - 1) {
      for (const n of others) {
        // Spurious: n7 knocked out on a node that had already seen the new process alive (its address, or
        // at the same address an incarnation above the old process's); the old one's own leave or death,
        // still spreading when the new one started, is not.
        let seenNew = false;
        sim.must(n).swim.onEvent((e) => {
          if (e.member.name !== "n7") return;
          if (e.type === "leave" || e.type === "fail" || e.type === "suspect") {
            if (seenNew) spurious++;
          } else if (e.member.status === "alive" && e.member.address === address && (s.newAddress || e.member.incarnation > oldIncarnation)) seenNew = true;
        });
      }
    }
    void fresh.swim.join([sim.must(`n${k % 7}`).address]).catch(() => {});
    if (k < s.cycles - 1) await sim.clock.advance(150 + ((seed * 37 + k * 91) % 300));
  }
  const took = await sim.runUntil(() => sim.agree(names), 120_000, 10);
  await sim.clock.advance(30_000);
  const stable = sim.agree(names);
  sim.shutdown();
  return { spurious, tookMs: took < 0 ? Infinity : took, stable };
}

export async function run(): Promise<BenchSection[]> {
  const seeds = Number(process.env.BENCH_SIM_REJOIN_SEEDS ?? 20);
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`sim_rejoin: BENCH_SIM_REJOIN_SEEDS is "${process.env.BENCH_SIM_REJOIN_SEEDS}"; give a whole number of runs`);
  const t0 = performance.now();
  const rows: (string | number)[][] = [];
  for (const s of SCENARIOS) {
    const outs: Outcome[] = [];
    for (let seed = 1; seed <= seeds; seed++) outs.push(await once(s, seed));
    const took = outs.map((o) => o.tookMs);
    const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(0) : "never");
    rows.push([
      s.name,
      outs.filter((o) => o.spurious > 0).length,
      outs.reduce((sum, o) => sum + o.spurious, 0),
      fmt(percentile(took, 50)),
      fmt(Math.max(...took)),
      took.filter((t) => t > 1000).length,
      outs.filter((o) => !o.stable).length,
    ]);
  }
  return [
    {
      title: `sim_rejoin: a member back at once under the same name (8 nodes, lan profile, ${seeds} seeds each)`,
      columns: ["scenario", "runs with spurious events", "spurious events", "all alive everywhere p50 ms", "worst ms", "runs over 1 s", "runs not settled 30 s later"],
      rows,
      notes: [
        "Spurious events: leave, failure or suspicion of n7 on a node that had already seen the new process alive (the old process's own leave, still spreading when the new one started, is not counted). Times are virtual, from the (last) new process's start until every node lists all 8 alive.",
        "A run not settled 30 s later had every node agree and then lost it: in the rapid loops at new addresses, a stale alive of an earlier process can still reclaim the name on a node that missed a later one.",
        `Wall time of the section: ${((performance.now() - t0) / 1000).toFixed(1)} s. BENCH_SIM_REJOIN_SEEDS sets the runs per scenario.`,
      ],
    },
  ];
}
