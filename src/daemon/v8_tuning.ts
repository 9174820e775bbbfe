import { setFlagsFromString } from "node:v8";

/**
 * V8's tier-up threshold for the daemon, raised 4x (interrupt budget
 * 66 KiB -> 264 KiB of executed bytecode per function before TurboFan).
 *
 * A daemon runs each function of the batch path a handful of times per
 * batch. With V8's default threshold, those functions reach TurboFan one by
 * one over the first few hundred batches (--trace-opt: about 25 compiles per
 * 50 batches, still going after 300), and each compile costs more CPU than
 * the function will ever save. Where daemons share cores, every one of them
 * compiles the same function on the same batch, and those bursts were the
 * round trip's tail (N=40 on 2 cores, after a 200-batch warm-up: max 160 to
 * 240 ms with the default, 80 to 118 ms with this). Code that is truly hot
 * (a 1000-check batch, a 10 MB payload) still crosses the higher threshold
 * at once: 1000 checks evaluate as fast as before.
 *
 * Set at start-up, before any function has collected feedback. An operator
 * who passes --interrupt-budget (node flag or NODE_OPTIONS) keeps theirs.
 */
export const DAEMON_INTERRUPT_BUDGET = 4 * 67_584;

export function tuneV8ForDaemon(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ""): boolean {
  if ([...execArgv, nodeOptions].some((a) => a.includes("interrupt-budget="))) return false;
  setFlagsFromString(`--interrupt-budget=${DAEMON_INTERRUPT_BUDGET}`);
  return true;
}
