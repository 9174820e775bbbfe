import type { ControlClient } from "./client.js";
import { CliError } from "./errors.js";

/**
 * Follows one NDJSON result stream of the control API (POST /v1/check,
 * POST /v1/keys): hands each event to onEvent until it says it has seen
 * enough, the daemon ends the stream, or timeoutMs plus a grace for the
 * daemon's own "done" has passed. Leaving early closes the connection,
 * which tells the daemon to stop waiting. An "error" line becomes a
 * CliError (exit 2).
 */

/** Extra wait past the timeout for the daemon's own "done" before gcheck gives up on it (ms). */
const DONE_GRACE_MS = 2_000;

export interface Followed {
  /** gcheck stopped waiting before the daemon ended the stream. */
  gaveUp: boolean;
  /** onEvent said it had seen enough. */
  finished: boolean;
}

export async function followStream<E extends { type: string }>(
  client: ControlClient,
  server: string,
  path: string,
  body: unknown,
  timeoutMs: number,
  onEvent: (event: E) => boolean,
): Promise<Followed> {
  const gaveUp = new AbortController();
  const backstop = setTimeout(() => gaveUp.abort(), timeoutMs + DONE_GRACE_MS);
  let finished = false;
  try {
    for await (const raw of client.stream(path, body, gaveUp.signal)) {
      const event = raw as E & { error?: unknown };
      if (event.type === "error") throw new CliError(`gossipcheckd at ${server}: ${String(event.error)}`);
      if (onEvent(event)) {
        finished = true;
        break;
      }
    }
  } finally {
    clearTimeout(backstop);
  }
  return { gaveUp: gaveUp.signal.aborted, finished };
}
