/**
 * Real gossipcheckd processes on loopback (test/support/cluster.ts starts
 * them: the seed first, then the others at once, each with its own data
 * dir; logs at warn). Measures, with the lan profile:
 * - join convergence for N = 10, 40, 100, and the daemons' RSS and idle CPU
 *   at N = 40;
 * - how long until every member declares a kill -9'd node dead (N = 40);
 * - the batch round trip for N = 10, 40, 80 (plus N = 40 with a cluster
 *   key): submission to the last result, gcheck's own wall time, and the
 *   TCP frames and bytes one batch costs the cluster.
 * Every wait has a deadline and every daemon is killed by PID in a finally.
 * BENCH_CLUSTER_QUICK=1 runs few trials (to try the bench, not to quote);
 * BENCH_CLUSTER_PARTS=batches (or membership) runs only that half.
 */
import { batchSections } from "./cluster_batches.js";
import { membershipSections } from "./cluster_membership.js";
import type { BenchSection } from "./report.js";

export async function run(): Promise<BenchSection[]> {
  const parts = (process.env.BENCH_CLUSTER_PARTS ?? "membership,batches").split(",");
  for (const p of parts) {
    if (p !== "membership" && p !== "batches") throw new Error(`BENCH_CLUSTER_PARTS: unknown part "${p}" (known: membership, batches)`);
  }
  const membership = parts.includes("membership") ? await membershipSections() : [];
  const batches = parts.includes("batches") ? await batchSections() : [];
  return [...membership, ...batches];
}
