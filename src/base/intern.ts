/*
 * A bounded string intern table: equal strings come back as one string, so
 * many holders of the same name keep one copy. A simulation shares one
 * between all its nodes (src/swim/identities.ts): each node decodes every
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

/**
 * Dense numbers for names, shared the same way: a simulation's nodes all
 * know the same N members, and a member table that finds a record by its
 * name's slot in a plain array (8 bytes a member) instead of its own Map
 * (29 to 46 bytes an entry, by the Map's power-of-two capacity) saves a
 * fifth of every entry. Bounded like Interner: once maxSlots names hold a
 * slot, a new name gets none and its holder keeps it elsewhere. Slots are
 * never reused, so a number always means the same name.
 */
export class NameSlots {
  private readonly ids = new Map<string, number>();

  constructor(private readonly maxSlots: number) {}

  get size(): number {
    return this.ids.size;
  }

  /** The slot of name, or undefined when it has none (yet). */
  peek(name: string): number | undefined {
    return this.ids.get(name);
  }

  /** The slot of name, given one now if there is room; undefined when full. */
  slotOf(name: string): number | undefined {
    let id = this.ids.get(name);
    if (id === undefined && this.ids.size < this.maxSlots) {
      id = this.ids.size;
      this.ids.set(name, id);
    }
    return id;
  }
}
