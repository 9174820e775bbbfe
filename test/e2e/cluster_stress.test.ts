import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { after, before, describe, it } from "node:test";
import { type Cluster, allAlive, startCluster, waitForViews } from "../support/cluster.js";

/*
 * Issue 10: under heavy host load (load average 4-8 on 2 cores) a fresh
 * loopback cluster was seen, a few times, not to form within about 30 s.
 * This test loads the host with CPU burners it starts (and always kills) and
 * starts twenty five-node clusters one after another, each the way every
 * real test cluster starts (test/support/cluster.ts startCluster, -profile
 * local): the seed first, then the four others at once with -peers of the
 * seed. A "fresh 3-10 node loopback cluster" is what the suite's cluster
 * tests start, and they start it this way: the seed is up before anyone
 * dials it (a seed that starts after its peers has its own test in
 * cluster_membership.test.ts). It records, per cluster, how long it took
 * until every node listed all five alive, prints the table (t.diagnostic, so
 * CI logs keep the numbers), and fails naming the cluster and what each node
 * saw if one does not form within its deadline.
 */

const CLUSTERS = 20;
const SIZE = 5;
/** From the last daemon's control API answering until all list SIZE alive (ms). */
const FORM_DEADLINE_MS = 60_000;
/**
 * Busy loops at normal priority: 5 runnable processes on top of the daemons
 * and the rest of the suite give the load average of 4-8 the issue saw on
 * its 2-core host. A fixed count, not one per core: the point is a run queue
 * several times longer than the cores, and on a bigger CI machine the
 * clusters simply get less of that.
 */
const BURNERS = 5;

/** The 1-minute load average and, on Linux, the runnable tasks right now (/proc/loadavg "r/total"). */
function load(): { avg1: number; runnable: number | undefined } {
  let runnable: number | undefined;
  try {
    runnable = Number(readFileSync("/proc/loadavg", "utf8").split(" ")[3]!.split("/")[0]);
  } catch {
    // not Linux: the load average alone
  }
  return { avg1: loadavg()[0]!, runnable };
}

interface Formation {
  cluster: number;
  /** First spawn until the last node's control API answered: process start-up (ms). */
  spawnToUpMs: number;
  /** Last control API up until every node lists SIZE alive: membership (ms). */
  upToFormedMs: number;
  /** First spawn until every node lists SIZE alive (ms). */
  spawnToFormedMs: number;
  /** The node that was last to list all SIZE alive, and how long after the first. */
  lagger: string;
  spreadMs: number;
  avg1: number;
  runnable: number | undefined;
  stopMs: number;
}

/** "min a / median b / max c", each with `digits` decimals. */
function quantiles(xs: number[], digits = 0): string {
  const s = [...xs].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return `min ${s[0]!.toFixed(digits)} / median ${median.toFixed(digits)} / max ${s[s.length - 1]!.toFixed(digits)}`;
}

describe(`${CLUSTERS} five-node clusters started one after another on a host loaded by ${BURNERS} CPU burners`, () => {
  const burners: ChildProcess[] = [];
  const burnerExits: Promise<unknown>[] = [];

  before(() => {
    for (let i = 0; i < BURNERS; i++) {
      const b = spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" });
      burners.push(b);
      burnerExits.push(new Promise((r) => b.once("exit", r)));
    }
  });

  after(async () => {
    // By PID, always; SIGKILL because a busy loop has nothing to flush.
    for (const b of burners) if (b.exitCode === null && b.signalCode === null && b.pid) process.kill(b.pid, "SIGKILL");
    await Promise.all(burnerExits);
  });

  // About 100 s on a quiet 2-core host (a fifth of it the 2 s graceful leave
  // of each cluster); the bound only stops a hung run: each cluster already
  // fails on its own deadlines.
  it("every cluster forms, each within its deadline", { timeout: 12 * 60_000 }, async (t) => {
    t.diagnostic(`host: ${availableParallelism()} cores, ${BURNERS} burners, load average at start ${load().avg1.toFixed(2)}`);
    // The 1-minute load average lags the burners by about a minute; the
    // runnable column (/proc/loadavg) is the run queue at that moment.
    t.diagnostic("cluster | spawn->up ms | up->formed ms | spawn->formed ms | last node to form (+ms after first) | load avg 1m | runnable | stop ms");
    const rows: Formation[] = [];
    const report = () => {
      for (const r of rows) {
        t.diagnostic(
          `${String(r.cluster).padStart(7)} | ${String(r.spawnToUpMs).padStart(11)} | ${String(r.upToFormedMs).padStart(13)} | ${String(r.spawnToFormedMs).padStart(16)} | ` +
            `${`${r.lagger} (+${r.spreadMs})`.padEnd(36)} | ${r.avg1.toFixed(2).padStart(11)} | ${String(r.runnable ?? "-").padStart(8)} | ${r.stopMs}`,
        );
      }
    };
    for (let c = 1; c <= CLUSTERS; c++) {
      const spawnedAt = Date.now();
      let cluster: Cluster | undefined;
      try {
        cluster = await startCluster(SIZE, { namePrefix: `s${c}-`, logLevel: "info" });
        const upAt = cluster.lastUpAtMs;
        const formedAt = new Map<string, number>();
        const accept = allAlive(cluster.names);
        try {
          await waitForViews(
            cluster.nodes,
            (view) => {
              const ok = accept(view);
              if (ok) formedAt.set(view.node, Date.now());
              return ok;
            },
            { timeoutMs: FORM_DEADLINE_MS, what: `every node of cluster ${c} lists all ${SIZE} alive` },
          );
        } catch (e) {
          // What each node saw, by name, and the tail of its log: enough to tell who misses whom.
          const seen = await Promise.all(
            cluster.nodes.map(async (n) => {
              try {
                const v = await n.members();
                return `${n.name}: ${v.members.map((m) => `${m.name}:${m.status}`).join(" ")}`;
              } catch (err) {
                return `${n.name}: ${(err as Error).message}`;
              }
            }),
          );
          report();
          assert.fail(
            `cluster ${c} did not form within ${FORM_DEADLINE_MS} ms of its last node being up (${(e as Error).message})\nmembers per node:\n${seen.join("\n")}\nlogs:\n${cluster.logs(3000)}`,
          );
        }
        const times = [...formedAt.entries()].sort((a, b) => a[1] - b[1]);
        const last = times[times.length - 1]!;
        const { avg1, runnable } = load();
        const stopStart = Date.now();
        await cluster.close("SIGTERM");
        cluster = undefined;
        rows.push({
          cluster: c,
          spawnToUpMs: upAt - spawnedAt,
          upToFormedMs: Math.max(0, last[1] - upAt),
          spawnToFormedMs: last[1] - spawnedAt,
          lagger: last[0],
          spreadMs: last[1] - times[0]![1],
          avg1,
          runnable,
          stopMs: Date.now() - stopStart,
        });
      } finally {
        await cluster?.close("SIGKILL");
      }
    }
    report();
    t.diagnostic(`spawn->up (process start-up): ${quantiles(rows.map((r) => r.spawnToUpMs))} ms`);
    t.diagnostic(`up->formed (membership): ${quantiles(rows.map((r) => r.upToFormedMs))} ms`);
    t.diagnostic(`spawn->formed: ${quantiles(rows.map((r) => r.spawnToFormedMs))} ms`);
    t.diagnostic(
      `load average (1 min) as each cluster formed: ${quantiles(
        rows.map((r) => r.avg1),
        2,
      )}`,
    );
    const runnable = rows.flatMap((r) => (r.runnable === undefined ? [] : [r.runnable]));
    if (runnable.length) t.diagnostic(`runnable tasks as each cluster formed: ${quantiles(runnable)}`);
    assert.equal(rows.length, CLUSTERS);
  });
});
