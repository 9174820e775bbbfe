import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { RateLimitedLog } from "../../base/logger.js";
import type { ApiLimits } from "./limits.js";
import type { Families } from "./lazy_metrics.js";

/*
 * The connections of the control API (and of the metrics server on
 * -metrics-bind): the cap (ApiLimits.maxConnections) and what happens when a
 * limit closes one (the 408 on a timeout, the counters, the rate-limited log
 * line). Node enforces the timeouts; it reports them here through the
 * server's clientError event.
 *
 * Invariant: `sockets` is ordered by last activity, oldest first (a Map keeps
 * insertion order, and a socket is re-inserted when its response ends), so
 * the first evictable entry is the least recently active one.
 */

export interface ApiLimitCounters {
  /** Connections closed because their request headers did not arrive in time. */
  headersTimeouts: number;
  /** Connections closed because their request body did not arrive in time. */
  bodyTimeouts: number;
  /** Connections not being answered that were closed to make room for a new one. */
  connectionsEvicted: number;
  /** New connections refused because every open one was being answered. */
  connectionsRefused: number;
  /** Connections open now (a gauge). */
  openConnections: number;
}

/** How a guard's log lines and answers name its server, and the flags that set its limits (absent: fixed limits). */
export interface GuardNames {
  server: string;
  headersTimeoutFlag?: string;
  requestTimeoutFlag?: string;
  maxConnectionsFlag?: string;
}

export const CONTROL_API_NAMES: GuardNames = {
  server: "control API",
  headersTimeoutFlag: "-cli-headers-timeout",
  requestTimeoutFlag: "-cli-request-timeout",
  maxConnectionsFlag: "-cli-max-connections",
};

/** " (-flag)" after a limit that a flag sets, nothing after a fixed one. */
const flag = (name: string | undefined) => (name ? ` (${name})` : "");

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
}

export class ConnectionGuard {
  /** Open sockets and the requests on them still being received or answered. */
  private readonly sockets = new Map<Socket, Set<Exchange>>();
  /** Refused sockets, closing: a request that still arrives on one is dropped unanswered. */
  private readonly refused = new WeakSet<Socket>();
  private readonly counts = { headersTimeouts: 0, bodyTimeouts: 0, connectionsEvicted: 0, connectionsRefused: 0 };

  constructor(
    private readonly limits: ApiLimits,
    private readonly log: RateLimitedLog,
    private readonly names: GuardNames = CONTROL_API_NAMES,
  ) {}

  /** Installs the guard's listeners (its request listener runs before the API's handler); call before listen(). */
  attach(server: Server): void {
    server.on("connection", (socket: Socket) => this.admit(socket));
    server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => this.track(req, res));
  }

  counters(): ApiLimitCounters {
    return { ...this.counts, openConnections: this.sockets.size };
  }

  /**
   * For the server's clientError event: a timeout is answered 408, counted
   * and logged; other errors (malformed HTTP) 400. Either way the socket is
   * destroyed once the answer is written (the server allows half-open
   * sockets, so end() alone would wait for a client that may never close).
   */
  clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    const pending = [...(this.sockets.get(socket) ?? [])];
    const answered = pending.some((x) => x.res.headersSent);
    let status = "400 Bad Request";
    let message = "malformed HTTP request";
    if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      status = "408 Request Timeout";
      // Node's handler has seen the headers of a request that is still arriving: its body was too slow.
      const inBody = pending.some((x) => !x.req.complete);
      const limit = inBody
        ? `the request body did not arrive within ${this.limits.requestTimeoutMs} ms${flag(this.names.requestTimeoutFlag)}`
        : `the request headers did not arrive within ${this.limits.headersTimeoutMs} ms${flag(this.names.headersTimeoutFlag)}`;
      this.counts[inBody ? "bodyTimeouts" : "headersTimeouts"]++;
      message = `${limit}: send the whole request at once`;
      this.log.warn(inBody ? "bodyTimeout" : "headersTimeout", { remote: remote(socket) }, `${this.names.server}: closed a connection: ${limit}`);
    }
    if (answered || !socket.writable) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ error: message }) + "\n";
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`, () => socket.destroy());
  }

  private admit(socket: Socket): void {
    if (this.sockets.size >= this.limits.maxConnections) {
      const victim = this.oldestUnanswered();
      if (victim) {
        this.counts.connectionsEvicted++;
        this.log.warn(
          "evicted",
          { remote: remote(victim), maxConnections: this.limits.maxConnections },
          `${this.names.server}: at the cap of ${this.limits.maxConnections} connections${flag(this.names.maxConnectionsFlag)}, closed the least recently active one that was not being answered`,
        );
        this.forget(victim);
        victim.destroy();
      } else {
        this.counts.connectionsRefused++;
        this.log.warn(
          "refused",
          { remote: remote(socket), maxConnections: this.limits.maxConnections },
          `${this.names.server}: refused a connection: all ${this.limits.maxConnections} open connections are being answered${flag(this.names.maxConnectionsFlag)}`,
        );
        const body = JSON.stringify({ error: `the ${this.names.server} has ${this.limits.maxConnections} connections busy${flag(this.names.maxConnectionsFlag)}: retry when a response ends` }) + "\n";
        // Not read from: a request sent anyway is never parsed, so nothing runs for it (track() is the backstop).
        this.refused.add(socket);
        socket.pause();
        socket.on("error", () => {});
        socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`, () => socket.destroy());
        return;
      }
    }
    this.sockets.set(socket, new Set());
    socket.once("close", () => this.forget(socket));
  }

  private track(req: IncomingMessage, res: ServerResponse): void {
    if (this.refused.has(req.socket)) {
      req.socket.destroy();
      return;
    }
    const exchanges = this.sockets.get(req.socket);
    if (!exchanges) return;
    const x = { req, res };
    exchanges.add(x);
    res.once("close", () => {
      exchanges.delete(x);
      // Idle from now: re-insert at the newest end (see the invariant above).
      if (exchanges.size === 0 && this.sockets.delete(req.socket)) this.sockets.set(req.socket, exchanges);
    });
  }

  /**
   * The least recently active socket not being answered: no request yet,
   * one whose headers or body are still arriving, or idle between requests.
   * A socket whose request has fully arrived is being answered (a result
   * stream, a scrape) and is never chosen.
   */
  private oldestUnanswered(): Socket | undefined {
    for (const [socket, exchanges] of this.sockets) {
      if (![...exchanges].some((x) => x.req.complete)) return socket;
    }
    return undefined;
  }

  private forget(socket: Socket): void {
    this.sockets.delete(socket);
  }
}

/** A server's connection-limit families (connections.ts), read from its guard at each scrape. */
export function limitFamilies(f: Families, prefix: string, what: string, read: () => ApiLimitCounters): void {
  f.totals(`${prefix}_limit_closes_total`, `${what} connections closed by a limit (limits.ts), by limit.`, ["limit"], () => {
    const c = read();
    return [
      { labels: { limit: "headers_timeout" }, value: c.headersTimeouts },
      { labels: { limit: "request_timeout" }, value: c.bodyTimeouts },
      { labels: { limit: "max_connections_evicted" }, value: c.connectionsEvicted },
      { labels: { limit: "max_connections_refused" }, value: c.connectionsRefused },
    ];
  });
  f.gauge(`${prefix}_connections`, `${what} connections open now.`, () => read().openConnections);
}

function remote(socket: Socket): string {
  return `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
}
