import type { ClientRequest, IncomingMessage } from "node:http";
import { http } from "../base/node_http.js";
import type { ErrorBody } from "../control/api_types.js";
import { CliError } from "./errors.js";

/*
 * The control API client: node:http, JSON requests, NDJSON streams, and
 * the open response of a Server-Sent Events stream (sse.ts reads it). Every
 * failure becomes a CliError whose one line says what happened and what to
 * do; a daemon that is not running is the common case and gets its own
 * message.
 */

export interface ClientOptions {
  /** host:port of the daemon's control API. */
  server: string;
  token?: string;
}

/** Largest NDJSON line accepted (bytes): a node's results for 10,000 checks fit. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** The daemon answered, but not 200: status is the HTTP status (401 token, 404 no such endpoint...). */
export class HttpStatusError extends CliError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export class ControlClient {
  constructor(private readonly o: ClientOptions) {}

  /** GETs path; aborting signal (a deadline) ends the request with an error. */
  async getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.json<T>("GET", path, undefined, signal);
  }

  async postJson<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>("POST", path, body);
  }

  async deleteJson<T>(path: string, body?: unknown): Promise<T> {
    return this.json<T>("DELETE", path, body);
  }

  /**
   * POSTs body and yields each NDJSON line of the answer as parsed JSON.
   * Breaking out of the loop (or aborting signal) closes the connection, which
   * tells the daemon to stop waiting.
   */
  async *stream(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<unknown> {
    let req: ClientRequest | undefined;
    try {
      const sent = await this.send("POST", path, body, signal);
      req = sent.req;
      const res = sent.res;
      if (res.statusCode !== 200) throw await this.httpError(res);
      res.setEncoding("utf8");
      let buf = "";
      for await (const chunk of res as AsyncIterable<string>) {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) yield this.parse(line);
        }
        if (buf.length > MAX_LINE_BYTES) throw new CliError(`gossipcheckd at ${this.o.server} sent a line over ${MAX_LINE_BYTES} bytes: is -server pointing at gossipcheckd?`);
      }
      if (buf.trim()) yield this.parse(buf.trim());
    } catch (e) {
      if (signal?.aborted) return;
      throw e instanceof CliError ? e : this.connectionError(e as NodeJS.ErrnoException);
    } finally {
      req?.destroy();
    }
  }

  /**
   * GETs a Server-Sent Events stream (/v1/streams/...) and returns the open
   * response once the daemon answered 200 with text/event-stream; closing it
   * is the caller's (req.destroy(), or aborting signal). A 404 means a daemon
   * older than the streams.
   */
  async openEventStream(path: string, signal?: AbortSignal): Promise<{ req: ClientRequest; res: IncomingMessage }> {
    const { req, res } = await this.send("GET", path, undefined, signal, "text/event-stream");
    try {
      if (res.statusCode === 404) {
        // An older daemon answers "no such endpoint" for every /v1/streams path.
        const message = await errorMessage(res);
        if (message.startsWith("no such endpoint") || message === "") {
          throw new HttpStatusError(`the daemon at ${this.o.server} has no /v1/streams (older than this gcheck): upgrade it`, 404);
        }
        throw new HttpStatusError(`gossipcheckd at ${this.o.server} answered 404: ${message}`, 404);
      }
      if (res.statusCode !== 200) throw await this.httpError(res);
      const type = String(res.headers["content-type"] ?? "");
      if (!type.startsWith("text/event-stream")) {
        throw new CliError(`gossipcheckd at ${this.o.server} answered ${path} with ${type || "no content-type"}, not text/event-stream: is -server pointing at gossipcheckd?`);
      }
      return { req, res };
    } catch (e) {
      req.destroy();
      throw e instanceof CliError ? e : this.connectionError(e as NodeJS.ErrnoException);
    }
  }

  /** A transport failure (refused, reset...) as the one-line CliError every command shows. */
  connectionFailure(e: unknown): CliError {
    return e instanceof CliError ? e : this.connectionError(e as NodeJS.ErrnoException);
  }

  private parse(text: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new CliError(`gossipcheckd at ${this.o.server} sent something that is not JSON: is -server pointing at gossipcheckd?`);
    }
  }

  private async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const { req, res } = await this.send(method, path, body, signal);
    try {
      if (res.statusCode !== 200) throw await this.httpError(res);
      return this.parse(await readAll(res)) as T;
    } catch (e) {
      throw e instanceof CliError ? e : this.connectionError(e as NodeJS.ErrnoException);
    } finally {
      req.destroy();
    }
  }

  private send(method: string, path: string, body?: unknown, signal?: AbortSignal, accept = "application/json, application/x-ndjson"): Promise<{ req: ClientRequest; res: IncomingMessage }> {
    const [host, port] = splitServer(this.o.server);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { accept };
    if (payload) Object.assign(headers, { "content-type": "application/json", "content-length": payload.length });
    if (this.o.token !== undefined) headers.authorization = `Bearer ${this.o.token}`;
    return new Promise((resolve, reject) => {
      // agent: false: one connection per request, closed with it, so nothing keeps gcheck alive.
      const req = http.request({ host, port, method, path, headers, agent: false, ...(signal && { signal }) }, (res) => resolve({ req, res }));
      req.on("error", (e: NodeJS.ErrnoException) => reject(this.connectionError(e)));
      req.end(payload);
    });
  }

  private async httpError(res: IncomingMessage): Promise<HttpStatusError> {
    const message = await errorMessage(res);
    return new HttpStatusError(`gossipcheckd at ${this.o.server} answered ${res.statusCode}: ${message || res.statusMessage}`, res.statusCode ?? 0);
  }

  private connectionError(e: NodeJS.ErrnoException): CliError {
    if (e instanceof CliError) return e;
    const at = `gossipcheckd not reachable at ${this.o.server}`;
    switch (e.code) {
      case "ECONNREFUSED":
        return new CliError(`${at}: is it running? (start it with gossipcheckd, or point -server at it)`);
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return new CliError(`${at}: the host name does not resolve: check -server`);
      case "ETIMEDOUT":
      case "EHOSTUNREACH":
      case "ENETUNREACH":
        return new CliError(`${at}: no route to it (${e.code}): check -server and the network`);
      case "ECONNRESET":
      case "EPIPE":
        return new CliError(`gossipcheckd at ${this.o.server} closed the connection (${e.code}): is -server pointing at gossipcheckd? see its log`);
      default:
        return new CliError(`${at}: ${e.message}`);
    }
  }
}

/** A non-200 answer's message: the daemon's JSON ErrorBody's, else the text as it came (at most 2000 characters). */
async function errorMessage(res: IncomingMessage): Promise<string> {
  const text = await readAll(res).catch(() => "");
  try {
    const body = JSON.parse(text) as ErrorBody;
    if (typeof body.error === "string") return body.error;
  } catch {
    // not our JSON error body: show the text as it came
  }
  return text.trim().slice(0, 2000);
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
  });
}

/** "host:port" or "[v6]:port" -> [host, port] (already validated by main). */
function splitServer(server: string): [string, number] {
  const i = server.lastIndexOf(":");
  return [server.slice(0, i).replace(/^\[|\]$/g, ""), Number(server.slice(i + 1))];
}
