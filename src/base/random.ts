import { randomBytes } from "node:crypto";

/**
 * Randomness as the protocol code sees it: injected so simulations are
 * repeatable from a seed.
 */
export interface Random {
  /** Uniform in [0, 1). */
  float(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** n random bytes (envelope IDs, nonces in tests). */
  bytes(n: number): Uint8Array;
}

/** Shuffles a in place (Fisher-Yates) and returns it. */
export function shuffle<T>(a: T[], random: Random): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Up to k distinct random elements of a (a is not modified). */
export function sample<T>(a: readonly T[], k: number, random: Random): T[] {
  if (k >= a.length) return shuffle(a.slice(), random);
  const copy = a.slice();
  // Partial Fisher-Yates: only the first k slots are settled.
  for (let i = 0; i < k; i++) {
    const j = i + random.int(copy.length - i);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, k);
}

/** Math.random and crypto bytes: for production. */
export const systemRandom: Random = {
  float: () => Math.random(),
  int: (n) => Math.floor(Math.random() * n),
  bytes: (n) => new Uint8Array(randomBytes(n)),
};

/** A small, fast, seeded generator (mulberry32) for simulations. */
export class SeededRandom implements Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  float(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}
