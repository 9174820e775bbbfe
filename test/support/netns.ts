/**
 * A network segment of Linux network namespaces for tests that need real
 * interfaces (multicast, broadcast): one namespace holds a bridge, and each
 * host namespace has an eth0 (one end of a veth pair whose other end is a
 * port of the bridge) with an address in 10.77.0.0/24, a route for
 * 224.0.0.0/4 on eth0, and lo up. Names carry the test's PID, so parallel
 * runs never clash, and nothing is added to the test's own namespace.
 *
 * Needs root and iproute2's `ip`; netnsUnavailable() says why not, for a
 * skip. Processes are started in a namespace with `ip netns exec`, which
 * execs the command in place: the PID is the command's own. remove()
 * deletes the namespaces this segment created (their interfaces go with
 * them), and also runs when the test process exits. NsHttp queries a
 * server inside a namespace (its loopback, say) through one long-lived
 * helper process there, instead of a process per request.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { existsSync } from "node:fs";

const IP_PATHS = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"];

function ipBinary(): string | undefined {
  return IP_PATHS.find((p) => existsSync(p));
}

/** Why namespaces cannot be made here (a reason to skip), or null when they can be tried. */
export function netnsUnavailable(): string | null {
  if (process.platform !== "linux") return "network namespaces are Linux only";
  if (process.getuid?.() !== 0) return "creating network namespaces needs root (CI runs as root)";
  if (!ipBinary()) return `iproute2's ip is not installed (looked in ${IP_PATHS.join(", ")})`;
  return null;
}

/** Runs `ip ARGS`; throws with ip's own error message (e.g. "Operation not permitted") when it fails. */
export function ip(args: string[]): string {
  try {
    return execFileSync(ipBinary()!, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(" ")} failed: ${(e.stderr ?? "").trim() || e.message}`);
  }
}

export interface Host {
  /** The namespace's name. */
  ns: string;
  /** eth0's IPv4 address. */
  address: string;
}

export class Segment {
  readonly hosts: Host[] = [];
  private readonly created: string[] = [];
  private readonly bridgeNs: string;
  private readonly onExit = () => this.remove();

  /** prefix: short, distinct per test file (namespace names are prefix + PID + index). */
  constructor(private readonly prefix: string) {
    this.bridgeNs = `${prefix}${process.pid}br`;
    process.on("exit", this.onExit);
    this.addNs(this.bridgeNs);
    ip(["-n", this.bridgeNs, "link", "add", "br0", "type", "bridge"]);
    // No STP delay, no multicast snooping: a port forwards at once, and the group reaches every port without IGMP reports.
    ip(["-n", this.bridgeNs, "link", "set", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0", "mcast_snooping", "0"]);
    ip(["-n", this.bridgeNs, "link", "set", "br0", "up"]);
  }

  /** Adds a host namespace on the segment with address 10.77.0.(index + 1). */
  addHost(): Host {
    const i = this.hosts.length + 1;
    if (i > 250) throw new Error("a segment holds at most 250 hosts");
    const ns = `${this.prefix}${process.pid}h${i}`;
    const address = `10.77.0.${i}`;
    this.addNs(ns);
    ip(["link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", `p${i}`, "netns", this.bridgeNs]);
    ip(["-n", this.bridgeNs, "link", "set", `p${i}`, "master", "br0"]);
    ip(["-n", this.bridgeNs, "link", "set", `p${i}`, "up"]);
    ip(["-n", ns, "addr", "add", `${address}/24`, "dev", "eth0"]);
    ip(["-n", ns, "link", "set", "eth0", "up"]);
    ip(["-n", ns, "link", "set", "lo", "up"]);
    ip(["-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0"]);
    const host = { ns, address };
    this.hosts.push(host);
    return host;
  }

  /** The argv that runs command in a host's namespace (for spawn). */
  static execArgv(host: Host, command: string[]): [string, string[]] {
    return [ipBinary()!, ["netns", "exec", host.ns, ...command]];
  }

  /** Deletes every namespace this segment created; safe to call twice. */
  remove(): void {
    process.off("exit", this.onExit);
    for (const ns of this.created.splice(0).reverse()) spawnSync(ipBinary()!, ["netns", "del", ns], { stdio: "ignore", timeout: 10_000 });
  }

  private addNs(ns: string): void {
    ip(["netns", "add", ns]);
    this.created.push(ns);
  }
}

// The helper NsHttp runs in the namespace: one GET per line of standard input, one JSON line of answer each, in order.
const HELPER = `
const lines = require("node:readline").createInterface({ input: process.stdin });
let chain = Promise.resolve();
lines.on("line", (url) => {
  chain = chain.then(async () => {
    let answer;
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(4000) });
      answer = { status: r.status, body: await r.text() };
    } catch (e) {
      answer = { status: 0, body: String(e) };
    }
    process.stdout.write(JSON.stringify(answer) + "\\n");
  });
});
`;

/** HTTP GETs from inside a host's namespace, through one helper process (closed by close(), by its PID). */
export class NsHttp {
  private readonly child: ChildProcess;
  private readonly waiting: ((line: string) => void)[] = [];

  constructor(host: Host) {
    const [bin, args] = Segment.execArgv(host, [process.execPath, "-e", HELPER]);
    this.child = spawn(bin, args, { stdio: ["pipe", "pipe", "ignore"] });
    createInterface({ input: this.child.stdout! }).on("line", (line) => this.waiting.shift()?.(line));
    this.child.on("close", () => {
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ status: 0, body: "the helper process exited" }));
    });
  }

  /** The body of GET url; throws naming the URL unless the answer is 200. */
  async get(url: string): Promise<string> {
    const line = await new Promise<string>((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin!.write(url + "\n");
    });
    const a = JSON.parse(line) as { status: number; body: string };
    if (a.status !== 200) throw new Error(`GET ${url}: ${a.status === 0 ? a.body : `${a.status} ${a.body}`}`);
    return a.body;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const closed = new Promise((r) => this.child.once("close", r));
    this.child.kill("SIGKILL");
    await closed;
  }
}
