/*
 * Every knob of the scheduler (scheduler.ts), in one documented home, as
 * src/gossip/config.ts does for dissemination.
 */

export interface SchedulerConfig {
  /**
   * Checks due within this long (ms) of the earliest due one run in the same
   * tick, in one run per schedule: one wake-up, one process snapshot, one
   * batch record. A check may so run up to this much early (never more than
   * a twentieth of its interval: a 1 s check at most 50 ms); its slots stay
   * where they are (no drift).
   *
   * Each wake-up costs far more than the checks it runs while the process
   * was idle in between (cold caches; on the bench VM a bare timer wake-up
   * is about 180 µs of CPU, a 6-check runBatch about 600 µs, against about
   * 50 µs in a hot loop). 1000 file checks at 10 s with a 10 s splay
   * (bench/schedule.ts): 50 ms, about 17 ticks a second, 1.6% of a core;
   * 250 ms, about 4 a second, 0.75-0.8%; 1000 ms, 0.64%; the rest is the
   * checks themselves.
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
    coalesceMs: 250,
    maxActionRuns: 3,
    flapWindowMs: 10 * 60_000,
  };
}
