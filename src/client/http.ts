import { DEFAULT_CLI_BIND } from "../control/defaults.js";
import { SseParser, type SseMessage } from "../control/sse_parser.js";

/*
 * How the client library speaks to one daemon's control API: JSON requests,
 * NDJSON answers (events, queries) and SSE streams, over Node's fetch, with
 * the bearer token when there is one. Every failure is a ClientError naming
 * the daemon and what it said.
 */

/** A request the daemon refused (status: its HTTP status) or that never reached it (status 0). */
export class ClientError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ClientError";
  }
}

/** Largest SSE event accepted (characters): a 10 MB channel message as base64 and text. */
const MAX_EVENT_CHARS = 40 * 1024 * 1024;
/** Largest NDJSON line accepted (characters). */
const MAX_LINE_CHARS = 64 * 1024 * 1024;

export class Http {
  /** "http://host:port" of the daemon's control API. */
  readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(server: string = DEFAULT_CLI_BIND, token?: string) {
    this.base = (/^https?:\/\//.test(server) ? server : `http://${server}`).replace(/\/+$/, "");
    this.headers = token ? { authorization: `Bearer ${token}` } : {};
  }

  /** A request whose answer is JSON; body: an object (sent as JSON) or bytes (sent raw). */
  async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.request(method, path, body, signal);
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ClientError(`${method} ${this.base}${path} answered something that is not JSON (${JSON.stringify(text.slice(0, 80))}): is it gossipcheckd's control API?`, res.status);
    }
  }

  /** A request whose answer is NDJSON: one parsed value per line. */
  async *ndjson<E>(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<E> {
    const res = await this.request("POST", path, body, signal);
    let pending = "";
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      if (pending.length > MAX_LINE_CHARS) throw new ClientError(`${this.base}${path} sent a line over ${MAX_LINE_CHARS} characters`, res.status);
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line !== "") yield JSON.parse(line) as E;
      }
    }
    if (pending.trim() !== "") yield JSON.parse(pending) as E;
  }

  /** Opens an SSE stream and yields its events until the daemon ends it (or signal aborts); onData hears every chunk (keepalives too). */
  async *sse(path: string, signal: AbortSignal, onData: () => void = () => {}): AsyncGenerator<SseMessage> {
    const res = await this.request("GET", path, undefined, signal, { accept: "text/event-stream" });
    const parser = new SseParser(MAX_EVENT_CHARS);
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      onData();
      const events = parser.push(decoder.decode(chunk, { stream: true }));
      if (!events.ok) throw new ClientError(`${this.base}${path} sent ${events.error}`, res.status);
      yield* events.value;
    }
  }

  private async request(method: string, path: string, body: unknown, signal?: AbortSignal, extra: Record<string, string> = {}): Promise<Response> {
    const raw = body instanceof Uint8Array;
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: { ...this.headers, ...extra, ...(body !== undefined && { "content-type": raw ? "application/octet-stream" : "application/json" }) },
        ...(body !== undefined && { body: raw ? body : JSON.stringify(body) }),
        ...(signal && { signal }),
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new ClientError(`cannot reach gossipcheckd at ${this.base} (${cause?.code ?? cause?.message ?? String(e)}): is it running, with -cli-bind there?`, 0);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => "");
    let error = text.trim().slice(0, 500);
    try {
      error = (JSON.parse(text) as { error?: string }).error ?? error;
    } catch {
      // not JSON: the text as it came
    }
    throw new ClientError(`${method} ${path} at ${this.base}: ${res.status} ${error}`, res.status);
  }
}
