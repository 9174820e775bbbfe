import { isIP } from "node:net";
import { type HostPort, isWildcardHost, joinHostPort } from "../net/address.js";
import type { Result } from "../base/result.js";

/**
 * host:port addresses as operators write them on the command line
 * (`127.0.0.1:2000`, `:3505`, `node7.example.org:2000`, `[::1]:2000`).
 * Parsing returns an error string (naming nothing: the caller adds the flag
 * and value) instead of throwing, because bad input here is the user's, not a
 * bug. HostPort and the "host:port" form are src/net's (one definition);
 * port 0 means "any free port" where binding allows it.
 */
export type { HostPort };

// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
const HOST_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export interface HostPortRules {
  /** Accept a missing port ("10.0.0.5") and use this one instead. */
  defaultPort?: number;
  /** Accept an empty host (":3505") and use this one instead. */
  defaultHost?: string;
  /** Accept port 0 (bind to any free port). */
  allowPortZero?: boolean;
}

export function parseHostPort(text: string, rules: HostPortRules = {}): Result<HostPort> {
  const s = text.trim();
  if (s === "") return { ok: false, error: "it is empty" };
  let host: string;
  let portText: string | undefined;
  if (s.startsWith("[")) {
    const close = s.indexOf("]");
    if (close < 0) return { ok: false, error: "an IPv6 address in brackets needs its closing ]" };
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) return { ok: false, error: `unexpected "${rest}" after ]` };
    portText = rest === "" ? undefined : rest.slice(1);
    if (isIP(host) !== 6) return { ok: false, error: `"${host}" is not an IPv6 address` };
  } else {
    const colons = s.split(":").length - 1;
    if (colons > 1) return { ok: false, error: "write an IPv6 address in brackets, as [::1]:2000" };
    const i = s.indexOf(":");
    host = i < 0 ? s : s.slice(0, i);
    portText = i < 0 ? undefined : s.slice(i + 1);
  }
  if (host === "") {
    if (rules.defaultHost === undefined) return { ok: false, error: "the host is missing" };
    host = rules.defaultHost;
  } else if (isIP(host) === 0 && !HOST_NAME.test(host)) {
    return { ok: false, error: `"${host}" is neither an IP address nor a valid host name` };
  }
  let port: number;
  if (portText === undefined) {
    if (rules.defaultPort === undefined) return { ok: false, error: "the port is missing" };
    port = rules.defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText)) return { ok: false, error: `port "${portText}" is not a number` };
    port = Number(portText);
    if (port > 65535) return { ok: false, error: `port ${port} is above 65535` };
    if (port === 0 && !rules.allowPortZero) return { ok: false, error: "port 0 is not allowed here" };
  }
  return { ok: true, value: { host, port } };
}

/** "host:port", with IPv6 hosts in brackets: the form Transport addresses use. */
export function formatHostPort(a: HostPort): string {
  return joinHostPort(a.host, a.port);
}

/** True for 127.0.0.0/8, ::1 and "localhost": addresses no other machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || h === "0:0:0:0:0:0:0:1" || h.startsWith("::ffff:127.");
  return false;
}

/** True for 0.0.0.0 and ::, which mean "every interface" and cannot be dialled. */
export const isUnspecifiedHost = isWildcardHost;
