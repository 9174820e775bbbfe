import type { ClientRequest, IncomingMessage } from "node:http";
import { CliError } from "./errors.js";
import { SseParser, type SseMessage } from "../control/sse_parser.js";

export { MAX_EVENT_CHARS, SseParser, type SseMessage } from "../control/sse_parser.js";

/*
 * The client side of the control API's Server-Sent Events streams
 * (control/stream_types.ts): SseParser (control/sse_parser.ts, shared with
 * the client library) cuts the text of a stream into events; and
 * readEventStream turns an open response (ControlClient.openEventStream)
 * into {event, data} with data parsed as JSON, which is all our streams
 * send. Comments (": keepalive") only prove the daemon is there.
 */

/** One event with its data parsed (every stream of the control API sends JSON). */
export interface SseEvent {
  event: string;
  data: unknown;
}

/** The stream broke the framing or the contract (oversize event, data that is not JSON): reconnecting would not help. */
export class SseProtocolError extends CliError {}

/**
 * Yields the events of an open SSE response until the daemon ends it.
 * `what` names the stream in errors ("the members stream of gossipcheckd
 * at 127.0.0.1:5924"). Nothing at all (not even a keepalive comment) for
 * idleMs ends it with an error: a daemon that vanished without closing
 * the connection (a host that lost power) is noticed. Leaving the loop
 * closes the connection.
 */
export async function* readEventStream(stream: { req: ClientRequest; res: IncomingMessage }, what: string, idleMs: number): AsyncGenerator<SseEvent> {
  const { req, res } = stream;
  let idle = false;
  req.setTimeout(idleMs, () => {
    idle = true;
    req.destroy();
  });
  const parser = new SseParser();
  res.setEncoding("utf8");
  try {
    for await (const chunk of res as AsyncIterable<string>) {
      const events = parser.push(chunk);
      if (!events.ok) throw new SseProtocolError(`${what} sent ${events.error}: is -server pointing at gossipcheckd?`);
      for (const m of events.value) yield { event: m.event, data: parseData(m, what) };
    }
  } catch (e) {
    if (idle) throw new CliError(`${what} sent nothing for ${Math.round(idleMs / 1000)}s (not even a keepalive)`);
    throw e;
  } finally {
    req.destroy();
  }
  if (idle) throw new CliError(`${what} sent nothing for ${Math.round(idleMs / 1000)}s (not even a keepalive)`);
}

function parseData(m: SseMessage, what: string): unknown {
  try {
    return JSON.parse(m.data) as unknown;
  } catch {
    const shown = m.data.length > 80 ? `${m.data.slice(0, 80)}...` : m.data;
    throw new SseProtocolError(`${what} sent a "${m.event}" event whose data is not JSON (${JSON.stringify(shown)}): is -server pointing at gossipcheckd?`);
  }
}
