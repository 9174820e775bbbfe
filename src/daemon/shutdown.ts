import type { Logger } from "../base/logger.js";

/**
 * Clean shutdown on SIGINT/SIGTERM: run every registered step (newest first:
 * stop accepting work before tearing down what it uses), then exit 0. A step
 * that hangs cannot keep the daemon alive past graceMs; a second signal exits
 * at once.
 */
export class Shutdown {
  private readonly steps: { name: string; run: () => Promise<void> }[] = [];
  private stopping = false;
  // Keeps the process alive while nothing else does (e.g. -no-cli on one node).
  private readonly keepAlive = setInterval(() => {}, 1 << 30);

  constructor(
    private readonly log: Logger,
    private readonly graceMs = 10_000,
  ) {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void this.begin(sig));
  }

  /** Registers a step; steps run in reverse order of registration. */
  add(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  async begin(reason: string): Promise<void> {
    if (this.stopping) {
      this.log.warn({ reason }, "second signal: exiting now");
      process.exit(1);
    }
    this.stopping = true;
    this.log.info({ reason }, "shutting down");
    const force = setTimeout(() => {
      this.log.error({ graceMs: this.graceMs }, "shutdown took too long: exiting anyway");
      process.exit(1);
    }, this.graceMs);
    for (const step of this.steps.slice().reverse()) {
      try {
        await step.run();
      } catch (e) {
        this.log.error({ step: step.name, err: String(e) }, "shutdown step failed");
      }
    }
    clearTimeout(force);
    clearInterval(this.keepAlive);
    this.log.info({}, "stopped");
    process.exit(0);
  }
}
