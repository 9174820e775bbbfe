/**
 * The logging seam: the pino-compatible subset the protocol layers use. The
 * daemon passes a pino logger; tests and simulations pass nullLogger (or a
 * recording one).
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/**
 * Logs at most one line per key every intervalMs and counts what it held
 * back, so a flood of garbage packets cannot flood the log.
 */
export class RateLimitedLog {
  private last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly intervalMs = 10_000,
  ) {}

  warn(key: string, obj: object, msg: string): void {
    const t = this.now();
    const e = this.last.get(key);
    if (e && t - e.at < this.intervalMs) {
      e.suppressed++;
      return;
    }
    this.log.warn({ ...obj, suppressed: e?.suppressed ?? 0 }, msg);
    this.last.set(key, { at: t, suppressed: 0 });
  }
}
