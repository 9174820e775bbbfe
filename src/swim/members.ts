import type { NameSlots } from "../base/intern.js";
import { shuffle, type Random } from "../base/random.js";
import type { Address } from "../net/transport.js";
import type { Member, MemberStatus } from "./types.js";

/**
 * Who a member is: its name, where it lives, its tags. Immutable: a new
 * address or new tags make a new identity, so many records can share one
 * (the member tables of all nodes of a simulation: identities.ts).
 */
export interface MemberIdentity {
  readonly name: string;
  readonly address: Address;
  /** NO_TAGS (codec.ts) when there are none. */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * What this node holds about one member (itself included): the identity
 * and this node's view of its state. Four fields (56 bytes in V8) instead of
 * the six of a record that held the strings itself.
 */
export class MemberRecord {
  constructor(
    /** Replaced, never mutated, when the member's address or tags change. */
    public identity: MemberIdentity,
    public incarnation: number,
    public status: MemberStatus,
    /** Clock ms of the last status change, as seen here. */
    public statusSinceMs: number,
  ) {}

  get name(): string {
    return this.identity.name;
  }

  get address(): Address {
    return this.identity.address;
  }

  get tags(): Readonly<Record<string, string>> {
    return this.identity.tags;
  }
}

/**
 * The member list: lookup by name, counts per status, random picks, and the
 * probe order. The order is memberlist's: one array walked round-robin,
 * reshuffled when a round ends, new members inserted at a random position
 * so a batch of joiners is not probed in the order it arrived. No protocol
 * rules here: state.ts decides what changes.
 *
 * Lookup by name: a Map, or, given NameSlots shared by many tables (a
 * simulation), an array indexed by the name's slot (names without a slot
 * still go to the Map). Either way a name maps to one record.
 */
export class MemberTable {
  private readonly byName = new Map<string, MemberRecord>();
  /** Records by their name's slot in `slots`; holes are undefined (kept dense: a sparse array turns into a dictionary). */
  private readonly bySlot: (MemberRecord | undefined)[] = [];
  private readonly order: MemberRecord[] = [];
  private probeIndex = 0;
  private readonly count: Record<MemberStatus, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
  private changeCount = 0;

  constructor(
    private readonly random: Random,
    private readonly slots?: NameSlots,
  ) {}

  get(name: string): MemberRecord | undefined {
    const slot = this.slots?.peek(name);
    return slot === undefined ? this.byName.get(name) : this.bySlot[slot];
  }

  /** Records held, whatever their status (reaped members are gone). */
  get size(): number {
    return this.order.length;
  }

  /** Members believed running: alive plus suspect, this node included. */
  get running(): number {
    return this.count.alive + this.count.suspect;
  }

  counts(): Readonly<Record<MemberStatus, number>> {
    return { ...this.count };
  }

  all(): readonly MemberRecord[] {
    return this.order;
  }

  /** Bumped whenever a member is added or removed, changes status, or all()'s order changes: a view derived from all() at the same count is still exact. (A running member's address never changes; see MemberState.aliveNode.) */
  get changes(): number {
    return this.changeCount;
  }

  add(rec: MemberRecord): void {
    if (this.get(rec.name)) throw new Error(`member table: ${rec.name} is already listed (bug)`);
    const slot = this.slots?.slotOf(rec.name);
    if (slot === undefined) this.byName.set(rec.name, rec);
    else {
      while (this.bySlot.length < slot) this.bySlot.push(undefined);
      this.bySlot[slot] = rec;
    }
    this.count[rec.status]++;
    this.changeCount++;
    const n = this.order.length;
    this.order.push(rec);
    const j = this.random.int(n + 1);
    [this.order[j], this.order[n]] = [this.order[n]!, this.order[j]!];
  }

  remove(name: string): void {
    const rec = this.get(name);
    if (!rec) return;
    const slot = this.slots?.peek(name);
    if (slot === undefined) this.byName.delete(name);
    else this.bySlot[slot] = undefined;
    this.count[rec.status]--;
    this.changeCount++;
    // O(N), but only on a reap. Swap-remove may let the moved member skip
    // this probe round: harmless.
    const i = this.order.indexOf(rec);
    const last = this.order.pop()!;
    if (last !== rec) this.order[i] = last;
  }

  /** Changes rec's status, stamping the time only when it really changes. */
  setStatus(rec: MemberRecord, status: MemberStatus, nowMs: number): void {
    if (rec.status === status) return;
    this.count[rec.status]--;
    this.count[status]++;
    rec.status = status;
    rec.statusSinceMs = nowMs;
    this.changeCount++;
  }

  /** The next member to probe that `accept`s, in round-robin order. */
  nextProbe(accept: (m: MemberRecord) => boolean): MemberRecord | undefined {
    for (let checked = 0; checked < this.order.length; checked++) {
      if (this.probeIndex >= this.order.length) {
        shuffle(this.order, this.random);
        this.changeCount++;
        this.probeIndex = 0;
      }
      const rec = this.order[this.probeIndex++]!;
      if (accept(rec)) return rec;
    }
    return undefined;
  }

  /**
   * Up to k distinct random members that `accept`s. Like memberlist's
   * kRandomNodes it samples random positions (at most 3 x N tries) instead
   * of filtering the whole list, so picking 3 of 1000 stays cheap.
   */
  randomMembers(k: number, accept: (m: MemberRecord) => boolean): MemberRecord[] {
    const out: MemberRecord[] = [];
    const n = this.order.length;
    for (let tries = 0; tries < 3 * n && out.length < k; tries++) {
      const rec = this.order[this.random.int(n)]!;
      if (accept(rec) && !out.includes(rec)) out.push(rec);
    }
    return out;
  }
}

/** A snapshot for the layers above (they must not hold our records). */
export function toMember(rec: MemberRecord): Member {
  return {
    name: rec.name,
    address: rec.address,
    status: rec.status,
    incarnation: rec.incarnation,
    tags: { ...rec.tags },
    statusSinceMs: rec.statusSinceMs,
  };
}
