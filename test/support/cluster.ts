/**
 * A cluster of real gossipcheckd processes on loopback, shared by the cluster
 * tests (test/cluster_*.test.ts), the cluster benchmark (bench/cluster.ts)
 * and the demo (scripts/demo.ts).
 *
 * Each daemon gets its own temporary directory holding its -data-dir, its
 * -cli-addr-file and its log (stdout and stderr go straight to a file, so a
 * hundred daemons cost the parent no pipe reading and never block on a full
 * pipe). A daemon is "up" once its control API answers GET /v1/info; its
 * cluster address (port 0 resolved) comes from that answer. Every process
 * started here is stopped by PID: by Cluster.close(), and with SIGKILL when
 * the parent exits, even if a test forgot.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { Agent, type ClientRequest, request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BatchEvent, BatchRequestBody, DaemonInfo, MemberView, MembersResponse } from "../../src/control/api_types.js";
import type { MemberStatus } from "../../src/swim/types.js";
import { DAEMON_BIN, type Exited } from "./proc.js";

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, "SIGKILL");
});

// Keep-alive: pollers hit the same control APIs many times a second. An idle
// socket is dropped after 4 s, before the daemon's 5 s keep-alive timeout
// closes it from the other end (a request sent on a socket the server is
// closing fails with ECONNRESET: see isStaleSocket).
const agent = new Agent({ keepAlive: true, maxSockets: 8, timeout: 4000 });

/**
 * Whether a request failed only because the kept-alive socket it was sent on
 * had been closed by the daemon meanwhile: nothing reached the daemon, so it
 * is safe to send again (Node's documented pattern for keep-alive races).
 */
function isStaleSocket(req: ClientRequest, err: NodeJS.ErrnoException): boolean {
  return req.reusedSocket && (err.code === "ECONNRESET" || err.code === "EPIPE");
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One HTTP exchange with a control API; rejects on a non-2xx status naming the daemon and path. */
function exchange(cliAddress: string, method: "GET" | "POST", path: string, body: unknown, timeoutMs: number, retried = false): Promise<string> {
  const [host, port] = splitHostPort(cliAddress);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method, path, agent, timeout: timeoutMs, headers: payload ? { "content-type": "application/json", "content-length": payload.length } : {} }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (s: string) => (text += s));
      res.on("end", () => {
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) resolve(text);
        else reject(new Error(`${method} http://${cliAddress}${path}: HTTP ${code}: ${text.trim()}`));
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} http://${cliAddress}${path}: no answer within ${timeoutMs} ms`)));
    req.on("error", (err: NodeJS.ErrnoException) => (!retried && isStaleSocket(req, err) ? exchange(cliAddress, method, path, body, timeoutMs, true).then(resolve, reject) : reject(err)));
    req.end(payload);
  });
}

/** A GET of a JSON document (a request on a socket the daemon closed meanwhile is sent again: see exchange). */
export async function getJson<T>(cliAddress: string, path: string, timeoutMs = 5000): Promise<T> {
  return JSON.parse(await exchange(cliAddress, "GET", path, undefined, timeoutMs)) as T;
}

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(":");
  return [address.slice(0, i).replace(/^\[|\]$/g, ""), Number(address.slice(i + 1))];
}

/** A batch submitted through POST /v1/check, followed to the end of its NDJSON stream. */
export interface BatchRun {
  events: BatchEvent[];
  /** performance.now() just before the request was written, and when each event arrived (ms). */
  sentAt: number;
  arrivals: number[];
}

/** Submits a batch and collects every event until the daemon ends the stream (or timeoutMs passes). */
export function postBatch(cliAddress: string, body: BatchRequestBody, timeoutMs = 60_000, retried = false): Promise<BatchRun> {
  const [host, port] = splitHostPort(cliAddress);
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const run: BatchRun = { events: [], sentAt: 0, arrivals: [] };
    const req = request({ host, port, method: "POST", path: "/v1/check", agent, timeout: timeoutMs, headers: { "content-type": "application/json", "content-length": payload.length } }, (res) => {
      if (res.statusCode !== 200) {
        let text = "";
        res.setEncoding("utf8").on("data", (s: string) => (text += s));
        res.on("end", () => reject(new Error(`POST http://${cliAddress}/v1/check: HTTP ${res.statusCode}: ${text.trim()}`)));
        return;
      }
      let buffered = "";
      res.setEncoding("utf8").on("data", (s: string) => {
        const now = performance.now();
        buffered += s;
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === "") continue;
          run.events.push(JSON.parse(line) as BatchEvent);
          run.arrivals.push(now);
        }
      });
      res.on("end", () => resolve(run));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`POST http://${cliAddress}/v1/check: stream not finished within ${timeoutMs} ms`)));
    req.on("error", (err: NodeJS.ErrnoException) =>
      !retried && run.events.length === 0 && isStaleSocket(req, err) ? postBatch(cliAddress, body, timeoutMs, true).then(resolve, reject) : reject(err),
    );
    run.sentAt = performance.now();
    req.end(payload);
  });
}

/**
 * A loopback port that is free for both UDP and TCP right now (the daemon
 * listens on both): for a daemon whose address others must know before it
 * starts. Chosen below the kernel's ephemeral range
 * (/proc/sys/net/ipv4/ip_local_port_range), so no daemon started meanwhile on
 * port 0 and no outgoing connection can be given it: a port handed out by
 * bind(0) and released was seen taken by the next daemon that bound port 0,
 * which then answered joins meant for the seed that was to start there.
 * Another process binding that very port explicitly could still take it;
 * callers start the daemon at once. Where the range cannot be read, a
 * kernel-chosen port.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let attempt = 0; attempt < 50; attempt++) {
    const wanted = low !== undefined && low > 11_000 ? 10_000 + Math.floor(Math.random() * (low - 10_000)) : 0;
    const port = await freeBoth(wanted);
    if (port !== undefined) return port;
  }
  throw new Error("freePort: found no loopback port free for both UDP and TCP in 50 attempts");
}

/** The first port of the kernel's ephemeral range, or undefined (not Linux). */
function ephemeralLow(): number | undefined {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : undefined;
  } catch {
    return undefined;
  }
}

/** Binds `wanted` (0: any) on TCP, then the same port on UDP; the port if both were free, else undefined. */
async function freeBoth(wanted: number): Promise<number | undefined> {
  const server = createServer();
  const port = await new Promise<number | undefined>((resolve) => {
    server.once("error", () => resolve(undefined));
    server.listen(wanted, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
  });
  if (port === undefined) return undefined;
  const udp = createSocket("udp4");
  const udpFree = await new Promise<boolean>((resolve) => {
    udp.once("error", () => resolve(false));
    udp.bind(port, "127.0.0.1", () => resolve(true));
  });
  await new Promise<void>((r) => udp.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
  return udpFree ? port : undefined;
}

export interface NodeOptions {
  name: string;
  /** Cluster port to bind on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** Seeds (host:port) to join through. */
  peers?: string[];
  /** SWIM timing profile (default local). */
  profile?: "local" | "lan";
  /** Daemon log level (default warn: a big cluster logs little). */
  logLevel?: string;
  /** Further flags, e.g. ["-key-file", f] or ["-tag", "role=web"]. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the control API to answer (ms, default 20 s). */
  startTimeoutMs?: number;
  /** Another Node binary and the daemon's bin.js in a tree prepared for it (bench/runtime_tree.ts); default this process's Node and dist/. */
  runtime?: Runtime;
}

export interface Runtime {
  node: string;
  daemonBin: string;
}

/** A running (or stopped) daemon process and its files. */
export class ClusterNode {
  /** Cluster address (host:port) and Date.now() when the control API first answered. */
  address = "";
  upAtMs = 0;
  private exit: Exited | undefined;
  readonly exited: Promise<Exited>;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    /** Temporary directory holding data/, cli.addr and daemon.log. */
    readonly dir: string,
    /** Control API host:port (known once the daemon is up). */
    public cliAddress = "",
  ) {
    this.exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => {
        live.delete(child);
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get logFile(): string {
    return join(this.dir, "daemon.log");
  }

  /** The daemon's output so far (its last `maxChars` characters). */
  log(maxChars = 4000): string {
    try {
      return readFileSync(this.logFile, "utf8").slice(-maxChars);
    } catch {
      return "";
    }
  }

  /** Sends sig (default SIGTERM) and waits for the exit; SIGKILL after killAfterMs. */
  async stop(sig: NodeJS.Signals = "SIGTERM", killAfterMs = 10_000): Promise<Exited> {
    if (this.running) this.child.kill(sig);
    const timer = setTimeout(() => this.running && this.child.kill("SIGKILL"), killAfterMs);
    const e = await this.exited;
    clearTimeout(timer);
    return e;
  }

  kill9(): Promise<Exited> {
    return this.stop("SIGKILL");
  }

  info(): Promise<DaemonInfo> {
    return getJson<DaemonInfo>(this.cliAddress, "/v1/info");
  }

  members(): Promise<MembersResponse> {
    return getJson<MembersResponse>(this.cliAddress, "/v1/members");
  }

  /** Removes the temporary directory (only once the process has exited). */
  removeDir(): void {
    if (!this.running) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts one gossipcheckd on 127.0.0.1 and resolves once its control API
 * answers; rejects with the daemon's output if it exits or hangs first.
 */
export async function startNode(o: NodeOptions): Promise<ClusterNode> {
  const dir = mkdtempSync(join(tmpdir(), `gc-cluster-${o.name}-`));
  const addrFile = join(dir, "cli.addr");
  const args = [
    o.runtime?.daemonBin ?? DAEMON_BIN,
    "-name",
    o.name,
    "-bind",
    `127.0.0.1:${o.port ?? 0}`,
    "-cli-bind",
    "127.0.0.1:0",
    "-cli-addr-file",
    addrFile,
    "-data-dir",
    join(dir, "data"),
    "-profile",
    o.profile ?? "local",
    "-log-level",
    o.logLevel ?? "warn",
    ...(o.peers?.length ? ["-peers", o.peers.join(",")] : []),
    ...(o.args ?? []),
  ];
  const out = openSync(join(dir, "daemon.log"), "a");
  let child: ChildProcess;
  try {
    child = spawn(o.runtime?.node ?? process.execPath, args, { stdio: ["ignore", out, out], env: { ...process.env, ...o.env } });
  } finally {
    closeSync(out); // the child holds its own copy
  }
  live.add(child);
  const node = new ClusterNode(o.name, child, dir);
  const timeoutMs = o.startTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let lastError = "the -cli-addr-file was never written";
  for (;;) {
    if (!node.running) {
      const e = await node.exited;
      const log = node.log();
      node.removeDir();
      throw new Error(`gossipcheckd ${o.name} exited before its control API answered (code ${e.code}, signal ${e.signal}):\n${log}`);
    }
    if (existsSync(addrFile)) {
      node.cliAddress = readFileSync(addrFile, "utf8").trim();
      try {
        const info = await getJson<DaemonInfo>(node.cliAddress, "/v1/info", 2000);
        node.address = info.address;
        node.upAtMs = Date.now();
        return node;
      } catch (e) {
        lastError = (e as Error).message;
      }
    }
    if (Date.now() > deadline) {
      await node.stop("SIGKILL");
      const log = node.log();
      node.removeDir();
      throw new Error(`gossipcheckd ${o.name} did not answer on its control API within ${timeoutMs} ms (${lastError}):\n${log}`);
    }
    await sleep(20);
  }
}

export interface ClusterOptions extends Omit<NodeOptions, "name" | "port" | "peers"> {
  /** Names are `${namePrefix}1` .. `${namePrefix}${size}` (default "node-"). */
  namePrefix?: string;
  /** Per-node extra flags, after options.args (i from 0). */
  argsFor?: (i: number) => string[];
  /**
   * Start the non-seed daemons in waves of this many (default: all at once),
   * each wave once the previous one's control APIs answer, plus waveGapMs:
   * spreads the CPU of Node start-ups on a host with few cores.
   */
  waveSize?: number;
  /** Pause between two waves (ms, default 0). */
  waveGapMs?: number;
}

/** Daemons started together; close() stops every one of them. */
export class Cluster {
  constructor(readonly nodes: ClusterNode[]) {}

  get seed(): ClusterNode {
    return this.nodes[0]!;
  }

  get names(): string[] {
    return this.nodes.map((n) => n.name);
  }

  node(name: string): ClusterNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node named ${name} in this cluster (${this.names.join(", ")})`);
    return n;
  }

  running(): ClusterNode[] {
    return this.nodes.filter((n) => n.running);
  }

  /** Date.now() when the last daemon's control API answered. */
  get lastUpAtMs(): number {
    return Math.max(...this.nodes.map((n) => n.upAtMs));
  }

  /** The tail of every node's log, for a failure message. */
  logs(maxChars = 1500): string {
    return this.nodes.map((n) => `--- ${n.name} (pid ${n.pid})\n${n.log(maxChars)}`).join("\n");
  }

  /**
   * Stops every running node at once with sig (SIGKILL after killAfterMs),
   * then removes their directories. Safe to call twice.
   */
  async close(sig: NodeJS.Signals = "SIGTERM", killAfterMs = 10_000): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop(sig, killAfterMs)));
    for (const n of this.nodes) n.removeDir();
  }
}

/**
 * Starts `size` daemons: the seed first, then all the others at once (or in
 * waves: ClusterOptions.waveSize) with -peers pointing at the seed's cluster
 * address. If any fails to start, every daemon already started is killed
 * and the error is rethrown.
 */
export async function startCluster(size: number, o: ClusterOptions = {}): Promise<Cluster> {
  const prefix = o.namePrefix ?? "node-";
  const opts = (i: number, peers: string[]): NodeOptions => ({
    ...o,
    name: `${prefix}${i + 1}`,
    peers,
    args: [...(o.args ?? []), ...(o.argsFor?.(i) ?? [])],
    // Spawning many node processes at once on few cores takes a while.
    startTimeoutMs: o.startTimeoutMs ?? 20_000 + 300 * size,
  });
  const seed = await startNode(opts(0, []));
  const started: ClusterNode[] = [seed];
  const wave = Math.max(1, o.waveSize ?? size);
  for (let first = 1; first < size; first += wave) {
    if (first > 1 && o.waveGapMs) await sleep(o.waveGapMs);
    const count = Math.min(wave, size - first);
    const rest = await Promise.allSettled(Array.from({ length: count }, (_, i) => startNode(opts(first + i, [seed.address]))));
    for (const r of rest) if (r.status === "fulfilled") started.push(r.value);
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await new Cluster(started).close("SIGKILL");
      throw failed.reason;
    }
  }
  return new Cluster(started);
}

/** The status `view` gives `name`, or undefined when it does not list it. */
export function statusOf(view: MembersResponse, name: string): MemberStatus | undefined {
  return view.members.find((m: MemberView) => m.name === name)?.status;
}

/** Accepts a view that lists exactly these names alive and no other member alive. */
export function allAlive(names: readonly string[]): (view: MembersResponse) => boolean {
  return (view) => names.every((n) => statusOf(view, n) === "alive") && view.members.filter((m) => m.status === "alive").length === names.length;
}

/** A short description of a view for failure messages: "node-3: 9 alive, node-7 suspect". */
export function describeView(view: MembersResponse): string {
  const alive = view.members.filter((m) => m.status === "alive").length;
  const others = view.members.filter((m) => m.status !== "alive").map((m) => `${m.name} ${m.status}`);
  return `${view.node}: ${alive} alive${others.length ? ", " + others.join(", ") : ""}`;
}

export interface WaitOptions {
  timeoutMs: number;
  /** Time between two polls of one node (ms, default 50). */
  intervalMs?: number;
  /** Named in the timeout error: "every node lists 10 alive". */
  what: string;
  /** Called with the number of nodes that have accepted, each time it grows. */
  onProgress?: (accepted: number, total: number) => void;
}

/**
 * Polls GET /v1/members on each node until `accept` holds for its view; a
 * node that has accepted is not polled again. Resolves with the first
 * accepted view of each node (by name); on timeout, throws naming every
 * node still waiting and what it last saw.
 */
export async function waitForViews(nodes: readonly ClusterNode[], accept: (view: MembersResponse) => boolean, o: WaitOptions): Promise<Map<string, MembersResponse>> {
  const deadline = Date.now() + o.timeoutMs;
  const accepted = new Map<string, MembersResponse>();
  const last = new Map<string, string>();
  await Promise.all(
    nodes.map(async (n) => {
      while (Date.now() <= deadline) {
        try {
          const view = await n.members();
          if (accept(view)) {
            accepted.set(n.name, view);
            o.onProgress?.(accepted.size, nodes.length);
            return;
          }
          last.set(n.name, describeView(view));
        } catch (e) {
          last.set(n.name, `${n.name}: ${(e as Error).message}`);
        }
        await sleep(o.intervalMs ?? 50);
      }
    }),
  );
  const waiting = nodes.filter((n) => !accepted.has(n.name));
  if (waiting.length) {
    throw new Error(`timed out after ${o.timeoutMs} ms waiting until ${o.what}; still waiting: ${waiting.map((n) => last.get(n.name) ?? n.name).join("; ")}`);
  }
  return accepted;
}
