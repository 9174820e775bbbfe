import { systemClock } from "../base/clock.js";
import type { Logger } from "../base/logger.js";
import { systemRandom } from "../base/random.js";
import type { Result } from "../base/result.js";
import { formatHostPort } from "../cmdline/address.js";
import { Discovery, HELLO_DROPS } from "../net/discovery.js";
import { isMulticastIPv4, openDiscoverySocket } from "../net/discovery_socket.js";
import { PayloadGuard } from "../net/guard.js";
import type { Keyring } from "../net/keyring.js";
import type { LazyMetrics } from "./api/lazy_metrics.js";
import type { ClusterBackend } from "./cluster/backend.js";
import type { DiscoverOptions } from "./flags.js";

/*
 * -discover in the daemon: opens the group socket, announces this node's
 * cluster address with hellos sealed like its SWIM packets (same keyring,
 * same label), and joins the nodes it hears through the normal join path
 * (one push-pull, ClusterBackend.joinDiscovered). Its counters are the
 * gossipcheck_discovery_* metric families.
 */

export interface DiscoveryDeps {
  options: DiscoverOptions;
  name: string;
  label: string;
  /** The address this node is joined through (its -advertise). */
  address: string;
  keyring: Keyring | null;
  backend: ClusterBackend;
  log: Logger;
  metrics: LazyMetrics;
}

/** Starts announcing and listening; the error names the group and says what to check. */
export async function startDiscovery(d: DiscoveryDeps): Promise<Result<{ stop(): Promise<void> }>> {
  const { group, interfaceAddress } = d.options;
  const socket = await openDiscoverySocket({ group: group.host, port: group.port, clock: systemClock, logger: d.log, ...(interfaceAddress !== undefined && { interfaceAddress }) });
  if (!socket.ok) return { ok: false, error: `-discover-group ${formatHostPort(group)}: ${socket.error}` };
  const running = () => d.backend.members().filter((m) => m.status === "alive" || m.status === "suspect");
  const discovery = new Discovery({
    socket: socket.value,
    clock: systemClock,
    random: systemRandom,
    // A guard of its own over the node's keyring: a key rotation reaches hellos at once, as it reaches packets.
    guard: new PayloadGuard(d.keyring, d.label),
    name: d.name,
    address: d.address,
    alone: () => running().length <= 1,
    known: (name, address) => running().some((m) => m.name === name && m.address === address),
    join: (address) => d.backend.joinDiscovered(address),
    logger: d.log,
  });
  d.metrics.add((f) => {
    f.total("gossipcheck_discovery_hellos_sent_total", "Discovery hellos this node sent to its -discover-group.", () => discovery.counters().hellosSent);
    f.total("gossipcheck_discovery_hellos_received_total", "Datagrams received on the -discover-group (own hellos included).", () => discovery.counters().hellosReceived);
    f.totals("gossipcheck_discovery_hellos_dropped_total", "Hellos dropped, by reason (unopened: another key or label; self: this node's own).", ["reason"], () => {
      const dropped = discovery.counters().dropped;
      return HELLO_DROPS.map((reason) => ({ labels: { reason }, value: dropped[reason] }));
    });
    f.totals("gossipcheck_discovery_joins_total", "Joins attempted through nodes discovery heard, by result.", ["result"], () => {
      const c = discovery.counters();
      return [
        { labels: { result: "started" }, value: c.joinsStarted },
        { labels: { result: "succeeded" }, value: c.joinsSucceeded },
        { labels: { result: "failed" }, value: c.joinsFailed },
      ];
    });
  });
  discovery.start();
  d.log.info(
    { discoverGroup: formatHostPort(group), discoverInterface: interfaceAddress ?? "default", mode: isMulticastIPv4(group.host) ? "multicast" : "broadcast" },
    `discovery: announcing ${d.address} to ${formatHostPort(group)} and joining the nodes of this cluster heard there`,
  );
  return { ok: true, value: { stop: () => discovery.stop() } };
}
