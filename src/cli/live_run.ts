import type { CliContext } from "./context.js";
import type { ControlClient } from "./client.js";
import { followLive, LIVE_TIMING, type LiveTiming } from "./live_follow.js";
import { type Frame, LiveScreen, type Terminal } from "./live_screen.js";
import { formatTime } from "./output/table.js";
import type { SseEvent } from "./sse.js";

/*
 * The three ways -watch shows a live stream, chosen by where stdout goes:
 *   - a terminal: the view's table redrawn in place with a status line
 *     (live_screen.ts); a lost daemon shows "reconnecting..." until it is
 *     back, however long that takes (a person is watching and can Ctrl-C);
 *   - a pipe or file: what the view writes for each event (a table, a line
 *     per change), appended; a lost daemon is said on stderr, and gcheck
 *     exits 2 when it stays lost past LiveTiming.giveUpMs, so a script
 *     notices;
 *   - -output json: every event as one NDJSON line {"event", "data"} as it
 *     comes, the same give-up rule.
 * SIGINT ends every mode with exit 0 and the terminal as it was.
 */

/** What a command's -watch knows of its stream (members, stats). */
export interface LiveView {
  /** A new connection: the next event is a snapshot and what was known is stale. */
  connected(): void;
  /** Folds the event in; returns what a pipe gets for it ("" for nothing). */
  apply(e: SseEvent): string;
  /** The table a terminal shows now. */
  table(): string;
  /** The view's part of the status line ("5 members: 4 alive, 1 suspect"). */
  summary(): string;
}

/** What tests replace: the clocks and delays, and SIGINT. */
export interface LiveSeams {
  timing: LiveTiming;
  /** Stands for SIGINT (tests); without it, gcheck listens for SIGINT itself. */
  interrupt?: AbortSignal;
}

export const LIVE_SEAMS: LiveSeams = { timing: LIVE_TIMING };

/** Follows path (the stream named `stream`) into view until SIGINT (exit 0) or a failure that ends it (CliError, exit 2). */
export async function runLive(ctx: CliContext, client: ControlClient, stream: string, path: string, view: LiveView, seams: LiveSeams, tickMs?: number): Promise<number> {
  const out = ctx.stdout as Terminal;
  const mode = ctx.output === "json" ? "json" : out.isTTY === true ? "terminal" : "pipe";
  const interrupt = new AbortController();
  const stop = () => interrupt.abort();
  seams.interrupt?.addEventListener("abort", stop, { once: true });
  // While watching, SIGINT is ours: a second one finds no listener and kills gcheck.
  if (!seams.interrupt) process.once("SIGINT", stop);
  // A reader that went away (gcheck members -watch | head) ends the watch quietly.
  out.on("error", stop);

  const t = seams.timing;
  let lost: { sinceMs: number; reason: string } | undefined;
  let updatedMs: number | undefined;
  const status = (): string => {
    const state = lost ? `reconnecting... (lost at ${formatTime(lost.sinceMs)}: ${lost.reason})` : updatedMs !== undefined ? `updated ${formatTime(updatedMs)}` : "connecting...";
    return `gossipcheckd at ${ctx.server}: ${view.summary()}; ${state}; Ctrl-C quits`;
  };
  const screen = mode === "terminal" ? new LiveScreen(out, (): Frame => ({ body: view.table(), status: status() }), tickMs) : undefined;
  screen?.start();
  try {
    return await followLive(
      client,
      { stream, server: ctx.server, path, interrupt: interrupt.signal, giveUp: mode !== "terminal", timing: t },
      {
        connected: () => {
          if (lost && mode !== "terminal") ctx.stderr.write(`gcheck: reconnected to gossipcheckd at ${ctx.server}; starting over from its snapshot\n`);
          lost = undefined;
          view.connected();
          screen?.invalidate();
        },
        event: (e) => {
          updatedMs = t.now();
          if (mode === "json") out.write(JSON.stringify({ event: e.event, data: e.data }) + "\n");
          else {
            const text = view.apply(e);
            if (mode === "pipe" && text) out.write(text);
          }
          screen?.invalidate();
        },
        down: (reason, sinceMs) => {
          if (!lost && mode !== "terminal") ctx.stderr.write(`gcheck: lost the ${stream} stream of gossipcheckd at ${ctx.server} (${reason}); reconnecting\n`);
          lost = { sinceMs, reason };
          screen?.invalidate();
        },
      },
    );
  } finally {
    screen?.stop();
    if (!seams.interrupt) process.removeListener("SIGINT", stop);
    seams.interrupt?.removeEventListener("abort", stop);
    out.removeListener("error", stop);
  }
}
