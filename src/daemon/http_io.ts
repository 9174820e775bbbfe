import type { IncomingMessage, ServerResponse } from "node:http";

/**
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

/**
 * Reads the whole body and parses it as JSON (whatever the Content-Type says,
 * so `curl -d @file` works). Bodies over maxBytes (bytes) end in a 413
 * before they are buffered: the Content-Length is checked first, then the
 * bytes actually received.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const tooLarge = () => new HttpError(413, `request body is larger than the limit of ${maxBytes} bytes: send fewer or smaller checks`, { connection: "close" });
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  if (size === 0) throw new HttpError(400, "request body is empty: send a JSON object");
  const text = Buffer.concat(chunks, size).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, `request body is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Writes one NDJSON line and waits while the socket's buffer is full, so a
 * slow reader slows the writer instead of growing memory without bound.
 */
export async function writeLine(res: ServerResponse, value: unknown): Promise<void> {
  if (res.destroyed || res.writableEnded) return;
  if (!res.write(JSON.stringify(value) + "\n")) {
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.on("drain", done);
      res.on("close", done);
    });
  }
}
