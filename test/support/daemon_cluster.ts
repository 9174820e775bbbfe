/**
 * Small clusters of real gossipcheckd processes on loopback for the daemon
 * and `gcheck keys` tests: each node on ephemeral ports (-bind and -cli-bind
 * port 0), the fast `local` membership profile, its own data dir; the
 * others join through the first. Conditions are awaited with deadlines.
 */
import type { DaemonInfo, MemberView, MembersResponse } from "../../src/control/api_types.js";
import { type DaemonProc, spawnDaemon, waitFor } from "./proc.js";

export interface ClusterNode {
  name: string;
  proc: DaemonProc;
  /** Cluster address (host:port, the real port). */
  address: string;
  /** Control API address. */
  cli: string;
}

/** Starts one node; extra args come after the defaults, so they can add -peers, -key-file, -data-dir... */
export async function startClusterNode(name: string, args: string[] = []): Promise<ClusterNode> {
  const proc = await spawnDaemon(["-name", name, "-profile", "local", ...args]);
  const address = proc.startup.address;
  if (typeof address !== "string" || address.endsWith(":0")) throw new Error(`${name}: no real cluster address in the startup line ${JSON.stringify(proc.startup)}`);
  return { name, proc, address, cli: proc.cliAddress! };
}

/**
 * Starts names[0] as the seed, then the others joining it, all with args. If
 * one fails to start, the ones that did are stopped before the error is
 * rethrown: a caller never learns of them, and a daemon left running keeps
 * the test process (and CI) from ever exiting.
 */
export async function startCluster(names: string[], args: (name: string) => string[] = () => []): Promise<ClusterNode[]> {
  const seed = await startClusterNode(names[0]!, args(names[0]!));
  const rest = await Promise.allSettled(names.slice(1).map((n) => startClusterNode(n, ["-peers", seed.address, ...args(n)])));
  const failed = rest.find((r) => r.status === "rejected");
  if (failed) {
    await stopAll([seed, ...rest.map((r) => (r.status === "fulfilled" ? r.value : undefined))]);
    throw failed.reason;
  }
  return [seed, ...rest.map((r) => (r as PromiseFulfilledResult<ClusterNode>).value)];
}

async function getJson<T>(cli: string, path: string): Promise<T> {
  const res = await fetch(`http://${cli}${path}`);
  if (res.status !== 200) throw new Error(`GET ${path} on ${cli}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function membersOf(node: ClusterNode): Promise<MemberView[]> {
  return (await getJson<MembersResponse>(node.cli, "/v1/members")).members;
}

export async function infoOf(node: ClusterNode): Promise<DaemonInfo> {
  return getJson<DaemonInfo>(node.cli, "/v1/info");
}

/** "name:status" of every member a node lists, sorted: easy to compare. */
export async function viewOf(node: ClusterNode): Promise<string[]> {
  return (await membersOf(node)).map((m) => `${m.name}:${m.status}`).sort();
}

/** Waits until every node in `observers` lists exactly `expected` ("name:status", any order). */
export async function waitForView(observers: ClusterNode[], expected: string[], timeoutMs = 10_000): Promise<void> {
  const want = JSON.stringify(expected.slice().sort());
  let last: string[] = [];
  try {
    await waitFor(
      async () => {
        const views = await Promise.all(observers.map(viewOf));
        last = views.map((v, i) => `${observers[i]!.name}: ${JSON.stringify(v)}`).filter((_, i) => JSON.stringify(views[i]) !== want);
        return last.length === 0;
      },
      timeoutMs,
      `every observer to list ${want}`,
    );
  } catch (err) {
    // Which observer saw what: without it a timeout says nothing about the cause.
    throw new Error(`${(err as Error).message}; still differing: ${last.join("; ")}`, { cause: err });
  }
}

export async function stopAll(nodes: (ClusterNode | undefined)[]): Promise<void> {
  await Promise.all(nodes.map((n) => n?.proc.stop()));
}

/** The sum of every series of a metric on a node's /metrics whose line starts with `prefix` (a name, or a name with labels). */
export async function metricTotal(node: ClusterNode, prefix: string): Promise<number> {
  const text = await (await fetch(`http://${node.cli}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(prefix))
    .reduce((n, l) => n + Number(l.split(" ").pop()), 0);
}
