import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { http } from "../../base/node_http.js";
import type { Socket } from "node:net";
import { type Logger, RateLimitedLog } from "../../base/logger.js";
import type { HostPort } from "../../cmdline/address.js";
import { formatHostPort } from "../../cmdline/address.js";
import type { DaemonInfo } from "../../control/api_types.js";
import { type StreamedEvent, controlRoutes } from "./routes.js";
import { decodeParams, matchPath } from "./route_match.js";
import { ConnectionGuard, limitFamilies } from "./connections.js";
import { type ApiLimits, DEFAULT_API_LIMITS, connectionsCheckingIntervalMs } from "./limits.js";
import type { ControlBackend } from "./backend.js";
import { HttpError, LineWriter, sendJson } from "./http_io.js";
import { LazyMetrics } from "./lazy_metrics.js";
import { listenHttp } from "./listen.js";
import { bearerMatches } from "../../control/token.js";
import { errorMessage } from "../../base/result.js";
import { systemClock } from "../../base/clock.js";
import type { Streams } from "./streams/routes.js";
import type { WebUi } from "./ui/assets.js";
import { matchStreamPath } from "./streams/paths.js";
import type { ChannelRoutes } from "./channels/routes.js";

/*
 * The control API: HTTP/1.1 + JSON on -cli-bind, the only way gcheck (or
 * curl) talks to a daemon. This file only speaks HTTP: it listens, holds
 * connections to their limits, authenticates and dispatches to a route
 * (routes.ts: one named handler each, which validates its body and hands
 * the work to a ControlBackend). No request, however malformed, can
 * crash the daemon: every handler runs inside one catch that answers 4xx/5xx.
 */

/** Default body limit (bytes): a 10 MB batch as JSON fits. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface ControlApiOptions {
  bind: HostPort;
  backend: ControlBackend;
  log: Logger;
  /** When set, every request needs "Authorization: Bearer <token>". */
  token?: string;
  maxBodyBytes?: number;
  /** Timeouts and the connection cap (limits.ts); DEFAULT_API_LIMITS when unset. */
  limits?: ApiLimits;
  /** Clock for member ages (ms since the epoch). */
  now?: () => number;
  /**
   * The metrics GET /metrics serves (the daemon's, shared with -metrics-bind);
   * the API adds its own families (requests, limit closes, connections).
   * Default: metrics of its own.
   */
  metrics?: LazyMetrics;
}

export interface ControlApi {
  /** The address actually listened on (host:port; port 0 resolved). */
  readonly address: string;
  /** Ends open result streams and stops listening. */
  close(): Promise<void>;
}

export type StartApiResult = { ok: true; api: ControlApi } | { ok: false; code: string; error: string };

export async function startControlApi(o: ControlApiOptions): Promise<StartApiResult> {
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const now = o.now ?? Date.now;
  const streams = new Set<AbortController>();
  // The live streams and the web view are loaded by their first request (a daemon nobody watches carries neither).
  let live: Promise<Streams> | null = null;
  let ui: Promise<WebUi> | null = null;
  let uiLoaded: WebUi | null = null;
  const loadLive = () =>
    (live ??= import("./streams/routes.js").then(({ Streams }) => {
      const s = new Streams({
        backend: o.backend,
        clock: { ...systemClock, now },
        maxStreams: Math.max(1, Math.floor(limits.maxConnections / 2)),
        onError: (err) => o.log.error({ err }, `live stream: ${err}`),
      });
      metrics.add((f) => {
        f.gauge("gossipcheck_streams_open", "Live streams (SSE) open now.", () => s.counters().open);
        f.totals("gossipcheck_stream_rounds_total", "Rounds of the stats and checks streams (one cluster-wide question each, shared by the watchers of the same question).", ["stream"], () => {
          const c = s.counters();
          return [
            { labels: { stream: "stats" }, value: c.statsRounds },
            { labels: { stream: "checks" }, value: c.checksRounds },
          ];
        });
        f.totals("gossipcheck_streams_total", "Live streams by outcome: opened, dropped (the client stopped reading), refused (at the limit).", ["outcome"], () => {
          const c = s.counters();
          return [
            { labels: { outcome: "opened" }, value: c.opened },
            { labels: { outcome: "dropped" }, value: c.dropped },
            { labels: { outcome: "refused" }, value: c.refused },
          ];
        });
      });
      return s;
    }));
  // Channels (issue 17), loaded by their first request like the streams.
  let channels: Promise<ChannelRoutes> | null = null;
  const loadChannels = () =>
    (channels ??= import("./channels/routes.js").then(({ ChannelRoutes }) => {
      const c = new ChannelRoutes({ backend: o.backend, maxBody });
      metrics.add((f) =>
        f.totals("gossipcheck_channel_subscriptions_total", "Channel subscriptions (SSE) by outcome: opened, dropped (the client stopped reading past 1 MiB).", ["outcome"], () => [
          { labels: { outcome: "opened" }, value: c.counters().subscribed },
          { labels: { outcome: "dropped" }, value: c.counters().dropped },
        ]),
      );
      return c;
    }));
  const loadUi = () => (ui ??= import("./ui/assets.js").then(({ WebUi }) => (uiLoaded = new WebUi({ ...(o.token !== undefined && { token: o.token }), now }))));
  let address = formatHostPort(o.bind);

  const limits = o.limits ?? DEFAULT_API_LIMITS;
  const guard = new ConnectionGuard(limits, new RateLimitedLog(o.log, Date.now));
  const metrics = o.metrics ?? new LazyMetrics();
  /** Requests by "method path code": labelled by known routes only, so random paths cannot grow it without bound. */
  const requests = new Map<string, number>();
  metrics.add((f) => {
    f.totals("gossipcheck_control_requests_total", "Control API requests by method, path and status code.", ["method", "path", "code"], () =>
      [...requests].map(([key, value]) => {
        const [method = "", path = "", code = ""] = key.split(" ");
        return { labels: { method, path, code }, value };
      }),
    );
    limitFamilies(f, "gossipcheck_control", "Control API", () => guard.counters());
  });

  const info = (): DaemonInfo => {
    const b = o.backend.info();
    return { ...b, counters: { ...b.counters, ...prefixed("api_", guard.counters()) }, cliAddress: address };
  };

  const routes = controlRoutes({
    backend: o.backend,
    maxBody,
    now,
    info,
    abortOnClose,
    streamEvents,
    metrics: () => metrics.text(),
  });

  /** The route path a request is counted under: its route's pattern, so random paths cannot grow the metrics. */
  const pathLabel = (path: string) =>
    routes.find((r) => matchPath(r.path, path) !== null)?.path ??
    matchStreamPath(path)?.path ??
    (path.startsWith("/v1/channels/") ? "/v1/channels/:name" : null) ??
    (path === "/ui" || path.startsWith("/ui/") ? "/ui/" : "other");
  const knownMethods = new Set(routes.map((r) => r.method as string));

  /** Ties an AbortController to the client: it aborts when the connection goes away early. */
  function abortOnClose(res: ServerResponse): AbortController {
    const ac = new AbortController();
    streams.add(ac);
    res.on("close", () => {
      streams.delete(ac);
      if (!res.writableFinished) ac.abort();
    });
    return ac;
  }

  /** NDJSON, one event a line, until the events end or the client goes away. */
  async function streamEvents(res: ServerResponse, ac: AbortController, events: AsyncIterable<StreamedEvent>): Promise<void> {
    res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" });
    const out = new LineWriter(res);
    try {
      for await (const event of events) {
        if (ac.signal.aborted) break;
        await out.add(event);
      }
    } catch (e) {
      // Headers are gone: the error becomes the stream's last line.
      o.log.error({ err: String(e), url: res.req?.url }, "result stream failed");
      await out.add({ type: "error", error: `the daemon failed while running the request: ${errorMessage(e)}` });
    }
    out.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://control");
    } catch {
      throw new HttpError(400, `malformed request target ${JSON.stringify(req.url)}`);
    }
    const bearer = o.token === undefined || bearerMatches(req.headers.authorization, o.token);
    const authorized = bearer || uiLoaded?.sessions.authorizes(req) === true;
    if (url.pathname === "/ui" || url.pathname.startsWith("/ui/")) {
      await (await loadUi()).handle(req, res, url, authorized);
      return res.statusCode;
    }
    const stream = matchStreamPath(url.pathname);
    if (stream) {
      if (req.method !== "GET") throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}: use GET`, { allow: "GET" });
      if (!authorized) throw unauthorized();
      const s = await loadLive();
      await s.routes.find((r) => r.path === stream.path)!.handle(req, res, url, decodeParams(stream.params));
      return res.statusCode;
    }
    if (url.pathname.startsWith("/v1/channels/")) {
      if (!authorized) throw unauthorized();
      await (await loadChannels()).handle(req, res, url);
      return res.statusCode;
    }
    const forPath = routes.flatMap((r) => {
      const params = matchPath(r.path, url.pathname);
      return params ? [{ ...r, params }] : [];
    });
    if (forPath.length === 0) throw new HttpError(404, `no such endpoint ${url.pathname} (endpoints: ${[...new Set(routes.map((r) => r.path))].join(", ")})`);
    const route = forPath.find((r) => r.method === req.method);
    if (!route) {
      const allow = forPath.map((r) => r.method).join(", ");
      throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}: use ${allow}`, { allow });
    }
    if (!authorized) throw unauthorized();
    await route.handle(req, res, url, decodeParams(route.params));
    return res.statusCode;
  }

  const server: Server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: connectionsCheckingIntervalMs(limits),
    },
    (req, res) => {
      // Label by known route only, so random paths cannot grow the metrics without bound.
      const path = (req.url ?? "").split("?")[0] ?? "";
      const label = pathLabel(path);
      const key = (status: number) => `${knownMethods.has(req.method ?? "") ? req.method : "OTHER"} ${label} ${status}`;
      const started = Date.now();
      const done = (status: number) => {
        requests.set(key(status), (requests.get(key(status)) ?? 0) + 1);
        o.log.debug({ method: req.method, path: path.slice(0, 200), status, ms: Date.now() - started }, "control API request");
      };
      handle(req, res).then(done, (e: unknown) => {
        const status = e instanceof HttpError ? e.status : 500;
        done(status);
        if (!(e instanceof HttpError)) o.log.error({ err: String((e as Error)?.stack ?? e), url: req.url }, "control API handler failed");
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const message = e instanceof HttpError ? e.message : `internal error: ${errorMessage(e)}`;
        sendJson(res, status, { error: message }, e instanceof HttpError ? e.headers : {});
      });
    },
  );
  // Malformed HTTP (400) and requests past a timeout (408) never reach a handler, and their socket is dropped.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => guard.clientError(err, socket as Socket));
  guard.attach(server);

  const listened = await listenHttp(server, o.bind, "or -no-cli");
  if (!listened.ok) return listened;
  address = listened.address;
  server.on("error", (e) => o.log.error({ err: String(e) }, "control API server error"));

  return {
    ok: true,
    api: {
      address,
      close: () =>
        new Promise<void>((resolve) => {
          for (const ac of streams) ac.abort();
          void live?.then((s) => s.closeAll());
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    },
  };
}

function unauthorized(): HttpError {
  return new HttpError(401, 'missing or wrong token: send "Authorization: Bearer <token>" (gcheck -token-file F, or GOSSIPCHECK_TOKEN), or sign in at /ui/', {
    "www-authenticate": 'Bearer realm="gossipcheckd"',
  });
}

function prefixed(prefix: string, o: object): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [prefix + k, v as number]));
}
