/*
 * How the protocol's timings and counts grow with the cluster size N (the
 * number of members believed running). Same formulas as memberlist's util.go.
 */

/**
 * Minimum suspicion timeout in ms: suspicionMult x max(1, log10 N) x
 * probeIntervalMs. log10 because the time for a suspicion (and its
 * refutation) to reach everyone grows with log N.
 */
export function suspicionTimeoutMs(suspicionMult: number, n: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  // Whole ms, as memberlist rounds the scale to thousandths.
  return Math.floor((suspicionMult * Math.floor(nodeScale * 1000) * probeIntervalMs) / 1000);
}

/** How many times each node transmits one update: mult x ceil(log10(N + 1)). */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(Math.max(0, n) + 1));
}

/** Above this many members the push-pull interval grows (memberlist's pushPullScaleThreshold). */
export const PUSH_PULL_SCALE_THRESHOLD = 32;

/**
 * The push-pull interval for N members in ms: unchanged up to 32 members,
 * then multiplied by ceil(log2 N - log2 32) + 1 (x2 up to 64, x3 up to 128,
 * ...), so the cluster-wide full-state traffic grows like N log N, not N^2.
 */
export function pushPullScale(intervalMs: number, n: number): number {
  if (n <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs;
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1;
  return multiplier * intervalMs;
}
