import type { Clock } from "../../src/base/clock.js";
import type { Address } from "../../src/net/transport.js";
import type { Member, MemberEvent, MemberEventType, MemberStatus, Membership, Peer } from "../../src/swim/types.js";

/**
 * A membership the test controls, standing in for SWIM in gossip tests: one
 * shared roster that every node's view reads (everyone agrees at once), and
 * methods that change a member's state and fire the event SWIM would fire on
 * every other node.
 */
export class TestRoster {
  private readonly all = new Map<string, Member>();
  private readonly views = new Map<string, TestMembership>();
  private reachableCache: Member[] | null = null;

  constructor(private readonly clock: Clock) {}

  /** A view for node name at address; the member joins (alive) and the others hear "join". */
  join(name: string, address: Address, tags: Record<string, string> = {}): TestMembership {
    const prev = this.all.get(name);
    const member: Member = { name, address, status: "alive", incarnation: (prev?.incarnation ?? -1) + 1, tags, statusSinceMs: this.clock.now() };
    this.all.set(name, member);
    const view = new TestMembership(this, name, address);
    this.views.set(name, view);
    this.changed("join", member);
    return view;
  }

  /** The member is declared dead: the others hear "fail". */
  fail(name: string): void {
    this.setStatus(name, "dead", "fail");
  }

  /** The member left gracefully: the others hear "leave". */
  leave(name: string): void {
    this.setStatus(name, "left", "leave");
  }

  /** A failed or left member is alive again (same address): the others hear "join". */
  revive(name: string): void {
    const m = this.all.get(name);
    if (!m) throw new Error(`test roster: no member ${name}`);
    m.incarnation++;
    this.setStatus(name, "alive", "join");
  }

  member(name: string): Member | undefined {
    const m = this.all.get(name);
    return m ? { ...m } : undefined;
  }

  members(): Member[] {
    return [...this.all.values()].map((m) => ({ ...m }));
  }

  /** @internal alive and suspect members, everyone included. */
  reachable(): Member[] {
    this.reachableCache ??= [...this.all.values()].filter((m) => m.status === "alive" || m.status === "suspect");
    return this.reachableCache;
  }

  private setStatus(name: string, status: MemberStatus, type: MemberEventType): void {
    const m = this.all.get(name);
    if (!m) throw new Error(`test roster: no member ${name}`);
    m.status = status;
    m.statusSinceMs = this.clock.now();
    this.changed(type, m);
  }

  private changed(type: MemberEventType, member: Member): void {
    this.reachableCache = null;
    for (const [name, view] of this.views) if (name !== member.name) view.emit({ type, member: { ...member } });
  }
}

export class TestMembership implements Membership {
  private readonly listeners = new Set<(e: MemberEvent) => void>();

  constructor(
    private readonly roster: TestRoster,
    readonly localName: string,
    readonly localAddress: Address,
  ) {}

  members(): Member[] {
    return this.roster.members();
  }

  reachableMembers(): Member[] {
    return this.roster.reachable().filter((m) => m.name !== this.localName);
  }

  reachablePeers(): readonly Peer[] {
    return this.reachableMembers();
  }

  member(name: string): Member | undefined {
    return this.roster.member(name);
  }

  onEvent(listener: (e: MemberEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal */
  emit(e: MemberEvent): void {
    for (const l of this.listeners) l(e);
  }
}
