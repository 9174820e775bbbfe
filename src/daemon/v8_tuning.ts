import { setFlagsFromString } from "node:v8";

/**
 * V8's TurboFan tier-up threshold for the daemon, raised 4x where V8's
 * default is low.
 *
 * A daemon runs each function of the batch path a handful of times per
 * batch. With V8's default threshold on Node 20, those functions reach
 * TurboFan one by one over the first few hundred batches (--trace-opt: about
 * 25 compiles per 50 batches, still going after 300), and each compile costs
 * more CPU than the function will ever save. Where daemons share cores, every
 * one of them compiles the same function on the same batch, and those bursts
 * were the round trip's tail (N=40 on 2 cores, after a 200-batch warm-up: max
 * 160 to 240 ms with the default, 80 to 118 ms with this). Code that is truly
 * hot (a 1000-check batch, a 10 MB payload) still crosses the higher
 * threshold at once: 1000 checks evaluate as fast as before.
 *
 * The knob depends on the V8 that runs us (`process.versions.v8`), and a flag
 * V8 does not know is not ignored: setFlagsFromString prints "Error:
 * unrecognized flag" on stderr. Calls until a small function without loops
 * is TurboFanned, with compiles made synchronous (test/daemon_v8.test.ts):
 *
 * - V8 <= 11.3 (Node 20): `--interrupt-budget`, executed bytecode per tick
 *   (66 KiB). 1286 calls by default, 5111 with 4 x 66 KiB.
 * - V8 11.8 to 12.x (Node 21 to 23; Node 22 ships Maglev off):
 *   `--invocation-count-for-turbofan`, calls' worth of bytecode (3000).
 *   3011 by default, 12011 with 4 x 3000.
 * - V8 13 and later (Node 24: 13.6, Node 26: 14.6), Maglev on: V8 itself
 *   defers TurboFan much further than the printed default of 3000 says
 *   (10687 calls on 13.6, 16787 on 14.6), beyond what this tuning gave Node
 *   20. Setting the flag there would replace V8's own deferral: 12000 gives
 *   12722 calls on 13.6 (x1.2) and 12718 on 14.6, earlier than the default.
 *   So nothing is set. Maglev, its cheaper middle tier, compiles such a
 *   function after about 500 calls and is left as V8 tunes it.
 *
 * Set at start-up, before any function has collected feedback. An operator
 * who passes either flag keeps theirs: `node --invocation-count-for-turbofan=N
 * gossipcheckd ...` (Node 20 to 26 refuse V8 flags in NODE_OPTIONS; it is
 * looked at too, in case a Node accepts them).
 */
export const DAEMON_INTERRUPT_BUDGET = 4 * 67_584;
/** 4 x V8's default --invocation-count-for-turbofan (3000, V8 11.8 to 12.x). */
export const DAEMON_INVOCATION_COUNT_FOR_TURBOFAN = 4 * 3000;

/** The flag that raises TurboFan's threshold on V8 `v8Version` ("12.4.254.21-node.57"), or undefined where none is set. */
export function daemonTierUpFlag(v8Version: string): string | undefined {
  const [major = 0, minor = 0] = v8Version.split(".").map((n) => Number.parseInt(n, 10));
  if (major < 11 || (major === 11 && minor <= 3)) return `--interrupt-budget=${DAEMON_INTERRUPT_BUDGET}`;
  // V8 11.4 to 11.7 shipped in no Node release; 11.8 (Node 21) already had
  // the invocation counts.
  if (major === 11 && minor < 8) return undefined;
  if (major <= 12) return `--invocation-count-for-turbofan=${DAEMON_INVOCATION_COUNT_FOR_TURBOFAN}`;
  return undefined;
}

/** Matches an operator's own threshold (V8 accepts '-' or '_' in flag names). */
const OPERATOR_THRESHOLD = /interrupt[-_]budget=|invocation[-_]count[-_]for[-_]turbofan=/;

/** Sets daemonTierUpFlag(v8Version) unless the operator set a threshold; returns whether it set one. */
export function tuneV8ForDaemon(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? "",
  v8Version = process.versions.v8,
  setFlags: (flags: string) => void = setFlagsFromString,
): boolean {
  if ([...execArgv, nodeOptions].some((a) => OPERATOR_THRESHOLD.test(a))) return false;
  const flag = daemonTierUpFlag(v8Version);
  if (flag === undefined) return false;
  setFlags(flag);
  return true;
}
