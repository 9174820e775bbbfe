/*
 * Every knob of the scheduler (scheduler.ts), in one documented home, as
 * src/gossip/config.ts does for dissemination.
 */

export interface SchedulerConfig {
  /**
   * Checks due within this long (ms) of the earliest due one run in the same
   * tick, in one run per schedule: one process snapshot, one batch record,
   * one wake-up of the event loop instead of several. A check may so run up
   * to this much early; its slots stay where they are (no drift). Larger
   * windows mean fewer, larger runs (1000 checks at 10 s with a 10 s splay:
   * about 100 runs a second unwindowed, about 20 at 50 ms).
   */
  coalesceMs: number;
  /**
   * The flap guard: at most this many action runs per check per
   * flapWindowMs. A check that keeps failing after its action (a service
   * that crashes right after each restart) would otherwise run its action
   * every interval; past the bound its result is `fail` with "action
   * suppressed: flapping", the action is not run, and an event says so.
   * 0 never runs an action of a scheduled check.
   */
  maxActionRuns: number;
  /** The flap guard's sliding window (ms). */
  flapWindowMs: number;
}

export function defaultSchedulerConfig(): SchedulerConfig {
  return {
    coalesceMs: 50,
    maxActionRuns: 3,
    flapWindowMs: 10 * 60_000,
  };
}
