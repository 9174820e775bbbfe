import { Interner, NameSlots } from "../base/intern.js";
import type { Address } from "../net/transport.js";
import { copyTags } from "./codec.js";
import type { MemberIdentity } from "./members.js";

/*
 * What the member tables of many nodes in one process share: a simulation's
 * N nodes each hold a record of the same N members, and each decodes their
 * names, addresses and tags from its own bytes. Shared, a member's identity
 * (name, address, tags: immutable) is one object for all tables instead of
 * one per table, its strings one copy, and each table finds its records by
 * the name's slot instead of a Map of its own. Measured with 10,000-member
 * tables: 254 bytes per entry without any of this, 108 with the strings and
 * slots shared, 92 with the identities too (docs/BENCHMARKS.md, "Scale in
 * simulation"). A daemon holds one table and shares nothing.
 *
 * Everything here is fed from the network, so every table is bounded by
 * maxNames: past it, new names get fresh (unshared) identities and no
 * slot, which is still correct. It lives as long as the simulation.
 */
export class SharedMembers {
  readonly slots: NameSlots;
  private readonly strings: Interner;
  /** name -> the identity last shared under it. */
  private readonly latest = new Map<string, MemberIdentity>();

  constructor(private readonly maxNames: number) {
    this.slots = new NameSlots(maxNames);
    // Names, addresses, tag keys and values: a few strings per name.
    this.strings = new Interner(4 * maxNames);
  }

  /** An identity equal to (name, address, tags): the shared one when it is equal, else a new one, shared from now on. */
  identity(name: string, address: Address, tags: Readonly<Record<string, string>>): MemberIdentity {
    const held = this.latest.get(name);
    if (held && held.address === address && sameTags(tags, held.tags)) return held;
    const intern = (s: string) => this.strings.intern(s);
    const fresh: MemberIdentity = { name: intern(name), address: intern(address), tags: copyTags(tags, intern) };
    if (held || this.latest.size < this.maxNames) this.latest.set(fresh.name, fresh);
    return fresh;
  }
}

/** An identity of this node's own (no sharing): a daemon's. */
export function ownIdentity(name: string, address: Address, tags: Readonly<Record<string, string>>): MemberIdentity {
  return { name, address, tags: copyTags(tags) };
}

/** Whether two tag sets hold the same string values (a decoded map may hold others: never equal). */
export function sameTags(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] === a[k]);
}
