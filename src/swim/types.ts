import type { Address } from "../net/transport.js";

/**
 * What the membership layer offers the layers above (gossip, daemon). swim
 * knows nothing of checks; its users know nothing of probes.
 */
export type MemberStatus = "alive" | "suspect" | "dead" | "left";

export interface Member {
  name: string;
  address: Address;
  status: MemberStatus;
  incarnation: number;
  tags: Record<string, string>;
  /** When (clock ms) this member's status last changed, as seen locally. */
  statusSinceMs: number;
}

export type MemberEventType = "join" | "update" | "suspect" | "fail" | "leave" | "reap";

export interface MemberEvent {
  type: MemberEventType;
  member: Member;
}

export interface Peer {
  readonly name: string;
  readonly address: Address;
}

export interface Membership {
  readonly localName: string;
  readonly localAddress: Address;
  /** Every known member, this node included, in no particular order. */
  members(): Member[];
  /**
   * Members worth sending to: status alive or suspect (a suspect is usually
   * alive), this node excluded.
   */
  reachableMembers(): Member[];
  /** The names and addresses of reachableMembers(), in the same order; the same array until membership changes (the burst asks on every envelope). */
  reachablePeers(): readonly Peer[];
  member(name: string): Member | undefined;
  /** Subscribes to membership changes; returns an unsubscribe function. */
  onEvent(listener: (e: MemberEvent) => void): () => void;
}

/**
 * Lets the layer above ride on push-pull (memberlist's Delegate.LocalState /
 * MergeRemoteState): gossip sends its live envelope IDs to joining and
 * rejoining members this way.
 */
export interface PushPullDelegate {
  localState(join: boolean): Uint8Array;
  mergeRemoteState(state: Uint8Array, join: boolean, from: Address): void;
}
