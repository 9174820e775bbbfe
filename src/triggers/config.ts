import { LEFTOVER_TERM_GRACE_MS } from "../checks/leftovers.js";

/**
 * Every knob of the trigger runner, in one documented home. A trigger run is
 * one /bin/sh process group: the bounds below cap how many the daemon holds
 * at once, how long one may take, and what it may say.
 */
export interface TriggerConfig {
  /**
   * Script runs at once. Serf runs its handlers one at a time, so one slow
   * handler delays every later event; here a slow script holds one slot and
   * the others keep going. Each slot is a shell and whatever it starts, so
   * keep it small on small hosts: 4 covers a burst of membership events
   * (a rack failing is tens of member-failed, each a short script).
   */
  concurrency: number;
  /**
   * Runs waiting for a slot. When full, the oldest waiting run is dropped
   * (counted, logged at most once per 10 s): the newest events say most
   * about the present. 256 runs is about 256 KiB of queued event JSON.
   */
  queueLimit: number;
  /** How long (ms) a script may run before its process group gets SIGTERM (then SIGKILL after killGraceMs). */
  timeoutMs: number;
  /** SIGTERM-to-SIGKILL grace (ms) at a timeout or at shutdown, and for what a script leaves running when it exits. */
  killGraceMs: number;
  /** Standard output and error kept per run (bytes, both interleaved): logged when the script fails, at debug level otherwise. */
  outputLimitBytes: number;
}

export function defaultTriggerConfig(): TriggerConfig {
  return { concurrency: 4, queueLimit: 256, timeoutMs: 30_000, killGraceMs: LEFTOVER_TERM_GRACE_MS, outputLimitBytes: 64 * 1024 };
}
