/*
 * Start-up of the daemon and of gcheck, lever by lever (issue 18, targets 3
 * and 4). Three builds of the same program, all from this dist/:
 *
 * - "before": the daemon's main.js and gcheck's program.js as separate ES
 *   modules (tsc's output), with `import "node:http"` preloaded, which is
 *   what the old code did first (its ES module facade loads undici on
 *   Node >= 22: src/base/node_http.ts);
 * - "+ http": the same modules as they are now (node:http through
 *   process.getBuiltinModule);
 * - "+ bundle": the shipped executables (bin.js, main.js), which import the
 *   esbuild bundles (scripts/build-bins.mjs).
 *
 * All three with V8's compile cache warm where Node has it (>= 22.1), as
 * bin.js and main.js turn it on; the unbundled ones get it from
 * NODE_COMPILE_CACHE, the same folder. CPU is user + sys of every thread of
 * the child, from /proc/PID/task/TID/schedstat (ns) at the moment the daemon
 * wrote its -cli-addr-file, and from wait4's rusage for gcheck. Steps are
 * interleaved (round-robin, the order rotated each round), medians.
 *
 * Then `gcheck check` against a real lan cluster: where its wall time goes,
 * from spawn to its request reaching the daemon (start-up), the API's round
 * trip, and from the last result leaving the daemon to gcheck's exit (the
 * tail), timed by a TCP relay in this process between gcheck and the
 * daemon, so all three are on one clock.
 *
 * BENCH_NODES=/path/to/node,... adds other Node binaries (Node 20 and 24 in
 * docs/BENCHMARKS.md); BENCH_STARTUP_N sets the cluster's size (default 10:
 * 40 needs a quiet host), BENCH_STARTUP_RUNS the rounds (default 12).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { startCluster } from "../test/support/cluster.js";
import { percentile, type BenchSection } from "./report.js";
import { runtimeTree } from "./runtime_tree.js";

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 12);
const WARMUP_ROUNDS = 2;
const CLUSTER_N = Number(process.env.BENCH_STARTUP_N ?? 10);
const CHECK_RUNS = RUNS;
/** Longest a daemon may take to write its -cli-addr-file (ms). */
const DAEMON_START_TIMEOUT_MS = 20_000;

const root = fileURLToPath(new URL("../../", import.meta.url));
const dist = (p: string) => join(root, "dist", p);

type Build = "before" | "http" | "bundle" | "exit";
/** The daemon's builds; "exit" is gcheck's alone. */
const DAEMON_BUILDS: Build[] = ["before", "http", "bundle"];
const GCHECK_BUILDS: Build[] = ["before", "http", "bundle", "exit"];
const BUILD_LABEL: Record<Build, string> = {
  before: "before (modules, import node:http)",
  http: "+ http (modules)",
  bundle: "+ bundle",
  exit: "+ exit at once (shipped)",
};

interface Run {
  cpuMs: number;
  wallMs: number;
}

/** CPU ms of every live thread of pid, from schedstat (ns of run time). */
function threadsCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // The thread ended between the listing and the read: its time is gone with it.
    }
  }
  return ns / 1e6;
}

class Setup {
  readonly dir = mkdtempSync(join(tmpdir(), "gc-bench-startup-"));
  readonly cache = join(this.dir, "cache");
  readonly gcheckModules = join(this.dir, "gcheck-modules.mjs");
  readonly gcheckBundle = join(this.dir, "gcheck-bundle.mjs");
  readonly httpFacade = "data:text/javascript,import 'node:http'";

  constructor() {
    // gcheck as main.js ran it before: the modules or the bundle (after turning the compile cache on, as main.js does),
    // exitCode set and the event loop left to empty. The modules get the cache from NODE_COMPILE_CACHE (env).
    const run = `process.exitCode = await main(process.argv.slice(2));\n`;
    writeFileSync(this.gcheckModules, `import { main } from ${JSON.stringify(dist("src/cli/program.js"))};\n${run}`);
    const cache = `import { enableCompileCache } from ${JSON.stringify(dist("src/cmdline/compile_cache.js"))};\nenableCompileCache();\n`;
    writeFileSync(this.gcheckBundle, `${cache}const { main } = await import(${JSON.stringify(dist("src/cli/program.bundle.js"))});\n${run}`);
  }

  /** The environment: the warm cache, where bin.js and main.js put it (XDG_CACHE_HOME) and, for the unbundled builds, NODE_COMPILE_CACHE. */
  env(build: Build): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: this.cache, NODE_DISABLE_COMPILE_CACHE: undefined, NODE_COMPILE_CACHE: undefined };
    if (build === "before" || build === "http") env.NODE_COMPILE_CACHE = join(this.cache, "gossipcheck", "node-compile-cache");
    return env;
  }

  daemonArgs(build: Build): string[] {
    if (build === "bundle" || build === "exit") return [dist("src/daemon/bin.js")];
    const main = dist("src/daemon/main.js");
    return build === "before" ? ["--import", this.httpFacade, main] : [main];
  }

  gcheckArgs(build: Build): string[] {
    if (build === "exit") return [dist("src/cli/gcheck.cjs")];
    if (build === "bundle") return [this.gcheckBundle];
    return build === "before" ? ["--import", this.httpFacade, this.gcheckModules] : [this.gcheckModules];
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One daemon from spawn until its -cli-addr-file holds the control API's address, then SIGTERM. */
async function daemonRun(node: string, setup: Setup, build: Build, daemonBin?: string): Promise<Run> {
  const dataDir = mkdtempSync(join(setup.dir, "d-"));
  const addrFile = join(dataDir, "cli-addr");
  const t0 = performance.now();
  const child = spawn(
    node,
    [
      ...(daemonBin && build === "bundle" ? [daemonBin] : setup.daemonArgs(build)),
      "-bind",
      "127.0.0.1:0",
      "-cli-bind",
      "127.0.0.1:0",
      "-data-dir",
      dataDir,
      "-cli-addr-file",
      addrFile,
      "-log-level",
      "warn",
    ],
    {
      stdio: "ignore",
      env: setup.env(build),
    },
  );
  const exited = new Promise((r) => child.once("exit", r));
  try {
    // Polled at every turn of the event loop: the file appears once, and the poll costs the same for every build.
    while (!existsSync(addrFile) || readFileSync(addrFile, "utf8").trim() === "") {
      if (child.exitCode !== null || performance.now() - t0 > DAEMON_START_TIMEOUT_MS)
        throw new Error(`bench startup_daemon: gossipcheckd (${build}) on ${node} did not write -cli-addr-file within ${DAEMON_START_TIMEOUT_MS} ms`);
      await new Promise((r) => setImmediate(r));
    }
    return { wallMs: performance.now() - t0, cpuMs: threadsCpuMs(child.pid!) };
  } finally {
    child.kill("SIGTERM");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs a command to its exit: wall from spawn to exit; CPU as the child itself reports it at exit (cpuPreload: Node gives no child's rusage). Exit 1 (a failed check) is an answer too. */
async function timedCommand(node: string, args: string[], env: NodeJS.ProcessEnv, cpuFile: string): Promise<Run> {
  const t0 = performance.now();
  const child = spawn(node, ["--import", cpuPreload(cpuFile), ...args], { stdio: ["ignore", "pipe", "pipe"], env });
  let stderr = "";
  child.stdout.resume();
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  const wallMs = performance.now() - t0;
  if (code !== 0 && code !== 1) throw new Error(`bench startup_daemon: ${node} ${args.join(" ")} exited ${code}: ${stderr}`);
  const cpuMs = Number(readFileSync(cpuFile, "utf8"));
  return { wallMs, cpuMs };
}

/** A preload that writes the process's CPU ms (user + sys, all threads) to file as it exits; it costs the same in every build. */
function cpuPreload(file: string): string {
  const code = `process.on("exit", () => { const u = process.cpuUsage(); process.getBuiltinModule("node:fs").writeFileSync(${JSON.stringify(file)}, String((u.user + u.system) / 1000)); });`;
  return `data:text/javascript,${encodeURIComponent(code)}`;
}

interface Step {
  label: string;
  run: () => Promise<Run>;
}

/** Runs every step RUNS times after WARMUP_ROUNDS, round-robin with the order rotated each round. */
async function interleave(steps: Step[], runs: number): Promise<Run[][]> {
  const out = steps.map(() => [] as Run[]);
  for (let round = 0; round < WARMUP_ROUNDS + runs; round++) {
    for (let k = 0; k < steps.length; k++) {
      const i = (k + round) % steps.length;
      const r = await steps[i]!.run();
      if (round >= WARMUP_ROUNDS) out[i]!.push(r);
    }
  }
  return out;
}

const med = (runs: Run[], key: keyof Run) =>
  percentile(
    runs.map((r) => r[key]),
    50,
  );

async function startupSection(node: string, version: string, setup: Setup, server: string, daemonBin?: string): Promise<BenchSection> {
  const cpuFile = join(setup.dir, "cpu");
  const steps: Step[] = [
    { label: "node -e 0", run: () => timedCommand(node, ["-e", "0"], setup.env("bundle"), cpuFile) },
    { label: "gcheck --version", run: () => timedCommand(node, [dist("src/cli/gcheck.cjs"), "--version"], setup.env("bundle"), cpuFile) },
  ];
  for (const build of GCHECK_BUILDS)
    steps.push({ label: `gcheck members, ${BUILD_LABEL[build]}`, run: () => timedCommand(node, [...setup.gcheckArgs(build), "-server", server, "members"], setup.env(build), cpuFile) });
  for (const build of DAEMON_BUILDS) steps.push({ label: `gossipcheckd exec to serving, ${BUILD_LABEL[build]}`, run: () => daemonRun(node, setup, build, daemonBin) });
  const runs = await interleave(steps, RUNS);
  const floorCpu = med(runs[0]!, "cpuMs");
  const floorWall = med(runs[0]!, "wallMs");
  return {
    title: `startup_daemon: the daemon and gcheck lever by lever on Node ${version}`,
    columns: ["step", "CPU ms (median)", "wall ms (median)", "wall min ms", "CPU over node -e 0", "wall over node -e 0"],
    rows: steps.map((s, i) => [
      s.label,
      med(runs[i]!, "cpuMs").toFixed(1),
      med(runs[i]!, "wallMs").toFixed(1),
      Math.min(...runs[i]!.map((r) => r.wallMs)).toFixed(1),
      i === 0 ? "" : `+${(med(runs[i]!, "cpuMs") - floorCpu).toFixed(1)}`,
      i === 0 ? "" : `+${(med(runs[i]!, "wallMs") - floorWall).toFixed(1)}`,
    ]),
    notes: [
      `Method: ${RUNS} rounds after ${WARMUP_ROUNDS} warm-up rounds, every step interleaved (round-robin, the order rotated each round), medians. Compile cache warm where Node has it. gcheck and node -e 0: CPU is the process's own process.cpuUsage() at exit (a preload writes it, the same in every row), wall from spawn to exit. The daemon: from spawn until its -cli-addr-file holds the control API's address, CPU of all its threads from /proc/PID/task/*/schedstat at that moment (-log-level warn).`,
      ...(daemonBin
        ? [
            `The daemon's "+ bundle" row runs from a copy of this build whose better-sqlite3 is built for Node ${version} (bench/runtime_tree.ts), so it opens its history store as in production; the "before" and "+ http" rows run from dist/ and, with an addon for another Node, start without it.`,
          ]
        : []),
      `"before" runs tsc's separate modules with import "node:http" preloaded (what the old code did), "+ http" the same modules as they are now, "+ bundle" the esbuild bundles (the daemon's shipped bin.js; for gcheck the bundle run as main.js ran it before), "+ exit at once" the shipped gcheck main.js, which exits as soon as its output is flushed.`,
    ],
  };
}

/** A TCP relay to target that timestamps the first byte from the client and the last byte from the server. */
async function relay(target: string): Promise<{ address: string; last: () => { requestAt: number; lastResultAt: number }; close: () => Promise<void> }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))];
  let requestAt = 0;
  let lastResultAt = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host, port });
    sockets.add(client).add(upstream);
    client.on("data", (d) => {
      if (requestAt === 0) requestAt = performance.now();
      upstream.write(d);
    });
    upstream.on("data", (d) => {
      lastResultAt = performance.now();
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    last: () => {
      const r = { requestAt, lastResultAt };
      requestAt = 0;
      lastResultAt = 0;
      return r;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

async function checkSection(nodes: { node: string; version: string }[], setup: Setup): Promise<BenchSection> {
  const cluster = await startCluster(CLUSTER_N, { profile: "lan", namePrefix: "s-" });
  const checksFile = join(setup.dir, "checks.json");
  writeFileSync(checksFile, JSON.stringify({ tmp_exists: { type: "file_exists", path: tmpdir() }, true_cmd: { type: "command", command: "true" } }));
  const hop = await relay(cluster.seed.cliAddress);
  const rows: string[][] = [];
  try {
    // Every node lists every node before the first batch, so each batch expects all N.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if ((await aliveCount(cluster.seed.cliAddress)) === CLUSTER_N) break;
      if (Date.now() > deadline) throw new Error(`bench startup_daemon: ${CLUSTER_N} daemons did not all list each other within 60 s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const { node, version } of nodes) {
      const steps: (Step & { split: { startMs: number; apiMs: number; tailMs: number }[] })[] = GCHECK_BUILDS.map((build) => {
        const split: { startMs: number; apiMs: number; tailMs: number }[] = [];
        return {
          label: `Node ${version}, ${BUILD_LABEL[build]}`,
          split,
          run: async () => {
            hop.last();
            const t0 = performance.now();
            const r = await timedCommand(node, [...setup.gcheckArgs(build), "-server", hop.address, "-file", checksFile, "check"], setup.env(build), join(setup.dir, "cpu-check"));
            const exitAt = t0 + r.wallMs;
            const { requestAt, lastResultAt } = hop.last();
            split.push({ startMs: requestAt - t0, apiMs: lastResultAt - requestAt, tailMs: exitAt - lastResultAt });
            return r;
          },
        };
      });
      const runs = await interleave(steps, CHECK_RUNS);
      steps.forEach((s, i) => {
        const part = (k: "startMs" | "apiMs" | "tailMs") =>
          percentile(
            s.split.slice(-CHECK_RUNS).map((x) => x[k]),
            50,
          ).toFixed(1);
        rows.push([s.label, med(runs[i]!, "wallMs").toFixed(1), med(runs[i]!, "cpuMs").toFixed(1), part("startMs"), part("apiMs"), part("tailMs")]);
      });
    }
  } finally {
    await hop.close();
    await cluster.close("SIGKILL");
  }
  return {
    title: `startup_daemon: where gcheck check's time goes, N=${CLUSTER_N} (lan)`,
    columns: ["gcheck", "wall ms (median)", "CPU ms", "spawn to request at the API", "API: request to last result", "last result to exit"],
    rows,
    notes: [
      `${CLUSTER_N} gossipcheckd on loopback (lan profile, this Node), gcheck check of 2 checks (file_exists, command true) through a TCP relay in the bench process, which times the request's first byte and the last byte the daemon sent; gcheck's exit is the child's exit event. ${CHECK_RUNS} runs of each row after ${WARMUP_ROUNDS} warm-up rounds, interleaved, medians of each column (the parts need not sum to the whole).`,
    ],
  };
}

/** How many members gcheck members -output json lists alive at server. */
async function aliveCount(server: string): Promise<number> {
  const child = spawn(process.execPath, [dist("src/cli/gcheck.cjs"), "-server", server, "-output", "json", "members"], { stdio: ["ignore", "pipe", "ignore"] });
  let text = "";
  child.stdout.on("data", (d: Buffer) => (text += d.toString()));
  await new Promise((r) => child.once("exit", r));
  try {
    const doc = JSON.parse(text) as { members?: { status: string }[] };
    return (doc.members ?? []).filter((m) => m.status === "alive").length;
  } catch {
    return 0;
  }
}

export async function run(): Promise<BenchSection[]> {
  const extra = (process.env.BENCH_NODES ?? "").split(",").filter((p) => p !== "" && p !== process.execPath);
  const nodes = [process.execPath, ...extra].map((node) => ({ node, version: "" }));
  const trees = new Map(extra.map((node) => [node, runtimeTree(node)]));
  const setup = new Setup();
  const sections: BenchSection[] = [];
  try {
    for (const n of nodes) {
      n.version = (await versionOf(n.node)).replace(/^v/, "");
    }
    const probe = await daemonForGcheck(setup);
    try {
      for (const n of nodes) sections.push(await startupSection(n.node, n.version, setup, probe.address, trees.get(n.node)?.daemonBin));
    } finally {
      await probe.stop();
    }
    sections.push(await checkSection(nodes, setup));
  } finally {
    setup.close();
    for (const t of trees.values()) t.remove();
  }
  return sections;
}

async function versionOf(node: string): Promise<string> {
  const child = spawn(node, ["--version"], { stdio: ["ignore", "pipe", "ignore"] });
  let text = "";
  child.stdout.on("data", (d: Buffer) => (text += d.toString()));
  await new Promise((r) => child.once("exit", r));
  return text.trim();
}

/** One daemon (this Node, shipped build) for gcheck members to ask. */
async function daemonForGcheck(setup: Setup): Promise<{ address: string; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(setup.dir, "server-"));
  const addrFile = join(dataDir, "cli-addr");
  const child = spawn(process.execPath, [dist("src/daemon/bin.js"), "-bind", "127.0.0.1:0", "-cli-bind", "127.0.0.1:0", "-data-dir", dataDir, "-cli-addr-file", addrFile], { stdio: "ignore" });
  const exited = new Promise((r) => child.once("exit", r));
  const t0 = performance.now();
  while (!existsSync(addrFile) || readFileSync(addrFile, "utf8").trim() === "") {
    if (child.exitCode !== null || performance.now() - t0 > DAEMON_START_TIMEOUT_MS) throw new Error("bench startup_daemon: the daemon gcheck members asks did not start");
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    address: readFileSync(addrFile, "utf8").trim(),
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
