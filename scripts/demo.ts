/**
 * `npm run demo`: a local gossipcheck cluster in one command. Starts five
 * gossipcheckd daemons (demo-1..demo-5) on 127.0.0.1 with free ports, temp
 * data dirs and the fast `local` membership profile, waits until every one
 * lists all five alive, runs `gcheck check` with examples/checks/demo.json
 * against demo-1 (the batch spreads to all five, each runs it, every result
 * comes back to demo-1), then stops the daemons gracefully (SIGTERM: each
 * leaves the cluster) and removes their directories.
 *
 *   node dist/scripts/demo.js [--file F] [--keep]
 *     --file F  another check file (default examples/checks/demo.json)
 *     --keep    leave the cluster running until Ctrl-C, to try gcheck on it
 *
 * Exit 0 when the cluster came up and every node answered (failing checks
 * are results to show, not a failure of the demo); 1 with a message when
 * the cluster could not start or a node never answered; 2 on a bad flag.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { readFileSync, rmSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { type Cluster, allAlive, startCluster, waitForViews } from "../test/support/cluster.js";
import { GCHECK_BIN, ROOT } from "../test/support/proc.js";

const SIZE = 5;
/** The demo file's check whose path the demo removes first, so its action's fix shows every time. */
const MARKER_CHECK = "demo_marker_exists";

interface DemoFlags {
  file: string;
  keep: boolean;
}

function parseFlags(argv: string[]): DemoFlags | string {
  const flags: DemoFlags = { file: join(ROOT, "examples/checks/demo.json"), keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--keep" || a === "-keep") flags.keep = true;
    else if ((a === "--file" || a === "-file") && argv[i + 1] !== undefined) flags.file = argv[++i]!;
    else if (/^--?file=/.test(a)) flags.file = a.slice(a.indexOf("=") + 1);
    else return `demo: unknown argument "${a}"; usage: node dist/scripts/demo.js [--file checks.json] [--keep]`;
  }
  return flags;
}

/** Removes the marker file the demo's fixable check looks for; returns its path (or undefined). */
function removeMarker(file: string): string | undefined {
  let checks: Record<string, { type?: unknown; path?: unknown }>;
  try {
    checks = JSON.parse(readFileSync(file, "utf8")) as typeof checks;
  } catch {
    return undefined; // gcheck reports an unreadable or invalid file itself, naming the problem
  }
  const marker = checks?.[MARKER_CHECK];
  if (marker?.type !== "file_exists" || typeof marker.path !== "string") return undefined;
  rmSync(marker.path, { force: true });
  return marker.path;
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/** Runs gcheck with the terminal attached (live progress line, table) and returns its exit code. */
function gcheck(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GCHECK_BIN, ...args], { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function printCluster(cluster: Cluster): void {
  const rows = cluster.nodes.map((n) => [n.name, n.address, n.cliAddress, String(n.pid), n.dir]);
  const header = ["NODE", "CLUSTER (UDP+TCP)", "CONTROL API", "PID", "DIRECTORY (data, log)"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows])
    console.log(
      "  " +
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
    );
}

/** gossipcheckd's default control API port (-cli-bind 127.0.0.1:5924). */
const DEFAULT_UI_PORT = 5924;
/** The NodNod endpoint the demo offers with --keep (when free). */
const DEFAULT_NODNOD_PORT = 7070;

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  if (typeof flags === "string") {
    console.error(flags);
    return 2;
  }
  const gcheckCmd = `node ${shown(GCHECK_BIN)}`;
  console.log(`gossipcheck demo: ${SIZE} daemons on this machine, one check file, results from every node.\n`);
  const marker = removeMarker(flags.file);

  console.log(`Starting demo-1 (the seed), then demo-2..demo-${SIZE} joining it, on 127.0.0.1 with -profile local ...`);
  let cluster: Cluster;
  let nodnodPort = 0;
  try {
    // With --keep, demo-1's control API (and web view) is on the default address when it is free, so http://127.0.0.1:5924/ui/ works.
    const uiPort = flags.keep && (await portFree(DEFAULT_UI_PORT)) ? DEFAULT_UI_PORT : 0;
    if (flags.keep && uiPort === 0) console.log(`  (127.0.0.1:${DEFAULT_UI_PORT} is taken, so demo-1's control API gets a free port: the link below names it)`);
    // And a NodNod endpoint on it, for NodNod's clients.
    nodnodPort = flags.keep && (await portFree(DEFAULT_NODNOD_PORT)) ? DEFAULT_NODNOD_PORT : 0;
    const seedArgs = [...(uiPort ? ["-cli-bind", `127.0.0.1:${uiPort}`] : []), ...(nodnodPort ? ["-nodnod-bind", `127.0.0.1:${nodnodPort}`] : [])];
    cluster = await startCluster(SIZE, { namePrefix: "demo-", profile: "local", logLevel: "info", argsFor: (i) => (i === 0 ? seedArgs : []) });
  } catch (e) {
    console.error(`demo: the cluster could not start: ${(e as Error).message}`);
    console.error("demo: did the build run (npm ci, or npm run build)? Is 127.0.0.1 usable?");
    return 1;
  }
  const stop = async () => {
    console.log("\nStopping the cluster (SIGTERM: each daemon leaves gracefully) ...");
    await cluster.close("SIGTERM");
    console.log("Stopped; the daemons' directories are removed.");
  };
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal);

  try {
    printCluster(cluster);
    const tty = process.stdout.isTTY === true;
    const started = Date.now();
    try {
      await waitForViews(cluster.nodes, allAlive(cluster.names), {
        timeoutMs: 20_000,
        what: `all ${SIZE} daemons list each other alive`,
        onProgress: (n, total) => tty && process.stdout.write(`\r  membership: ${n}/${total} daemons list all ${total} alive`),
      });
    } catch (e) {
      if (tty) process.stdout.write("\n");
      console.error(`demo: the daemons did not form one cluster: ${(e as Error).message}`);
      console.error(`demo: their logs:\n${cluster.logs()}`);
      return 1;
    }
    if (tty) process.stdout.write("\r\x1b[2K");
    console.log(`  membership: all ${SIZE} daemons list each other alive (${Date.now() - started} ms after the last one started)\n`);

    const seed = cluster.seed;
    const args = ["-server", seed.cliAddress, "-file", shown(flags.file), "check"];
    console.log(`Running the checks on every node, through ${seed.name}:\n$ ${gcheckCmd} ${args.join(" ")}\n`);
    const code = await gcheck(args);
    console.log("");
    if (code === 2 || code === 3 || code > 3) {
      console.error(`demo: gcheck check exited ${code}: ${code === 3 ? "some nodes never answered" : "see its message above"}`);
      if (code === 3) console.error(`demo: the daemons' logs:\n${cluster.logs()}`);
      return 1;
    }
    console.log(`The batch went to ${seed.name}, spread over TCP to the other ${SIZE - 1} daemons, ran once on each, and every node's results came back to ${seed.name}.`);
    if (marker)
      console.log(
        `${MARKER_CHECK}: the demo removed ${marker} first; its action created it again, so it shows FIXED (a node that checks after another node's fix may show PASS: all five share this host).`,
      );
    console.log(`gcheck exited ${code} (${code === 0 ? "every check passed or was fixed" : "some check failed: a CI job would stop here"}).\n`);

    if (flags.keep && !interrupted) {
      console.log(`The cluster keeps running. Open the live view (members, stats, batches) in a browser:`);
      console.log(`  http://${seed.cliAddress}/ui/`);
      console.log(`Or try, in another shell:`);
      console.log(`  ${gcheckCmd} -server ${seed.cliAddress} members -watch`);
      console.log(`  ${gcheckCmd} -server ${seed.cliAddress} members`);
      console.log(`  ${gcheckCmd} -server ${cluster.nodes[2]!.cliAddress} -file ${shown(flags.file)} check -output json`);
      console.log(`  curl -s http://${seed.cliAddress}/v1/info`);
      console.log(`  curl -N http://${seed.cliAddress}/v1/streams/members          # the live streams the page reads`);
      if (nodnodPort)
        console.log(
          `  node -e 'const ws = new (require("ws"))("ws://127.0.0.1:${nodnodPort}/"); ws.on("open", () => ws.send(JSON.stringify({type: 1, statType: 0}))); ws.on("message", (m) => { console.log(m.toString()); ws.close(); })'   # a NodNod client: every node's stats`,
        );
      console.log(`  kill -9 ${cluster.nodes[4]!.pid}   # then watch members: ${cluster.nodes[4]!.name} turns suspect, then dead`);
      console.log(`Press Ctrl-C to stop it.`);
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => interrupted && (clearInterval(poll), resolve()), 100);
      });
    } else {
      console.log(`To try gcheck against a running cluster: npm run demo -- --keep, then e.g. ${gcheckCmd} -server <control API> members`);
    }
    return interrupted ? 130 : 0;
  } finally {
    await stop();
  }
}

/** Whether 127.0.0.1:port can be listened on now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

process.exitCode = await main();
