import { STREAM_KEEPALIVE_MS } from "../control/stream_types.js";
import { type ControlClient, HttpStatusError } from "./client.js";
import { CliError, Exit } from "./errors.js";
import { formatDuration, formatTime } from "./output/table.js";
import { readEventStream, type SseEvent, SseProtocolError } from "./sse.js";

/*
 * Follows one live stream of the control API (gcheck members -watch, stats
 * -watch) for as long as the operator watches: each connection starts with
 * the daemon's snapshot, so after a drop (a daemon restart) gcheck simply
 * connects again, with backoff, and the watcher starts over from the new
 * snapshot. A stream that cannot be opened at all, a refusal (401 token,
 * 404 a daemon without streams) or a broken stream (not SSE, not JSON) ends
 * it at once with exit 2: waiting would not change them. SIGINT (interrupt)
 * ends it with exit 0.
 */

export interface LiveTiming {
  /** First wait before reconnecting (ms); doubles after each failed attempt up to maxRetryMs. */
  firstRetryMs: number;
  maxRetryMs: number;
  /** With giveUp: how long after losing the stream gcheck stops trying and exits 2 (ms). */
  giveUpMs: number;
  /** An attempt to connect that has no answer after this long fails (ms). */
  connectTimeoutMs: number;
  /** Nothing at all on an open stream for this long (two keepalives missed) counts as lost (ms). */
  idleMs: number;
  /** Wall clock (ms since the epoch): the times shown. */
  now: () => number;
}

export const LIVE_TIMING: LiveTiming = {
  firstRetryMs: 500,
  maxRetryMs: 5_000,
  giveUpMs: 10_000,
  connectTimeoutMs: 5_000,
  idleMs: 2 * STREAM_KEEPALIVE_MS + 5_000,
  now: () => Date.now(),
};

export interface LiveHandlers {
  /** A connection is open: the next event is a snapshot, and what was known before it is stale. */
  connected(): void;
  event(e: SseEvent): void;
  /** The stream is lost since sinceMs; gcheck is trying again (reason: the last failure). */
  down(reason: string, sinceMs: number): void;
}

export interface LiveOptions {
  /** The stream's path and query (/v1/streams/members). */
  path: string;
  /** The stream's name in messages ("members"). */
  stream: string;
  /** host:port of the daemon. */
  server: string;
  /** SIGINT: stop and exit 0. */
  interrupt: AbortSignal;
  /** Exit 2 once the stream is lost for timing.giveUpMs (a pipe, a script); else retry for ever (a person at a terminal). */
  giveUp: boolean;
  timing: LiveTiming;
}

/** Follows the stream until interrupted (resolves Exit.Ok) or it cannot go on (rejects with a CliError, exit 2). */
export async function followLive(client: ControlClient, o: LiveOptions, on: LiveHandlers): Promise<number> {
  const t = o.timing;
  const what = liveStreamName(o);
  let everConnected = false;
  let delayMs = t.firstRetryMs;
  let lostMs: number | undefined;
  while (!o.interrupt.aborted) {
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    o.interrupt.addEventListener("abort", stop, { once: true });
    const connectTimer = setTimeout(stop, t.connectTimeoutMs);
    let reason: string;
    try {
      const stream = await client.openEventStream(o.path, attempt.signal);
      clearTimeout(connectTimer);
      everConnected = true;
      lostMs = undefined;
      delayMs = t.firstRetryMs;
      on.connected();
      for await (const e of readEventStream(stream, what, t.idleMs)) on.event(e);
      reason = `${what} ended (the daemon closed it)`;
    } catch (e) {
      if (o.interrupt.aborted) break;
      // Not from the network or the stream: a bug of gcheck's, shown as one rather than retried.
      if (!(e instanceof CliError) && typeof (e as NodeJS.ErrnoException).code !== "string") throw e;
      const failure = attempt.signal.aborted ? new CliError(`no answer from gossipcheckd at ${o.server} within ${formatDuration(t.connectTimeoutMs)}`) : client.connectionFailure(e);
      if (!everConnected || fatal(failure)) throw failure;
      reason = failure.message;
    } finally {
      clearTimeout(connectTimer);
      o.interrupt.removeEventListener("abort", stop);
    }
    if (o.interrupt.aborted) break;
    lostMs ??= t.now();
    on.down(reason, lostMs);
    const leftMs = lostMs + t.giveUpMs - t.now();
    if (o.giveUp && leftMs <= 0) {
      throw new CliError(`lost ${what} at ${formatTime(lostMs)} and could not reconnect within ${formatDuration(t.giveUpMs)}: ${reason}`);
    }
    await sleep(o.giveUp ? Math.min(delayMs, leftMs) : delayMs, o.interrupt);
    delayMs = Math.min(delayMs * 2, t.maxRetryMs);
  }
  return Exit.Ok;
}

/** "the members stream of gossipcheckd at 127.0.0.1:5924": how messages name a stream. */
export function liveStreamName(o: { stream: string; server: string }): string {
  return `the ${o.stream} stream of gossipcheckd at ${o.server}`;
}

/** Failures that another attempt would meet again: a refusal by the daemon (4xx), a stream that breaks the contract. */
function fatal(e: unknown): boolean {
  return e instanceof SseProtocolError || (e instanceof HttpStatusError && e.status >= 400 && e.status < 500);
}

/** Waits ms, or less when signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
