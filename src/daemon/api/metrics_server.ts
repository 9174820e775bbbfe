import type { IncomingMessage, ServerResponse } from "node:http";
import { http } from "../../base/node_http.js";
import type { Socket } from "node:net";
import { type Logger, RateLimitedLog } from "../../base/logger.js";
import type { HostPort } from "../../cmdline/address.js";
import { errorMessage } from "../../base/result.js";
import { ConnectionGuard, limitFamilies } from "./connections.js";
import { HttpError, sendJson, sendMetrics } from "./http_io.js";
import { type ApiLimits, METRICS_SERVER_LIMITS, connectionsCheckingIntervalMs } from "./limits.js";
import { listenHttp } from "./listen.js";
import type { LazyMetrics } from "./lazy_metrics.js";

/*
 * The metrics server on -metrics-bind: GET /metrics and GET /healthz, read
 * only and without a token, so a Prometheus scraper or a load balancer's
 * health check never holds the control API's token (which can submit
 * batches, that is run commands). It serves the same registry as the
 * control API's /metrics and nothing else: no route can submit or change
 * anything, and any other method is answered 405. Its connections are held
 * to fixed limits (limits.ts: METRICS_SERVER_LIMITS) by the control API's
 * guard (connections.ts).
 */

/** Whether this node is a healthy member, and why not (GET /healthz). */
export type Health = { healthy: true; detail: string } | { healthy: false; reason: string };

export interface MetricsServerOptions {
  bind: HostPort;
  metrics: LazyMetrics;
  /** Asked on every GET /healthz. */
  health: () => Health;
  log: Logger;
  limits?: ApiLimits;
}

export interface MetricsServer {
  /** The address actually listened on (host:port; port 0 resolved). */
  readonly address: string;
  close(): Promise<void>;
}

export type StartMetricsResult = { ok: true; server: MetricsServer } | { ok: false; code: string; error: string };

const PATHS = ["/metrics", "/healthz"];

export async function startMetricsServer(o: MetricsServerOptions): Promise<StartMetricsResult> {
  const limits = o.limits ?? METRICS_SERVER_LIMITS;
  const guard = new ConnectionGuard(limits, new RateLimitedLog(o.log, Date.now), { server: "metrics server" });
  /** Requests by "path code", known paths only. */
  const requests = new Map<string, number>();
  o.metrics.add((f) => {
    f.totals("gossipcheck_metrics_server_requests_total", "Metrics server (-metrics-bind) requests by path and status code.", ["path", "code"], () =>
      [...requests].map(([key, value]) => {
        const [path = "", code = ""] = key.split(" ");
        return { labels: { path, code }, value };
      }),
    );
    limitFamilies(f, "gossipcheck_metrics_server", "Metrics server (-metrics-bind)", () => guard.counters());
  });

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (!PATHS.includes(path)) throw new HttpError(404, `no such endpoint ${path} (this read-only server has ${PATHS.join(", ")}; everything else is on the control API)`);
    if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, `${req.method} is not allowed on ${path}: this server is read-only, use GET`, { allow: "GET, HEAD" });
    if (path === "/metrics") return sendMetrics(res, await o.metrics.text());
    const h = o.health();
    // 503 makes a load balancer or an orchestrator take the node out; the body says why.
    sendJson(res, h.healthy ? 200 : 503, h.healthy ? { status: "ok", detail: h.detail } : { status: "unhealthy", reason: h.reason });
  }

  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: connectionsCheckingIntervalMs(limits),
    },
    (req, res) => {
      const path = (req.url ?? "").split("?")[0] ?? "";
      const done = (status: number) => {
        const key = `${PATHS.includes(path) ? path : "other"} ${status}`;
        requests.set(key, (requests.get(key) ?? 0) + 1);
      };
      handle(req, res, path).then(
        () => done(res.statusCode),
        (e: unknown) => {
          const status = e instanceof HttpError ? e.status : 500;
          done(status);
          if (!(e instanceof HttpError)) o.log.error({ err: String((e as Error)?.stack ?? e), url: req.url }, "metrics server handler failed");
          if (res.headersSent) return void res.destroy();
          sendJson(res, status, { error: e instanceof HttpError ? e.message : `internal error: ${errorMessage(e)}` }, e instanceof HttpError ? e.headers : {});
        },
      );
    },
  );
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => guard.clientError(err, socket as Socket));
  guard.attach(server);

  const listened = await listenHttp(server, o.bind, "or leave -metrics-bind out");
  if (!listened.ok) return listened;
  server.on("error", (e) => o.log.error({ err: String(e) }, "metrics server error"));
  return {
    ok: true,
    server: {
      address: listened.address,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    },
  };
}
