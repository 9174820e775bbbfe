import { networkInterfaces } from "node:os";
import type { Address } from "./transport.js";

/**
 * "host:port" addresses as they travel in packets, frames and flags. IPv6
 * hosts are bracketed ("[::1]:2000") so the last colon always separates the
 * port.
 */
export interface HostPort {
  host: string;
  port: number;
}

/** Splits "host:port" or "[v6]:port"; throws a message naming the address when it is malformed. */
export function splitHostPort(address: Address): HostPort {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:\[\]]+):(\d+)$/.exec(address);
  if (!m) throw new Error(`bad address "${address}": expected host:port (IPv6 as [host]:port)`);
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`bad address "${address}": port ${port} is above 65535`);
  return { host: m[1]!, port };
}

export function joinHostPort(host: string, port: number): Address {
  return isIPv6Literal(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Whether an unbracketed host is an IPv6 literal: a host name or an IPv4
 * address never holds a colon. Not net.isIPv6: its first call compiles
 * Node's IPv6 regex, about 8 ms of CPU on Node 20 and 4 on Node 24, and a
 * daemon calls this while it starts.
 */
export function isIPv6Literal(host: string): boolean {
  return host.includes(":") && !host.startsWith("[");
}

/** Whether host means "every interface", so it cannot be advertised to peers. */
export function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

/**
 * The host peers should use to reach a node bound to every interface: the
 * first non-internal IPv4 address, else 127.0.0.1 (a machine with no network).
 */
export function firstExternalIPv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      if (ni.family === "IPv4" && !ni.internal) return ni.address;
    }
  }
  return "127.0.0.1";
}
