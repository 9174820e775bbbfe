/*
 * Start-up cost of the short answers: `gossipcheckd -version`,
 * `gossipcheckd -help` and `gcheck --version` against an empty Node
 * (`node -e 0`), the floor no entry point can go below. For reference, the
 * daemon's own module answering -version (dist/src/daemon/main.js, which
 * loads the whole daemon first: what -version cost before src/daemon/bin.ts).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { percentile, type BenchSection } from "./report.js";

const RUNS = 20;
const WARMUP_ROUNDS = 3;
/** The target: a short answer costs at most this much over `node -e 0` (ms, medians). */
const TARGET_OVER_NODE_MS = 15;

const root = fileURLToPath(new URL("../../", import.meta.url));
const daemonBin = join(root, "dist/src/daemon/bin.js");

const commands: { label: string; args: string[] }[] = [
  { label: "node -e 0", args: ["-e", "0"] },
  { label: "gossipcheckd -version", args: [daemonBin, "-version"] },
  { label: "gossipcheckd -help (piped)", args: [daemonBin, "-help"] },
  { label: "gcheck --version", args: [join(root, "dist/src/cli/gcheck.cjs"), "--version"] },
  { label: "daemon module -version (before)", args: [join(root, "dist/src/daemon/main.js"), "-version"] },
];

function timeOnce(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`bench startup: node ${args.join(" ")} exited ${r.status}: ${String(r.stderr)}`);
  return ms;
}

export async function run(): Promise<BenchSection[]> {
  const times = commands.map(() => [] as number[]);
  // Round-robin, so load from elsewhere on the host falls on every command alike.
  for (let round = 0; round < WARMUP_ROUNDS + RUNS; round++) {
    commands.forEach((c, i) => {
      const ms = timeOnce(c.args);
      if (round >= WARMUP_ROUNDS) times[i]!.push(ms);
    });
  }
  const median = (v: number[]) => percentile(v, 50);
  const floor = median(times[0]!);
  const floorMin = Math.min(...times[0]!);
  const rows = commands.map((c, i) => {
    const v = times[i]!;
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return [
      c.label,
      mean.toFixed(1),
      median(v).toFixed(1),
      Math.min(...v).toFixed(1),
      percentile(v, 90).toFixed(1),
      ...(i === 0 ? ["", ""] : [`+${(median(v) - floor).toFixed(1)}`, `+${(Math.min(...v) - floorMin).toFixed(1)}`]),
    ];
  });
  return [
    {
      title: "startup: short answers against an empty Node",
      columns: ["command", "mean ms", "median ms", "min ms", "p90 ms", "median over node -e 0", "min over node -e 0"],
      rows,
      notes: [
        `Method: each command run ${RUNS} times with ${process.execPath} (spawnSync, stdout and stderr piped, wall time from spawn to exit), round-robin across the commands after ${WARMUP_ROUNDS} warm-up rounds, so load from elsewhere on the host falls on all of them alike.`,
        `Target: a short answer within ${TARGET_OVER_NODE_MS} ms of node -e 0 (medians; on a busy host the minimums, the runs least disturbed, say it more steadily). -help on a terminal is not measured: there commander itself formats it to the terminal's width (about 35 ms more).`,
      ],
    },
  ];
}
