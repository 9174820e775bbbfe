import fc from "fast-check";

/*
 * Shared pieces of the fuzz test files (test/fuzz_*.test.ts): the run count,
 * byte mutations of valid inputs, and a watch on allocations.
 */

/** Inputs per property: FUZZ_RUNS=100000 in `npm run fuzz`, a small count in `npm test`. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 2000);

/** One damage to a byte string: flip a bit, overwrite, insert or delete a byte, or cut the tail. */
export const byteMutation = fc.record({
  kind: fc.constantFrom("flip", "set", "insert", "delete", "truncate"),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
});
export type ByteMutation = typeof byteMutation extends fc.Arbitrary<infer T> ? T : never;

/** A damaged copy of b (b itself is not modified). */
export function mutateBytes(b: Uint8Array, m: ByteMutation): Uint8Array {
  const i = b.length === 0 ? 0 : m.at % b.length;
  switch (m.kind) {
    case "flip": {
      const c = b.slice();
      if (c.length) c[i]! ^= 1 << (m.value % 8);
      return c;
    }
    case "set": {
      const c = b.slice();
      if (c.length) c[i] = m.value;
      return c;
    }
    case "insert":
      return Uint8Array.from([...b.subarray(0, i), m.value, ...b.subarray(i)]);
    case "delete":
      return Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + 1)]);
    default:
      return b.slice(0, i);
  }
}

/** A valid input damaged by one to four mutations. */
export function mutatedFrom(valid: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.nat(valid.length - 1), fc.array(byteMutation, { minLength: 1, maxLength: 4 })).map(([which, ms]) => ms.reduce((b, m) => mutateBytes(b, m), valid[which]!));
}

/**
 * Protobuf varint of n (up to 2^53): the length prefix of a length-delimited
 * field, to forge declared lengths far beyond the bytes that follow.
 */
export function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/**
 * Tracks the most memory held in ArrayBuffers (Buffers, Uint8Arrays) while
 * fn runs, sampled after every call of check(). A decoder that trusted a
 * declared length would allocate it: that shows here even when it then
 * throws, because the buffer stays counted until the next GC.
 */
export function allocationWatch(): { check(): void; grewBytes(): number } {
  const base = process.memoryUsage().arrayBuffers;
  let peak = base;
  return {
    check() {
      const now = process.memoryUsage().arrayBuffers;
      if (now > peak) peak = now;
    },
    grewBytes: () => peak - base,
  };
}
