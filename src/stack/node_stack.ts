import { Disseminator, type DisseminatorOptions } from "../gossip/disseminator.js";
import type { Membership, PushPullDelegate } from "../swim/types.js";

/**
 * One node's stack: membership (SWIM) and dissemination wired together,
 * the one place that does it. The daemon, the simulation benchmark and the
 * tests all build nodes here, so they run what production runs.
 *
 * The wiring: SWIM's TCP push-pull (on join and periodically) carries the
 * IDs of the node's live envelopes both ways, so a joiner or a healed
 * partition fetches what it missed. SWIM is built first and takes a
 * delegate that forwards to the Disseminator built after it (which needs
 * the membership); until then the delegate has nothing to say.
 */
export interface NodeStack<S extends Membership> {
  swim: S;
  gossip: Disseminator;
}

/**
 * makeSwim builds the membership with the delegate it is given (a real Swim,
 * or a simulation's); gossip is every Disseminator option but the
 * membership, which is the swim just built.
 */
export function buildNodeStack<S extends Membership>(makeSwim: (delegate: PushPullDelegate) => S, gossip: (swim: S) => Omit<DisseminatorOptions, "membership">): NodeStack<S> {
  let d: Disseminator | null = null;
  const delegate: PushPullDelegate = {
    localState: (join) => d?.localState(join) ?? new Uint8Array(0),
    mergeRemoteState: (state, join, from) => d?.mergeRemoteState(state, join, from),
  };
  const swim = makeSwim(delegate);
  d = new Disseminator({ ...gossip(swim), membership: swim });
  return { swim, gossip: d };
}
