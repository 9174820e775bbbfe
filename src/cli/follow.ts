import { performance } from "node:perf_hooks";
import type { ControlClient } from "./client.js";
import { CliError } from "./errors.js";

/*
 * Follows one NDJSON result stream of the control API (POST /v1/check,
 * POST /v1/keys): hands each event to onEvent until it says it has seen
 * enough, the daemon ends the stream, or timeoutMs plus a grace for the
 * daemon's own "done" has passed. Leaving early closes the connection,
 * which tells the daemon to stop waiting. An "error" line becomes a
 * CliError (exit 2). An interrupt (gcheck's SIGINT) leaves the same way.
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
  interrupt?: AbortSignal,
): Promise<Followed> {
  const gaveUp = new AbortController();
  const backstop = setTimeout(() => gaveUp.abort(), timeoutMs + DONE_GRACE_MS);
  const stop = () => gaveUp.abort();
  interrupt?.addEventListener("abort", stop, { once: true });
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
  } catch (e) {
    // The aborted request's own error: an interrupt is not a failure of the stream.
    if (!interrupt?.aborted) throw e;
  } finally {
    clearTimeout(backstop);
    interrupt?.removeEventListener("abort", stop);
  }
  return { gaveUp: gaveUp.signal.aborted, finished };
}

/** What followReport needs of a report (BatchReport, KeysReport, StatsReport). */
export interface FollowedReport<E> {
  apply(event: E): void;
  readonly accepted: boolean;
  readonly done: boolean;
  readonly complete: boolean;
}

/**
 * Follows a result stream into report until the daemon's done or every
 * expected node answered; `what` names the request in errors ("the batch").
 * A stream that ends before `accepted` is a CliError; one that ends early
 * afterwards is a warning on stderr (what arrived is still shown).
 * onEvent runs after each event (gcheck check's progress line). Resolves
 * with the elapsed ms.
 */
export async function followReport<E extends { type: string }>(
  ctx: { server: string; stderr: NodeJS.WritableStream },
  client: ControlClient,
  path: string,
  body: unknown,
  timeoutMs: number,
  report: FollowedReport<E>,
  what: string,
  onEvent: () => void = () => undefined,
  interrupt?: AbortSignal,
): Promise<number> {
  const started = performance.now();
  const followed = await followStream<E>(
    client,
    ctx.server,
    path,
    body,
    timeoutMs,
    (event) => {
      report.apply(event);
      onEvent();
      return report.done || report.complete;
    },
    interrupt,
  );
  const elapsedMs = performance.now() - started;
  if (interrupt?.aborted) return elapsedMs;
  if (!report.accepted) throw new CliError(`gossipcheckd at ${ctx.server} ended the stream before accepting ${what}: see its log`);
  if (!followed.finished && !followed.gaveUp) {
    ctx.stderr.write(`gcheck: gossipcheckd at ${ctx.server} ended the result stream early (did it stop?); showing what arrived\n`);
  }
  return elapsedMs;
}
