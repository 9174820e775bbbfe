import type { ServerResponse } from "node:http";
import { STREAM_KEEPALIVE_MS, STREAM_MAX_BUFFERED_BYTES } from "../../../control/stream_types.js";

/*
 * One Server-Sent Events response (src/control/stream_types.ts). Writes made
 * in one event-loop turn leave together (cork until the next tick), so a
 * round of 1,000 nodes' stats is a few writes, not a thousand. A client that
 * stops reading is dropped as soon as STREAM_MAX_BUFFERED_BYTES wait for it
 * in the socket's buffer: whoever reads a stream, and however slowly, it
 * costs the daemon at most that much memory. A ": keepalive" comment after
 * a quiet STREAM_KEEPALIVE_MS finds clients that went away without a word.
 */

export interface SseLimits {
  keepaliveMs: number;
  maxBufferedBytes: number;
}

export const DEFAULT_SSE_LIMITS: SseLimits = { keepaliveMs: STREAM_KEEPALIVE_MS, maxBufferedBytes: STREAM_MAX_BUFFERED_BYTES };

export class SseStream {
  private corked = false;
  private lastWriteMs = Date.now();
  private readonly keepalive: NodeJS.Timeout;
  private closedFlag = false;
  /** Resolves when the client goes away or the stream is ended. */
  readonly closed: Promise<void>;

  constructor(
    private readonly res: ServerResponse,
    private readonly limits: SseLimits = DEFAULT_SSE_LIMITS,
    /** Called once when the stream drops a client that does not read. */
    private readonly onDropped: () => void = () => {},
  ) {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      // Proxies (nginx) must pass events on as they come, not buffer them.
      "x-accel-buffering": "no",
    });
    // Headers now: curl and EventSource see the stream open before the first event.
    res.flushHeaders();
    this.closed = new Promise((resolve) =>
      res.once("close", () => {
        this.closedFlag = true;
        clearInterval(this.keepalive);
        resolve();
      }),
    );
    this.keepalive = setInterval(
      () => {
        if (Date.now() - this.lastWriteMs >= limits.keepaliveMs) this.write(": keepalive\n\n");
      },
      Math.max(50, limits.keepaliveMs / 2),
    );
    this.keepalive.unref();
  }

  get isClosed(): boolean {
    return this.closedFlag || this.res.destroyed;
  }

  /** Sends one event; false when the stream is closed (or was just dropped for not reading). */
  send(event: string, data: unknown): boolean {
    return this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    if (!this.isClosed) this.res.end();
  }

  private write(text: string): boolean {
    if (this.isClosed) return false;
    if (this.res.writableLength > this.limits.maxBufferedBytes) {
      this.closedFlag = true;
      this.onDropped();
      this.res.destroy();
      return false;
    }
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      process.nextTick(() => {
        this.corked = false;
        this.res.uncork();
      });
    }
    this.res.write(text);
    this.lastWriteMs = Date.now();
    return true;
  }
}
