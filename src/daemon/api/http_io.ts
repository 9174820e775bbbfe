import type { IncomingMessage, ServerResponse } from "node:http";
import { errorMessage } from "../../base/result.js";
import { METRICS_CONTENT_TYPE } from "./lazy_metrics.js";

/*
 * Reading and writing the control API's HTTP bodies: JSON in with a size
 * limit, JSON or NDJSON out. No framework: node:http is enough, and curl is a
 * full client.
 */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body) + "\n";
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store", ...headers });
  res.end(text);
}

/** A scrape's answer: the exposition text (format 0.0.4). */
export function sendMetrics(res: ServerResponse, text: string): void {
  res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE, "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

/**
 * Reads the whole body and parses it as JSON (whatever the Content-Type says,
 * so `curl -d @file` works). Bodies over maxBytes (bytes) end in a 413
 * before they are buffered: the Content-Length is checked first, then the
 * bytes actually received.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const text = await readBodyText(req, maxBytes);
  if (text === "") throw new HttpError(400, "request body is empty: send a JSON object");
  return parseJson(text);
}

/** As readJsonBody, for a route whose body may be left out (DELETE): undefined when there is none. */
export async function readOptionalJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const text = await readBodyText(req, maxBytes);
  return text.trim() === "" ? undefined : parseJson(text);
}

async function readBodyText(req: IncomingMessage, maxBytes: number): Promise<string> {
  return (await readBodyBytes(req, maxBytes, "send fewer or smaller checks")).toString("utf8");
}

/** The whole body as bytes (a channel message), 413 past maxBytes (bytes); `advice` says what to send instead. */
export async function readBodyBytes(req: IncomingMessage, maxBytes: number, advice: string): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `request body is larger than the limit of ${maxBytes} bytes: ${advice}`, { connection: "close" });
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    // The connection went away mid-body: the client left, or a limit (limits.ts) closed it.
    throw new HttpError(400, `the request body was cut off after ${size} bytes (${errorMessage(e)})`);
  }
  return Buffer.concat(chunks, size);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, `request body is not valid JSON: ${errorMessage(e)}`);
  }
}

/** Least time between two writes of a result stream (ms): what arrives meanwhile leaves together. */
export const LINE_FLUSH_INTERVAL_MS = 5;

/**
 * NDJSON lines gathered into few writes. A line after a quiet spell leaves at
 * the end of the event-loop turn (setImmediate); lines that follow within
 * LINE_FLUSH_INTERVAL_MS of a write wait for that interval and leave
 * together. Replies that reach the origin one by one would otherwise cost a
 * write(2) each and wake the reader (gcheck) each time; the reader sees
 * progress at most 5 ms late, and the last line (end()) goes at once, in the
 * same write as the end of the response. add() waits while the socket's
 * buffer is full, so a slow reader slows the writer instead of growing
 * memory without bound.
 */
export class LineWriter {
  private pending: string[] = [];
  private scheduled = false;
  private lastWriteMs = -Infinity;

  constructor(private readonly res: ServerResponse) {}

  async add(value: unknown): Promise<void> {
    if (this.res.destroyed || this.res.writableEnded) return;
    this.pending.push(JSON.stringify(value) + "\n");
    if (this.res.writableNeedDrain) await drained(this.res);
    if (!this.scheduled) {
      this.scheduled = true;
      const wait = this.lastWriteMs + LINE_FLUSH_INTERVAL_MS - performance.now();
      if (wait <= 0) setImmediate(() => this.flush());
      else setTimeout(() => this.flush(), wait);
    }
  }

  /** Writes what is left and ends the response, in one write. */
  end(): void {
    if (this.res.writableEnded) return;
    const text = this.take();
    if (text === null || this.res.destroyed) this.res.end();
    else this.res.end(text);
  }

  private flush(): void {
    if (this.res.destroyed || this.res.writableEnded) {
      this.scheduled = false;
      return;
    }
    // Timers are measured against the event loop's cached clock, so on a busy
    // loop one can fire a few milliseconds early: hold to the interval.
    const early = this.lastWriteMs + LINE_FLUSH_INTERVAL_MS - performance.now();
    if (early > 0) {
      setTimeout(() => this.flush(), early);
      return;
    }
    this.scheduled = false;
    const text = this.take();
    if (text === null) return;
    this.res.write(text);
    // Taken once the write has returned, so the next write starts at least
    // the interval after this one was handed over, however long write() took.
    this.lastWriteMs = performance.now();
  }

  private take(): string | null {
    if (this.pending.length === 0) return null;
    const text = this.pending.length === 1 ? this.pending[0]! : this.pending.join("");
    this.pending = [];
    return text;
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
