import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server } from "node:net";
import { isIPv6Literal, joinHostPort } from "./address.js";
import { errorMessage } from "../base/result.js";

/*
 * Binds the TCP listener and the UDP socket of a node on one port number, as
 * memberlist does: peers learn one address and use it for both.
 */

export type ListenErrorCode = "in_use" | "not_available" | "permission" | "unresolvable" | "other";

/** Why a node could not bind, in words for the operator (the daemon exits 2 with it). */
export class ListenError extends Error {
  constructor(
    readonly code: ListenErrorCode,
    readonly address: string,
    message: string,
  ) {
    super(message);
    this.name = "ListenError";
  }
}

export interface BoundSockets {
  server: Server;
  udp: UdpSocket;
  port: number;
}

/**
 * Binds TCP then UDP on host:port. With port 0 the kernel picks the TCP port
 * and UDP takes the same number; if some other program holds that UDP port we
 * release TCP and try again with a new port (up to `attempts` times).
 */
export async function bindSockets(host: string, port: number, attempts = 10): Promise<BoundSockets> {
  for (let attempt = 1; ; attempt++) {
    const server = createServer({ noDelay: true });
    try {
      await listenTcp(server, host, port);
    } catch (err) {
      server.close();
      throw listenError(err, host, port, "TCP");
    }
    const bound = (server.address() as { port: number }).port;
    const udp = createSocket({ type: isIPv6Literal(host) ? "udp6" : "udp4" });
    try {
      await bindUdp(udp, host, bound);
      return { server, udp, port: bound };
    } catch (err) {
      udp.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const code = (err as NodeJS.ErrnoException).code;
      if (port === 0 && code === "EADDRINUSE" && attempt < attempts) continue;
      throw listenError(err, host, bound, "UDP");
    }
  }
}

function listenTcp(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function bindUdp(udp: UdpSocket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    udp.once("error", reject);
    udp.bind({ address: host, port, exclusive: true }, () => {
      udp.off("error", reject);
      resolve();
    });
  });
}

function listenError(err: unknown, host: string, port: number, proto: "TCP" | "UDP"): ListenError {
  const code = (err as NodeJS.ErrnoException).code;
  const addr = joinHostPort(host, port);
  switch (code) {
    case "EADDRINUSE":
      return new ListenError("in_use", addr, `address ${addr} is already in use (another gossipcheckd?): pick another -bind port`);
    case "EADDRNOTAVAIL":
      return new ListenError("not_available", addr, `cannot bind ${addr}: address not available on this host (use one of its own addresses, or 0.0.0.0)`);
    case "EACCES":
    case "EPERM":
      return new ListenError("permission", addr, `cannot bind ${addr}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE): pick a port of 1024 or more`);
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_FAIL":
      return new ListenError("unresolvable", addr, `cannot bind ${addr}: host name "${host}" does not resolve: use an IP address`);
    default:
      return new ListenError("other", addr, `cannot bind ${addr} (${proto}): ${errorMessage(err)}`);
  }
}
