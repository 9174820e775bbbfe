import type { SseMessage } from "../control/sse_parser.js";
import { STREAM_KEEPALIVE_MS } from "../control/stream_types.js";
import { ClientError, type Http } from "./http.js";

/*
 * One SSE stream of the daemon kept open: when it breaks (the daemon
 * restarted, the connection dropped, the daemon disconnected a subscriber
 * that fell 1 MiB behind) it is opened again after a backoff that starts at
 * minMs, doubles up to maxMs (with +-20% jitter) and starts over once a
 * stream has stayed open. Every stream begins again from its start (a
 * members snapshot; a channel from the next message): what was sent while
 * it was closed is not replayed. A stream silent for three keepalive
 * intervals is taken as dead and reopened. Refusals that a retry cannot fix
 * (400, 401, 403, 404, 405, 501) stop it.
 */

export interface Backoff {
  minMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { minMs: 100, maxMs: 5_000 };

const FATAL = new Set([400, 401, 403, 404, 405, 501]);

export interface LiveHandlers {
  event: (m: SseMessage) => void;
  /** The stream (re)opened: its first event follows. */
  open?: () => void;
  /** A break (fatal: the stream stops for good). */
  error: (err: Error, fatal: boolean) => void;
}

export class LiveStream {
  private readonly ac = new AbortController();
  private idle: NodeJS.Timeout | null = null;
  private current: AbortController | null = null;

  constructor(
    private readonly http: Http,
    private readonly path: string,
    private readonly h: LiveHandlers,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
  ) {
    void this.run();
  }

  stop(): void {
    this.ac.abort();
    this.current?.abort();
    if (this.idle) clearTimeout(this.idle);
  }

  private async run(): Promise<void> {
    let delay = this.backoff.minMs;
    while (!this.ac.signal.aborted) {
      const openedMs = Date.now();
      const attempt = new AbortController();
      this.current = attempt;
      try {
        let first = true;
        this.touch(attempt);
        for await (const m of this.http.sse(this.path, attempt.signal, () => this.touch(attempt))) {
          if (first) {
            first = false;
            this.h.open?.();
          }
          this.h.event(m);
        }
        if (!this.ac.signal.aborted) this.h.error(new ClientError(`${this.http.base}${this.path}: the daemon ended the stream; reopening`, 0), false);
      } catch (e) {
        if (this.ac.signal.aborted) break;
        const status = e instanceof ClientError ? e.status : 0;
        const fatal = FATAL.has(status);
        this.h.error(e instanceof Error ? e : new Error(String(e)), fatal);
        if (fatal) break;
      } finally {
        if (this.idle) clearTimeout(this.idle);
        attempt.abort();
      }
      if (Date.now() - openedMs > this.backoff.maxMs) delay = this.backoff.minMs;
      await sleep(delay * (0.8 + 0.4 * Math.random()), this.ac.signal);
      delay = Math.min(this.backoff.maxMs, delay * 2);
    }
  }

  /** Something arrived: the idle deadline starts over. */
  private touch(attempt: AbortController): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => attempt.abort(), 3 * STREAM_KEEPALIVE_MS);
    this.idle.unref();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
