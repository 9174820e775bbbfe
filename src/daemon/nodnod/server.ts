import type { IncomingMessage, ServerResponse } from "node:http";
import { http } from "../../base/node_http.js";
import type { Duplex } from "node:stream";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { type Logger, RateLimitedLog } from "../../base/logger.js";
import { errorMessage, type Result } from "../../base/result.js";
import type { HostPort } from "../../cmdline/address.js";
import { bearerMatches } from "../../control/token.js";
import type { LazyMetrics } from "../api/lazy_metrics.js";
import { listenHttp } from "../api/listen.js";
import { MAX_REQUEST_BYTES, type NodnodNode, type NodnodRequest, decodeRequest, encodeResponse, nodnodLostNode, nodnodNode } from "./protocol.js";
import type { NodnodAnswer, NodnodStatsSource } from "./source.js";

/*
 * The NodNod websocket server on -nodnod-bind (protocol.ts says what NodNod
 * does and what is matched). The daemon imports this file, and with it the
 * `ws` package, only when -nodnod-bind is set.
 *
 * Every path upgrades, as NodNod's "/" handler did. Before the upgrade: GET
 * only (405), gorilla's Origin rule (403: a web page elsewhere cannot read
 * a loopback daemon's stats through the visitor's browser), the control
 * API's token when it has one (401: "Authorization: Bearer TOKEN", or
 * "?token=TOKEN" in the URL for clients that cannot set a header), and the
 * connection cap (503). Then one connection serves many requests, answered
 * in order, one at a time: the socket is paused while a request is
 * answered, so a pipelining client waits in TCP as it did with NodNod.
 * What it holds is bounded (NodnodLimits). STATALL requests that arrive
 * while one is being answered join it: however many clients ask, the
 * cluster sees one stats request at a time from this node.
 */

export interface NodnodLimits {
  /** Websocket connections open at once; one more is answered 503 before the upgrade. */
  maxConnections: number;
  /**
   * Requests decoded but not yet answered on one connection; past it the
   * connection is closed (1008). The socket is paused at the first request,
   * but the frames of the chunk already read (64 KiB: at most about 9,400
   * of the smallest frames, 7 bytes each) are still decoded: a pipelining
   * client stays under this, which only guards the bound.
   */
  maxQueuedRequests: number;
  /** Bytes of responses waiting in the daemon for a client that does not read; past it the client is dropped. Kernel buffers hold a few MB more. */
  maxBufferedBytes: number;
  /** A ping every interval (ms); a peer that has not answered the previous one by then is dropped. */
  pingIntervalMs: number;
  /** How long STATALL waits for the members (ms): NodNod's client gives up after 10 s, so well under that. */
  statAllTimeoutMs: number;
  /** The upgrade request's headers must arrive within this (ms). */
  headersTimeoutMs: number;
}

export const NODNOD_LIMITS: NodnodLimits = {
  maxConnections: 64,
  maxQueuedRequests: 16_384,
  maxBufferedBytes: 1024 * 1024,
  pingIntervalMs: 30_000,
  statAllTimeoutMs: 5_000,
  headersTimeoutMs: 10_000,
};

export interface NodnodServerOptions {
  bind: HostPort;
  source: NodnodStatsSource;
  log: Logger;
  /** The control API's token: when set, the upgrade needs it. */
  token?: string;
  metrics?: LazyMetrics;
  limits?: Partial<NodnodLimits>;
}

export interface NodnodServer {
  /** The address actually listened on (host:port; port 0 resolved). */
  readonly address: string;
  close(): Promise<void>;
}

export type StartNodnodResult = { ok: true; server: NodnodServer } | { ok: false; code: string; error: string };

/** Why an upgrade was refused / a connection dropped: the metrics' label values. */
type Refusal = "method" | "origin" | "unauthorized" | "over_cap";
type Drop = "slow_reader" | "no_pong" | "too_big" | "malformed" | "queue_full";

export async function startNodnodServer(o: NodnodServerOptions): Promise<StartNodnodResult> {
  const limits: NodnodLimits = { ...NODNOD_LIMITS, ...o.limits };
  const warn = new RateLimitedLog(o.log, Date.now);
  const counts = {
    connections: 0,
    requests: new Map<NodnodRequest["kind"], number>(),
    refused: new Map<Refusal, number>(),
    dropped: new Map<Drop, number>(),
  };
  const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
  /** Open connections, and whether each answered the last ping. */
  const clients = new Map<WebSocket, { alive: boolean }>();
  const closing = new AbortController();

  o.metrics?.add((f) => {
    const samples =
      <K extends string>(m: Map<K, number>, label: string) =>
      () =>
        [...m].map(([k, value]) => ({ labels: { [label]: k }, value }));
    f.total("gossipcheck_nodnod_connections_total", "NodNod websocket connections accepted (-nodnod-bind).", () => counts.connections);
    f.gauge("gossipcheck_nodnod_connections", "NodNod websocket connections open.", () => clients.size);
    f.totals("gossipcheck_nodnod_requests_total", "NodNod requests by kind (stat, statall, unknown: no answer, malformed: connection closed).", ["kind"], samples(counts.requests, "kind"));
    f.totals("gossipcheck_nodnod_refused_total", "NodNod upgrades refused, by reason.", ["reason"], samples(counts.refused, "reason"));
    f.totals("gossipcheck_nodnod_dropped_total", "NodNod connections dropped by the daemon, by reason.", ["reason"], samples(counts.dropped, "reason"));
  });

  // No upgrade happens on its own (noServer): the "upgrade" handler below decides first.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST_BYTES, perMessageDeflate: false, clientTracking: false });

  const server = http.createServer({ headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.headersTimeoutMs }, (req: IncomingMessage, res: ServerResponse) => {
    // A plain HTTP request: NodNod answered 405 to other methods, gorilla 400 to a GET without the upgrade.
    const status = req.method === "GET" ? 400 : 405;
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close" });
    res.end(
      `${status === 405 ? "Method not allowed" : "Bad Request"}: this address speaks NodNod's websocket protocol (-nodnod-bind): connect a websocket client and send {"type": 1, "statType": 0}\n`,
    );
  });
  // Sockets still in their handshake are held by headersTimeout; this bounds how many there can be.
  server.maxConnections = limits.maxConnections * 2;

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {});
    const refuse = (reason: Refusal, status: number, message: string, headers: Record<string, string> = {}) => {
      bump(counts.refused, reason);
      warn.warn(`refused ${reason}`, { reason, status }, `NodNod upgrade refused (${status}): ${message}`);
      const body = message + "\n";
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra.join("")}\r\n${body}`,
      );
    };
    if (req.method !== "GET") return refuse("method", 405, "Method not allowed");
    if (!originAllowed(req)) return refuse("origin", 403, "the Origin header names another host than this one");
    if (o.token !== undefined && !authorized(req, o.token)) {
      return refuse("unauthorized", 401, 'missing or wrong token: send "Authorization: Bearer <token>" or add ?token=<token> to the URL (the control API\'s -cli-token-file)', {
        "WWW-Authenticate": 'Bearer realm="gossipcheckd"',
      });
    }
    if (clients.size >= limits.maxConnections) return refuse("over_cap", 503, `${limits.maxConnections} NodNod connections are open already: try again later`);
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws));
  });

  /** STATALL in flight, joined by the STATALL requests that arrive meanwhile. */
  let statAll: Promise<Result<NodnodAnswer[]>> | null = null;
  const askAll = () => {
    statAll ??= o.source.all(limits.statAllTimeoutMs, closing.signal).finally(() => (statAll = null));
    return statAll;
  };

  async function answer(kind: "stat" | "statall"): Promise<string> {
    const host = o.source.node;
    if (kind === "stat") {
      try {
        return encodeResponse(host, [nodnodNode(await o.source.local())]);
      } catch (e) {
        return encodeResponse(host, [], `cannot read this node's stats: ${errorMessage(e)}`);
      }
    }
    const all = await askAll().catch((e: unknown) => ({ ok: false as const, error: errorMessage(e) }));
    const nodes: NodnodNode[] = all.ok ? all.value.map((a) => (a.stats ? nodnodNode(a.stats) : nodnodLostNode(a.node, a.error ?? "no answer"))) : [];
    // This node is always there, as in NodNod (its own stats are read before the peers').
    if (!nodes.some((n) => n.name === host)) nodes.push(nodnodNode(await o.source.local()));
    return encodeResponse(host, nodes, all.ok ? "" : all.error);
  }

  /** With a close code: a close frame saying why (the socket reads again for the client's answer); without: the TCP connection is cut. */
  function drop(ws: WebSocket, reason: Drop, code?: number, why?: string): void {
    bump(counts.dropped, reason);
    o.log.debug({ reason }, `NodNod client dropped: ${reason}`);
    if (code === undefined) return ws.terminate();
    ws.close(code, why);
    if (ws.isPaused) ws.resume();
  }

  function serve(ws: WebSocket): void {
    counts.connections++;
    const peer = { alive: true };
    clients.set(ws, peer);
    /** Requests in the order they came, answered one at a time (NodNod's read loop). */
    const queue: NodnodRequest[] = [];
    let answering = false;
    ws.on("pong", () => (peer.alive = true));
    ws.on("close", () => {
      clients.delete(ws);
      queue.length = 0;
    });
    ws.on("error", (e: Error & { code?: string }) => {
      // ws closes the connection itself (1009) for a message over maxPayload.
      if (e.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") bump(counts.dropped, "too_big");
      o.log.debug({ err: e.message }, "NodNod connection error");
    });

    /** Handles one request; false when the connection is done for. */
    const handle = async (request: NodnodRequest): Promise<boolean> => {
      if (request.kind === "malformed") {
        drop(ws, "malformed", 1007, request.error.slice(0, 120));
        return false;
      }
      if (request.kind === "unknown") {
        // NodNod logs an unknown type and answers nothing; the connection stays.
        warn.warn("unknown type", { type: request.type }, `NodNod request of unknown type ${request.type} (0 = STAT, 1 = STATALL): not answered`);
        return true;
      }
      const text = await answer(request.kind);
      if (ws.readyState !== ws.OPEN) return false;
      ws.send(text);
      if (ws.bufferedAmount <= limits.maxBufferedBytes) return true;
      drop(ws, "slow_reader");
      return false;
    };

    const next = async () => {
      if (answering) return;
      answering = true;
      while (queue.length > 0 && ws.readyState === ws.OPEN) if (!(await handle(queue.shift()!))) break;
      answering = false;
      // Reading again: for the next requests, or for the client's side of a closing handshake.
      if (ws.isPaused) ws.resume();
    };

    ws.on("message", (data: RawData) => {
      if (ws.readyState !== ws.OPEN) return;
      const request = decodeRequest(Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]));
      bump(counts.requests, request.kind);
      if (queue.length >= limits.maxQueuedRequests) return drop(ws, "queue_full", 1008, `more than ${limits.maxQueuedRequests} requests waiting for an answer`);
      queue.push(request);
      // One at a time: what the client sends next waits in TCP until this is answered.
      if (!ws.isPaused) ws.pause();
      void next().catch((e: unknown) => o.log.error({ err: errorMessage(e) }, "NodNod request failed"));
    });
  }

  const pinger = setInterval(() => {
    for (const [ws, peer] of clients) {
      if (!peer.alive) {
        drop(ws, "no_pong");
        continue;
      }
      peer.alive = false;
      ws.ping();
    }
  }, limits.pingIntervalMs);
  pinger.unref();

  const listened = await listenHttp(server, o.bind, "or leave -nodnod-bind out");
  if (!listened.ok) {
    clearInterval(pinger);
    return listened;
  }
  server.on("error", (e) => o.log.error({ err: String(e) }, "NodNod server error"));
  return {
    ok: true,
    server: {
      address: listened.address,
      close: () =>
        new Promise<void>((resolve) => {
          clearInterval(pinger);
          closing.abort();
          for (const ws of clients.keys()) ws.close(1001, "gossipcheckd is shutting down");
          server.close(() => resolve());
          server.closeAllConnections();
          // A client that does not answer the close frame is not waited for.
          setTimeout(() => {
            for (const ws of clients.keys()) ws.terminate();
          }, 1000).unref();
        }),
    },
  };
}

/** gorilla/websocket's default CheckOrigin: no Origin header, or one naming the host the request was sent to. */
export function originAllowed(req: Pick<IncomingMessage, "headers">): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host.toLowerCase() === (req.headers.host ?? "").toLowerCase();
  } catch {
    return false;
  }
}

/** The control API's token in "Authorization: Bearer" or in ?token= (NodNod's Go client cannot set headers). */
export function authorized(req: Pick<IncomingMessage, "headers" | "url">, token: string): boolean {
  if (bearerMatches(req.headers.authorization, token)) return true;
  let query: string | null = null;
  try {
    query = new URL(req.url ?? "/", "http://nodnod").searchParams.get("token");
  } catch {
    return false;
  }
  return query !== null && bearerMatches(`Bearer ${query}`, token);
}
