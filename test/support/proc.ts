/**
 * Helpers for tests that run the built daemon and CLI as real processes
 * (dist/src/daemon/bin.js, dist/src/cli/gcheck.cjs): spawn a daemon on
 * ephemeral loopback ports and learn its control address from its startup
 * log line, run gcheck and collect its output, wait for a condition with a
 * deadline. Every daemon started here is stopped by PID when the test
 * process exits, even if a test forgot.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file runs from dist/test/support/). */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const DAEMON_BIN = join(ROOT, "dist/src/daemon/bin.js");
export const GCHECK_BIN = join(ROOT, "dist/src/cli/gcheck.cjs");

const live = new Set<ChildProcess>();
/** stop() sends SIGKILL this long (ms) after its signal if the daemon is still running. */
const STOP_KILL_AFTER_MS = 30_000;
process.on("exit", () => {
  for (const child of live) if (child.exitCode === null && child.pid) process.kill(child.pid, "SIGKILL");
});

/** Polls cond every 20 ms until it holds; throws naming `what` after timeoutMs. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DaemonProc {
  pid: number;
  /** host:port of the control API (from the startup line; null with -no-cli). */
  cliAddress: string | null;
  /** The parsed startup log line. */
  startup: Record<string, unknown>;
  /** Temporary data dir created for it (removed on stop) unless -data-dir was given. */
  dataDir: string | undefined;
  stdout(): string;
  stderr(): string;
  /** Parsed JSON log lines so far (non-JSON lines skipped). */
  logLines(): Record<string, unknown>[];
  readonly exited: Promise<Exited>;
  /** SIGTERM (or sig), then waits for the exit. */
  stop(sig?: NodeJS.Signals): Promise<Exited>;
  kill9(): Promise<Exited>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the startup line (ms). */
  startTimeoutMs?: number;
  /** Run with args exactly as given: no -bind, -cli-bind or -data-dir added (a config file supplies them). */
  bare?: boolean;
}

/** Output and exit of a process that ended before it was up (e.g. a flag error). */
export class EarlyExit extends Error {
  constructor(
    readonly exited: Exited,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`gossipcheckd exited before starting (code ${exited.code}, signal ${exited.signal}): ${stderr.trim() || stdout.trim()}`);
  }
}

function track(child: ChildProcess): { out: () => string; err: () => string; exited: Promise<Exited> } {
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (err += s));
  live.add(child);
  const exited = new Promise<Exited>((resolve) =>
    child.on("close", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  return { out: () => out, err: () => err, exited };
}

function parseLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const l of text.split("\n")) {
    try {
      const v = JSON.parse(l) as unknown;
      if (v && typeof v === "object") lines.push(v as Record<string, unknown>);
    } catch {
      // not a JSON log line
    }
  }
  return lines;
}

/**
 * Starts gossipcheckd with args. Unless given, -bind 127.0.0.1:0,
 * -cli-bind 127.0.0.1:0 and a fresh -data-dir are added, so parallel tests
 * never collide. Resolves once the startup line is logged; rejects with
 * EarlyExit if the daemon exits first.
 */
export async function spawnDaemon(args: string[] = [], opts: SpawnOptions = {}): Promise<DaemonProc> {
  const has = (flag: string) => args.some((a) => a === flag || a === `-${flag}` || a.startsWith(`${flag}=`) || a.startsWith(`-${flag}=`));
  const full = [...args];
  if (!has("-bind") && !opts.bare) full.push("-bind", "127.0.0.1:0");
  if (!has("-cli-bind") && !has("-no-cli") && !opts.bare) full.push("-cli-bind", "127.0.0.1:0");
  const dataDir = has("-data-dir") || opts.bare ? undefined : mkdtempSync(join(tmpdir(), "gcd-test-"));
  if (dataDir) full.push("-data-dir", dataDir);
  const child = spawn(process.execPath, [DAEMON_BIN, ...full], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...opts.env } });
  const t = track(child);
  const startup = () => parseLines(t.out()).find((l) => typeof l.msg === "string" && l.msg.startsWith("gossipcheckd ") && "cli" in l);
  let ended: Exited | undefined;
  void t.exited.then((e) => (ended = e));
  try {
    await waitFor(() => startup() !== undefined || ended !== undefined, opts.startTimeoutMs ?? 10_000, "the daemon's startup line");
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  if (!startup()) {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw new EarlyExit(ended!, t.out(), t.err());
  }
  const line = startup()!;
  const stop = async (sig: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    // A daemon that outlives its own shutdown grace (10 s) by far is stuck: kill it rather than hang the test run.
    const kill = setTimeout(() => child.kill("SIGKILL"), STOP_KILL_AFTER_MS);
    const e = await t.exited;
    clearTimeout(kill);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    return e;
  };
  return {
    pid: child.pid!,
    cliAddress: typeof line.cli === "string" ? line.cli : null,
    startup: line,
    dataDir,
    stdout: t.out,
    stderr: t.err,
    logLines: () => parseLines(t.out()),
    exited: t.exited,
    stop,
    kill9: () => stop("SIGKILL"),
  };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Written to the process's standard input, which is then closed (without it, stdin is /dev/null). */
  input?: string | Buffer;
}

/** Runs a built entry point to completion (killed after timeoutMs). */
export async function runNode(bin: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"], env: { ...process.env, ...opts.env } });
  const t = track(child);
  child.stdin?.on("error", () => {}); // a process that exits without reading: its exit is what the test judges
  child.stdin?.end(opts.input);
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  const e = await t.exited;
  clearTimeout(timer);
  return { ...e, stdout: t.out(), stderr: t.err() };
}

/** Runs gcheck with args; GOSSIPCHECK_SERVER / GOSSIPCHECK_TOKEN from the caller's env are not inherited. */
export function runGcheck(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const env = { ...process.env, GOSSIPCHECK_SERVER: undefined, GOSSIPCHECK_TOKEN: undefined, ...opts.env };
  return runNode(GCHECK_BIN, args, { ...opts, env });
}

/** Runs gossipcheckd expecting it to exit by itself (flag errors, refusals). */
export function runDaemonToExit(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return runNode(DAEMON_BIN, args, opts);
}

/** A temporary directory removed by the returned cleanup function. */
export function tempDir(prefix = "gc-test-"): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** The events of an NDJSON response body, one parsed line each. */
export async function ndjsonEvents<T>(res: Response): Promise<T[]> {
  return (await res.text())
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as T);
}

/** Resident memory of a process (bytes), from /proc/PID/status (Linux); 0 when it has gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** NODE_DEBUG for a run whose stderr loadedPackages reads. */
export const LOAD_DEBUG = "module,esm";

/**
 * The packages a run with NODE_DEBUG=LOAD_DEBUG loaded: from node_modules
 * (NODE_DEBUG=module names each file), or inlined in a file of the bundles
 * that it loaded (NODE_DEBUG=esm names the file; scripts/build-bins.mjs lists
 * each file's packages in dist/src/bundle/packages.json).
 */
export function loadedPackages(stderr: string): Set<string> {
  const inlined = JSON.parse(readFileSync(join(ROOT, "dist/src/bundle/packages.json"), "utf8")) as Record<string, string[]>;
  const loaded = new Set([...stderr.matchAll(/node_modules\/((?:@[^/]+\/)?[^/"]+)\//g)].map((m) => m[1]!));
  for (const m of stderr.matchAll(/dist\/src\/([a-z]+\/[^\s/"']+\.js)/g)) for (const p of inlined[m[1]!] ?? []) loaded.add(p);
  return loaded;
}
