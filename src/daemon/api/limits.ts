/*
 * The control API's connection limits: one home for every timeout and cap of
 * the HTTP server on -cli-bind (server.ts applies them, connections.ts
 * enforces the cap). The API is meant for gcheck, curl and a metrics scraper
 * on loopback or a management network, not for the public internet: the
 * defaults are generous to a slow but real client and short for a socket that
 * sends nothing.
 */

export interface ApiLimits {
  /**
   * Time from the start of a request (a new connection, or the first byte of
   * the next request on a kept-alive one) until its headers are complete
   * (ms). Node's server.headersTimeout; a connection that misses it gets a
   * 408 and is closed. Cost: a silent or trickling client holds one socket
   * (a file descriptor and a few KB) for this long. gcheck sends its headers
   * in one write, so even a slow WAN link needs well under a second: 10 s
   * leaves ample room while a flood of half-open connections clears in 10 s.
   * Flag -cli-headers-timeout.
   */
  headersTimeoutMs: number;
  /**
   * Time from the start of a request until the whole request, body included,
   * has arrived (ms). Node's server.requestTimeout: it stops counting when
   * the request is complete, so it never cuts a response, and an NDJSON
   * result stream of POST /v1/check may last as long as its batch. The
   * largest body (16 MiB, DEFAULT_MAX_BODY_BYTES) arrives within 60 s at
   * 280 KiB/s; a body slower than that is cut with a 408. Must be at least
   * headersTimeoutMs. Flag -cli-request-timeout.
   */
  requestTimeoutMs: number;
  /**
   * How long a kept-alive connection may sit idle between requests (ms).
   * Node's server.keepAliveTimeout, whose default this is: gcheck makes one
   * request per run and a scraper comes back every 15 s or more, so a longer
   * wait would only hold sockets open for nobody.
   */
  keepAliveTimeoutMs: number;
  /**
   * Most connections open at once (all clients together). At the cap, a new
   * connection closes the least recently active one that is not being
   * answered (no request yet, headers or body still arriving, or idle between
   * requests); only when every connection is being answered (result streams,
   * scrapes in progress) is the new one refused with a 503. So half-open
   * sockets cannot lock out a real client, and a running stream is never cut
   * for them. An operator needs a handful (a few gcheck streams, a scraper, a
   * dashboard); 256 is far above that and stays well below a 1024 file
   * descriptor limit, leaving room for the cluster's own TCP connections.
   * Flag -cli-max-connections.
   */
  maxConnections: number;
}

export const DEFAULT_API_LIMITS: ApiLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
};

/** Bounds the flags accept (ms, connections): below them the API would cut real clients. */
export const API_LIMIT_BOUNDS = {
  timeoutMs: { min: 100, max: 3_600_000 },
  maxConnections: { min: 1, max: 100_000 },
} as const;

/**
 * How often Node looks for requests past their timeout (ms), so a timeout is
 * enforced at most this much late: a quarter of the shorter timeout, between
 * 50 ms and 1 s. Node's default (30 s) would let a 10 s headers timeout run
 * to 40 s. The check walks only connections with a request in progress.
 */
export function connectionsCheckingIntervalMs(l: ApiLimits): number {
  return Math.min(1_000, Math.max(50, Math.floor(Math.min(l.headersTimeoutMs, l.requestTimeoutMs) / 4)));
}

/**
 * The metrics server's limits (-metrics-bind; fixed, no flags): it answers
 * GETs without a body, so a request is complete when its headers are, and a
 * scraper or a load balancer's health check needs one or two connections.
 * 64 leaves room for several scrapers and probes while a flood of idle
 * sockets holds at most 64 file descriptors.
 */
export const METRICS_SERVER_LIMITS: ApiLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 64,
};
