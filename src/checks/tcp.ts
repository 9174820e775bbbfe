import { connect } from "node:net";
import { errorMessage } from "../base/result.js";
import type { Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";
import type { CheckTypeDef } from "./check_type.js";

/*
 * `tcp`: connects to `address` (host:port, [IPv6]:port) within
 * `connect_timeout` (default 5 s) and closes the connection at once. With
 * `reachable` (default true) it passes when the connection is made; with
 * `reachable: false` when it is not (refused, timed out, unreachable): a port
 * that must stay closed.
 *
 * A host name that does not resolve fails a `reachable` check, but is an
 * `error` for `reachable: false`: a mistyped name must not pass as "closed".
 * So is running out of sockets (EMFILE), either way: the check could not look.
 */

export const TCP_DEFAULT_TIMEOUT_MS = 5_000;

/** host:port or [IPv6]:port, the port 1-65535 (the schema uses the same pattern). */
const ADDRESS = /^(?:\[([0-9A-Fa-f:.]+(?:%[^\]]+)?)\]|([^\s:[\]]+)):([1-9][0-9]{0,4})$/;

export const tcpCheck: CheckTypeDef = {
  type: "tcp",
  subject: "address",
  fields: {
    address: { type: { kind: "string" }, required: true, doc: 'the host:port to connect to ("db1:5432", "[::1]:22")' },
    reachable: { type: { kind: "boolean" }, doc: "true (default): pass when it connects; false: pass when it cannot" },
    connect_timeout: { type: { kind: "duration" }, doc: "how long connecting may take (default 5 s; `timeout` is the action's)" },
  },
  rules(p, field) {
    return parseAddress(p.address as string) === undefined
      ? [`${field("address")}: expected host:port or [IPv6]:port with a port from 1 to 65535 ("db1:5432", "[::1]:22"), got ${JSON.stringify(p.address)}`]
      : [];
  },
  evaluate: evaluateTcp,
};

export function parseAddress(text: string): { host: string; port: number } | undefined {
  const m = ADDRESS.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  return port <= 65535 ? { host: (m[1] ?? m[2])!, port } : undefined;
}

type Outcome = { connected: true; ms: number; peer: string } | { connected: false; reason: string; code: string | undefined };

async function evaluateTcp(p: Params): Promise<Evaluation> {
  const address = p.address as string;
  const { host, port } = parseAddress(address)!;
  const timeoutMs = (p.connect_timeout as number | undefined) ?? TCP_DEFAULT_TIMEOUT_MS;
  const wantReachable = p.reachable !== false;
  const o = await tryConnect(host, port, timeoutMs);
  if (o.connected) {
    const via = o.peer && o.peer !== address ? ` (${o.peer})` : "";
    if (wantReachable) return { status: "pass", message: `connected to ${address}${via} in ${o.ms} ms` };
    return { status: "fail", message: `connected to ${address}${via} in ${o.ms} ms, expected it to be unreachable` };
  }
  const cannotLook = o.code === "EMFILE" || o.code === "ENFILE" || o.code === "ENOBUFS";
  const noName = o.code === "ENOTFOUND" || o.code === "EAI_AGAIN" || o.code === "EAI_FAIL";
  if (cannotLook || (noName && !wantReachable)) return { status: "error", message: `cannot tell whether ${address} is reachable: ${o.reason}` };
  if (wantReachable) return { status: "fail", message: `cannot connect to ${address}: ${o.reason}` };
  return { status: "pass", message: `${address} is not reachable, as expected: ${o.reason}` };
}

function tryConnect(host: string, port: number, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host, port });
    const done = (o: Outcome) => {
      clearTimeout(timer);
      // A connected probe ends with a reset, as HAProxy's health checks do: a
      // normal close leaves a TIME_WAIT socket for 60 s on whichever side
      // closes first, and a host probing every few seconds piles them up (each
      // holds an ephemeral port, and every /proc/net/tcp reader, our port
      // check included, reads past them).
      if (o.connected && socket.readyState === "open") socket.resetAndDestroy();
      else socket.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => done({ connected: false, reason: `no connection within ${timeoutMs} ms`, code: "ETIMEDOUT" }), timeoutMs);
    socket.once("connect", () => {
      const peer = socket.remoteAddress ? `${socket.remoteFamily === "IPv6" ? `[${socket.remoteAddress}]` : socket.remoteAddress}:${socket.remotePort}` : "";
      done({ connected: true, ms: Math.round(performance.now() - started), peer });
    });
    socket.once("error", (e: NodeJS.ErrnoException) => done({ connected: false, reason: socketReason(e), code: e.code }));
  });
}

function socketReason(e: NodeJS.ErrnoException): string {
  const reasons: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ETIMEDOUT: "connection timed out",
    EHOSTUNREACH: "no route to host",
    ENETUNREACH: "network unreachable",
    ENOTFOUND: "the host name does not resolve",
    EAI_AGAIN: "the host name could not be resolved now",
    EADDRNOTAVAIL: "address not available",
  };
  const reason = e.code ? reasons[e.code] : undefined;
  if (reason) return `${reason} (${e.code})`;
  const text = errorMessage(e);
  return e.code && !text.includes(e.code) ? `${text} (${e.code})` : text;
}
