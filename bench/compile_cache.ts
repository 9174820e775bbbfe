/*
 * V8's compile cache (src/cmdline/compile_cache.ts, issue 18 targets 3 and 4):
 * start-up of gcheck and gossipcheckd with the cache off
 * (NODE_DISABLE_COMPILE_CACHE=1: what every start cost before), cold (an
 * empty cache folder: the first start after an install or a Node upgrade) and
 * warm (every start after that), against `node -e 0`. Runs on this Node and
 * on every binary listed in BENCH_NODES (comma-separated paths), so Node 20
 * (no cache: all three the same) and 22/24 can be compared in one report.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { percentile, type BenchSection } from "./report.js";

const RUNS = 15;
const WARMUP_ROUNDS = 2;
/** Longest a daemon may take to write its -cli-addr-file (ms). */
const DAEMON_START_TIMEOUT_MS = 20_000;

const root = fileURLToPath(new URL("../../", import.meta.url));
const GCHECK = join(root, "dist/src/cli/gcheck.cjs");
const DAEMON = join(root, "dist/src/daemon/bin.js");

type Mode = "off" | "cold" | "warm";

/** The environment of one run: the cache off, in a fresh empty folder, or in the primed one. */
function envFor(mode: Mode, warmDir: string): { env: NodeJS.ProcessEnv; cleanup: () => void } {
  const base = { ...process.env, NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined };
  if (mode === "off") return { env: { ...base, NODE_DISABLE_COMPILE_CACHE: "1" }, cleanup: () => {} };
  if (mode === "warm") return { env: { ...base, XDG_CACHE_HOME: warmDir }, cleanup: () => {} };
  const cold = mkdtempSync(join(tmpdir(), "gc-bench-cold-"));
  return { env: { ...base, XDG_CACHE_HOME: cold }, cleanup: () => rmSync(cold, { recursive: true, force: true }) };
}

function timeRun(node: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(node, args, { stdio: ["ignore", "pipe", "pipe"], env });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`bench compile_cache: ${node} ${args.join(" ")} exited ${r.status}: ${String(r.stderr)}`);
  return ms;
}

/** Starts a daemon on loopback port 0; resolves with the time from spawn to its -cli-addr-file (ms) and its address. */
async function startDaemon(node: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; address: string; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "gc-bench-cc-"));
  const addrFile = join(dataDir, "cli-addr");
  const t0 = performance.now();
  const child = spawn(node, [DAEMON, "-bind", "127.0.0.1:0", "-cli-bind", "127.0.0.1:0", "-data-dir", dataDir, "-cli-addr-file", addrFile], { stdio: "ignore", env });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const address = () => (existsSync(addrFile) ? readFileSync(addrFile, "utf8").trim() : "");
  // Polled every 1 ms: the file appears once, and the poll's cost is the same in every mode.
  while (address() === "") {
    if (child.exitCode !== null || performance.now() - t0 > DAEMON_START_TIMEOUT_MS) {
      await stop();
      throw new Error(`bench compile_cache: gossipcheckd on ${node} did not write -cli-addr-file within ${DAEMON_START_TIMEOUT_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return { ms: performance.now() - t0, address: address(), stop };
}

async function benchNode(node: string): Promise<BenchSection> {
  const version = spawnSync(node, ["--version"]).stdout.toString().trim();
  const warmDir = mkdtempSync(join(tmpdir(), "gc-bench-warm-"));
  const server = await startDaemon(node, envFor("off", warmDir).env);
  const modes: Mode[] = ["off", "cold", "warm"];
  const steps: { label: string; run: () => Promise<number> }[] = [
    { label: "node -e 0", run: async () => timeRun(node, ["-e", "0"], process.env) },
    { label: "gcheck --version (no cache on this path)", run: async () => timeRun(node, [GCHECK, "--version"], process.env) },
  ];
  for (const [label, args] of [
    ["gcheck -help", ["-help"]],
    ["gcheck members", ["-server", server.address, "members"]],
  ] as const) {
    for (const mode of modes) {
      steps.push({
        label: `${label}, cache ${mode}`,
        run: async () => {
          const e = envFor(mode, warmDir);
          try {
            return timeRun(node, [GCHECK, ...args], e.env);
          } finally {
            e.cleanup();
          }
        },
      });
    }
  }
  for (const mode of modes) {
    steps.push({
      label: `gossipcheckd exec to serving, cache ${mode}`,
      run: async () => {
        const e = envFor(mode, warmDir);
        const d = await startDaemon(node, e.env);
        await d.stop();
        e.cleanup();
        return d.ms;
      },
    });
  }
  const times = steps.map(() => [] as number[]);
  try {
    // Warm-up rounds also prime the warm folder. Each round starts one step later, so no step always follows the same one.
    for (let round = 0; round < WARMUP_ROUNDS + RUNS; round++) {
      for (let k = 0; k < steps.length; k++) {
        const i = (k + round) % steps.length;
        const ms = await steps[i]!.run();
        if (round >= WARMUP_ROUNDS) times[i]!.push(ms);
      }
    }
  } finally {
    await server.stop();
    rmSync(warmDir, { recursive: true, force: true });
  }
  const floor = percentile(times[0]!, 50);
  return {
    title: `compile cache: start-up on Node ${version}`,
    columns: ["command", "median ms", "min ms", "p90 ms", "median over node -e 0"],
    rows: steps.map((s, i) => [
      s.label,
      percentile(times[i]!, 50).toFixed(1),
      Math.min(...times[i]!).toFixed(1),
      percentile(times[i]!, 90).toFixed(1),
      i === 0 ? "" : `+${(percentile(times[i]!, 50) - floor).toFixed(1)}`,
    ]),
    notes: [
      `Method: ${RUNS} runs of each step after ${WARMUP_ROUNDS} warm-up rounds, interleaved (round-robin, the order rotated each round); wall time from spawn to exit (spawnSync, output piped), and for the daemon from spawn to its -cli-addr-file holding the control API's address. "off" is NODE_DISABLE_COMPILE_CACHE=1 (what every start cost before the cache), "cold" a fresh empty XDG_CACHE_HOME per run, "warm" one folder primed by the warm-up rounds.`,
      `Other binaries: BENCH_NODES=/path/to/node,/path/to/other/node npm run bench -- compile_cache. Node 20 has no compile cache, so its three modes differ only by noise.`,
    ],
  };
}

export async function run(): Promise<BenchSection[]> {
  const extra = (process.env.BENCH_NODES ?? "").split(",").filter((p) => p !== "");
  const sections: BenchSection[] = [];
  for (const node of [process.execPath, ...extra.filter((p) => p !== process.execPath)]) sections.push(await benchNode(node));
  return sections;
}
