import { createSocket, type Socket } from "node:dgram";
import { isIPv4 } from "node:net";
import type { Clock } from "../base/clock.js";
import { nullLogger, RateLimitedLog, type Logger } from "../base/logger.js";
import { errorMessage, type Result } from "../base/result.js";
import type { DiscoverySocket } from "./discovery.js";

/*
 * The real DiscoverySocket: one UDP socket on the -discover-group's port.
 *
 * - Multicast (a group in 224.0.0.0/4): bound to the group address, so it
 *   receives the group's datagrams only; joined on the chosen interface;
 *   IP_MULTICAST_TTL 1, so hellos never leave the segment (no router
 *   forwards them); multicast loopback on, so daemons on one host hear each
 *   other (each hears itself too, and drops its own hellos).
 * - Broadcast (any other address, e.g. 10.0.0.255 or 255.255.255.255): bound
 *   to every interface on the port, SO_BROADCAST on, TTL 1. For networks
 *   without multicast (some clouds and switches filter it).
 *
 * SO_REUSEADDR (reuseAddr) lets several daemons on one host share the port.
 */

export interface DiscoverySocketOptions {
  /** IPv4 multicast group or broadcast address. */
  group: string;
  port: number;
  /** IPv4 address of the interface to announce and listen on; absent = the system's choice (the default route's). */
  interfaceAddress?: string;
  clock: Clock;
  logger?: Logger;
}

export function isMulticastIPv4(host: string): boolean {
  if (!isIPv4(host)) return false;
  const first = Number(host.split(".")[0]);
  return first >= 224 && first <= 239;
}

/** Opens the socket, or says (naming the group) why it cannot bind or join. */
export async function openDiscoverySocket(o: DiscoverySocketOptions): Promise<Result<DiscoverySocket>> {
  const multicast = isMulticastIPv4(o.group);
  const log = new RateLimitedLog(o.logger ?? nullLogger, () => o.clock.now());
  const socket: Socket = createSocket({ type: "udp4", reuseAddr: true });
  const where = `${o.group}:${o.port}`;
  const bound = await new Promise<string | null>((resolve) => {
    const failed = (err: Error) => resolve(err.message);
    socket.once("error", failed);
    socket.bind(o.port, multicast ? o.group : "0.0.0.0", () => {
      socket.off("error", failed);
      resolve(null);
    });
  });
  if (bound !== null) {
    socket.close();
    return { ok: false, error: `cannot listen for discovery hellos on ${where}: ${bound}` };
  }
  try {
    if (multicast) {
      socket.addMembership(o.group, o.interfaceAddress);
      if (o.interfaceAddress) socket.setMulticastInterface(o.interfaceAddress);
      socket.setMulticastTTL(1);
      socket.setMulticastLoopback(true);
    } else {
      socket.setBroadcast(true);
      socket.setTTL(1);
    }
  } catch (err) {
    socket.close();
    const on = o.interfaceAddress ? ` on the interface with address ${o.interfaceAddress}` : "";
    return {
      ok: false,
      error: `cannot ${multicast ? "join multicast group" : "broadcast to"} ${where}${on}: ${errorMessage(err)} (check -discover-interface, and that the interface is up${multicast ? " with a route for 224.0.0.0/4" : ""})`,
    };
  }
  // After binding, errors (ICMP unreachable and the like) are logged at a limited rate, never thrown.
  socket.on("error", (err) => log.warn("discovery-socket", { group: where, err: err.message }, `discovery socket ${where}: ${err.message}`));
  const ds: DiscoverySocket = {
    send(data) {
      socket.send(data, o.port, o.group, (err) => {
        if (err) log.warn("discovery-send", { group: where, err: err.message }, `discovery: could not send a hello to ${where}: ${err.message}`);
      });
    },
    onMessage(handler) {
      socket.on("message", (data) => handler(data));
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  return { ok: true, value: ds };
}
