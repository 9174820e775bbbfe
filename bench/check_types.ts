/*
 * Check types benchmark (issue 13): a batch of 1000 checks mixing the
 * registered types (no command or nagios), the cost of each type per check,
 * and a batch of 100 `command` checks. Everything is local: the tcp, port and
 * http checks talk to loopback servers this module opens, dns resolves
 * localhost. Checks are built as check-file objects and parsed, so they are
 * what a check file would give the runner.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DEFAULT_CONCURRENCY, parseCheckObject, runBatch, type CheckResult, type CheckSpec } from "../src/checks/index.js";
import { percentile, type BenchSection } from "./report.js";

const MIXED_SIZE = 1000;
const MIXED_RUNS = 30;
const PER_TYPE_SIZE = 200;
const PER_TYPE_RUNS = 5;
const COMMAND_SIZE = 100;
const COMMAND_RUNS = 10;

type CheckObject = Record<string, unknown>;

interface Fixture {
  dir: string;
  smallFile: string;
  sha256: string;
  tcpPort: number;
  httpPort: number;
}

/** One check object of each type, the i-th of its kind (some vary so that not every check asks the same thing). */
function makers(f: Fixture): Record<string, (i: number) => CheckObject> {
  return {
    file: (i) => (i % 2 === 0 ? { type: "file", path: f.smallFile, mode: "0644", filetype: "file", size: 12, sha256: f.sha256 } : { type: "file", path: join(f.dir, `missing-${i}`), exists: false }),
    port: () => ({ type: "port", port: `tcp:${f.tcpPort}`, ip: "127.0.0.1" }),
    kernel_param: (i) => (i % 2 === 0 ? { type: "kernel_param", key: "net.ipv4.ip_forward" } : { type: "kernel_param", key: "kernel.ostype", value: "Linux" }),
    mount: () => ({ type: "mount", path: "/" }),
    user: (i) => (i % 2 === 0 ? { type: "user", user: "root", uid: 0 } : { type: "user", user: `no-such-user-${i}`, exists: false }),
    group: (i) => (i % 2 === 0 ? { type: "group", group: "root", gid: 0 } : { type: "group", group: `no-such-group-${i}`, exists: false }),
    package: (i) => (i % 2 === 0 ? { type: "package", package: "bash" } : { type: "package", package: `no-such-package-${i}`, installed: false }),
    disk_usage: () => ({ type: "disk_usage", path: f.dir, max_used_percent: 100 }),
    memory: () => ({ type: "memory", min_available_percent: 0 }),
    load: () => ({ type: "load", max_per_cpu_1m: 1e6 }),
    tcp: () => ({ type: "tcp", address: `127.0.0.1:${f.tcpPort}` }),
    http: () => ({ type: "http", url: `http://127.0.0.1:${f.httpPort}/health`, body_contains: "ok" }),
    dns: () => ({ type: "dns", name: "localhost" }),
  };
}

function parsed(objects: CheckObject[]): CheckSpec[] {
  const doc: Record<string, CheckObject> = {};
  objects.forEach((o, i) => (doc[`${String(o.type)}_${i}`] = o));
  const r = parseCheckObject(doc, "bench/check_types.ts");
  if (!r.ok) throw new Error(`bench: invalid checks: ${r.errors.slice(0, 3).join("; ")}`);
  return r.checks;
}

/** Runs the batch `runs` times with the default concurrency and no actions; throws if a check does not pass (the bench must measure the path a healthy check takes). */
async function timeBatch(checks: CheckSpec[], runs: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const results = await runBatch(checks, { batchId: "bench", node: "bench", runActions: false });
    ms.push(performance.now() - t0);
    assertPassed(results);
  }
  return ms;
}

function assertPassed(results: CheckResult[]): void {
  const bad = results.find((r) => r.status !== "pass");
  if (bad) throw new Error(`bench: check ${bad.name} gave ${bad.status}: ${bad.message}`);
}

async function listen(server: TcpServer | HttpServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return (server.address() as AddressInfo).port;
}

function close(server: TcpServer | HttpServer): Promise<void> {
  if ("closeAllConnections" in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function run(): Promise<BenchSection[]> {
  const dir = await mkdtemp(join(tmpdir(), "gossipcheck-bench-types-"));
  const sockets = new Set<Socket>();
  const tcp = createTcpServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    s.end();
  });
  const http = createHttpServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok\n");
  });
  try {
    const smallFile = join(dir, "small.conf");
    const content = "key = value\n";
    await writeFile(smallFile, content, { mode: 0o644 });
    const fixture: Fixture = { dir, smallFile, sha256: createHash("sha256").update(content).digest("hex"), tcpPort: await listen(tcp), httpPort: await listen(http) };
    const make = makers(fixture);
    const types = Object.keys(make);
    return [await mixed(make, types), await perType(make, types), await commands()];
  } finally {
    for (const s of sockets) s.destroy();
    await Promise.all([close(tcp), close(http)]);
    await rm(dir, { recursive: true, force: true });
  }
}

async function mixed(make: Record<string, (i: number) => CheckObject>, types: string[]): Promise<BenchSection> {
  const checks = parsed(Array.from({ length: MIXED_SIZE }, (_, i) => make[types[i % types.length]!]!(Math.floor(i / types.length))));
  await timeBatch(checks, 1); // warm-up: JIT, page cache, the tools' binaries
  const ms = await timeBatch(checks, MIXED_RUNS);
  const f = (v: number) => v.toFixed(1);
  return {
    title: `${MIXED_SIZE} mixed checks of the registered types, evaluated locally (runBatch, concurrency ${DEFAULT_CONCURRENCY}, no actions)`,
    columns: ["batch", `p50 ms (${MIXED_RUNS} runs)`, "p90 ms", "max ms"],
    rows: [[`${MIXED_SIZE} checks, ${types.length} types round-robin`, f(percentile(ms, 50)), f(percentile(ms, 90)), f(Math.max(...ms))]],
    notes: [
      "Target: p50 <= 150 ms per batch.",
      `Types: ${types.join(", ")} (about ${Math.round(MIXED_SIZE / types.length)} each); no command or nagios.`,
      "tcp, port and http go to loopback servers the bench opens; dns resolves localhost; file checks mode, filetype, size and sha256 of a 12-byte file.",
      "Every check must pass (the bench stops otherwise); one warm-up batch is not counted.",
    ],
  };
}

async function perType(make: Record<string, (i: number) => CheckObject>, types: string[]): Promise<BenchSection> {
  const rows: (string | number)[][] = [];
  for (const type of types) {
    const checks = parsed(Array.from({ length: PER_TYPE_SIZE }, (_, i) => make[type]!(i)));
    await timeBatch(checks, 1);
    const ms = await timeBatch(checks, PER_TYPE_RUNS);
    const p50 = percentile(ms, 50);
    rows.push([type, p50.toFixed(1), ((p50 / PER_TYPE_SIZE) * 1000).toFixed(0)]);
  }
  rows.sort((a, b) => Number(b[2]) - Number(a[2]));
  return {
    title: `Cost of each check type (a batch of ${PER_TYPE_SIZE} of one type, concurrency ${DEFAULT_CONCURRENCY})`,
    columns: ["type", `batch p50 ms (${PER_TYPE_RUNS} runs)`, "µs per check (p50 / 200)"],
    rows,
    notes: [
      "Per check = wall time of the batch divided by its size, so it includes the concurrency: a type that waits (a spawned tool, a socket) costs less per check than its latency.",
      "Half of the file, user, group and package checks look for something absent (a missing file, an unknown user/group/package).",
    ],
  };
}

async function commands(): Promise<BenchSection> {
  const checks = parsed(Array.from({ length: COMMAND_SIZE }, () => ({ type: "command", command: "true" })));
  await timeBatch(checks, 1);
  const ms = await timeBatch(checks, COMMAND_RUNS);
  return {
    title: `${COMMAND_SIZE} command checks ("true"), runBatch, concurrency ${DEFAULT_CONCURRENCY}`,
    columns: ["batch", `p50 ms (${COMMAND_RUNS} runs)`, "max ms"],
    rows: [[`${COMMAND_SIZE} x command "true"`, percentile(ms, 50).toFixed(1), Math.max(...ms).toFixed(1)]],
    notes: ["Target: <= 1 s per batch. Each check spawns /bin/sh -c true."],
  };
}
