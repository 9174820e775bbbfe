import type { Writable } from "node:stream";

/*
 * The terminal of gcheck members -watch and stats -watch: a table redrawn
 * in place with a status line under it, like top. Each frame goes home and
 * overwrites the previous one line by line (erasing each line's rest and
 * whatever is below), so the screen never flashes blank; frames are
 * throttled to MAX_FRAMES_PER_S however fast events come. The cursor is
 * hidden while watching and shown again by stop(), which every way out
 * calls (SIGINT included).
 */

/** Redraws at most this often (a 1,000-member cluster churning must not flood the terminal). */
export const MAX_FRAMES_PER_S = 4;

export interface Frame {
  /** The table, lines ending in "\n". */
  body: string;
  /** One line under it: daemon, last update, reconnecting... */
  status: string;
}

const HOME = "\x1b[H";
const CLEAR_SCREEN = "\x1b[2J";
const ERASE_LINE_END = "\x1b[K";
const ERASE_BELOW = "\x1b[J";
const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";

export type Terminal = Writable & { isTTY?: boolean; rows?: number; columns?: number };

export class LiveScreen {
  private lastDrawMs = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private started = false;

  /**
   * render: the frame now. tickMs: also redraw this often while nothing
   * arrives (members' SINCE column moves); now: a monotonic clock (ms).
   */
  constructor(
    private readonly out: Terminal,
    private readonly render: () => Frame,
    private readonly tickMs?: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): void {
    this.started = true;
    this.out.write(HIDE_CURSOR + CLEAR_SCREEN);
    // unref: neither timer keeps gcheck alive; stop() clears them.
    if (this.tickMs !== undefined) this.ticker = setInterval(() => this.invalidate(), this.tickMs).unref();
  }

  /** Something changed: draw now, or as soon as the throttle allows. */
  invalidate(): void {
    if (!this.started || this.timer) return;
    const waitMs = this.lastDrawMs + 1000 / MAX_FRAMES_PER_S - this.now();
    if (waitMs <= 0) this.draw();
    else this.timer = setTimeout(() => this.draw(), waitMs).unref();
  }

  /** Draws the last frame and gives the terminal back: cursor shown, below the table. */
  stop(): void {
    if (!this.started) return;
    clearTimeout(this.timer);
    clearInterval(this.ticker);
    this.draw();
    this.started = false;
    this.out.write(SHOW_CURSOR);
  }

  private draw(): void {
    this.timer = undefined;
    this.lastDrawMs = this.now();
    const { body, status } = this.render();
    this.out.write(
      HOME +
        fitFrame(body, status, this.out.rows, this.out.columns)
          .map((l) => l + ERASE_LINE_END + "\n")
          .join("") +
        ERASE_BELOW,
    );
  }
}

/**
 * The frame's lines cut to the terminal (rows x columns, when known): a
 * line wider than the screen would wrap and push the frame off it, so each
 * is cut; a table taller than the screen keeps its first rows and says how
 * many more there are. The status line is always the last.
 */
export function fitFrame(body: string, status: string, rows?: number, columns?: number): string[] {
  let lines = body.replace(/\n$/, "").split("\n");
  // One row for the status line, one left empty so the last "\n" does not scroll.
  const room = rows !== undefined && rows > 3 ? rows - 2 : undefined;
  if (room !== undefined && lines.length > room) {
    const more = lines.length - (room - 1);
    lines = [...lines.slice(0, room - 1), `... ${more} more rows (a taller terminal shows them)`];
  }
  lines.push(status);
  // The last column is left free: a terminal that has just written there waits to wrap, and some then erase that cell.
  const width = columns !== undefined && columns > 1 ? columns - 1 : undefined;
  return width !== undefined ? lines.map((l) => (l.length > width ? l.slice(0, width - 1) + "~" : l)) : lines;
}
