/*
 * A bounded string intern table: equal strings come back as one string, so
 * many holders of the same name keep one copy. A simulation shares one
 * between all its nodes (src/swim/simulation.ts): each node decodes every
 * member's name and address from its own bytes, and without sharing, N
 * nodes of N members keep N^2 copies of N strings (56 of the 240 bytes a
 * member entry cost at N=1000). A daemon decodes each name once per record
 * it keeps, so it has nothing to gain and passes none.
 *
 * What comes in may come from the network, so the table is bounded: once
 * it holds maxEntries strings, new ones are returned as they are (still
 * correct, just not shared). It lives as long as its owner.
 */
export class Interner {
  private readonly table = new Map<string, string>();

  /** maxEntries bounds the strings held (each costs its length plus about 60 bytes). */
  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.table.size;
  }

  /** The one copy of s held here, or s itself (first seen, or the table is full). */
  intern(s: string): string {
    const held = this.table.get(s);
    if (held !== undefined) return held;
    if (this.table.size < this.maxEntries) this.table.set(s, s);
    return s;
  }
}
