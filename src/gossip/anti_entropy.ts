import type { Clock, Timer } from "../base/clock.js";
import type { Logger } from "../base/logger.js";
import { sample, type Random } from "../base/random.js";
import type { Address } from "../net/transport.js";
import type { Membership } from "../swim/types.js";
import { encodeGossip, envelopeBytes, type LiveDigest, type LiveWindow } from "./codec.js";
import { jittered, type GossipConfig } from "./config.js";
import type { GossipCounters } from "./counters.js";
import { ENVELOPE_ID_BYTES, expiresAtMs, idToHex, type Envelope } from "./envelope.js";
import type { GossipRequester } from "./requester.js";
import { errorMessage } from "../base/result.js";

/**
 * Anti-entropy, the repair phase after the burst (gossipsub's IHAVE/IWANT):
 * every advertise interval (jittered) this node sends the IDs of its live
 * envelopes to a few random members.
 *
 * The receiver pulls: it asks the advertiser for the IDs it lacks with a
 * Want request, whose reply is a Deliver. Periodic advertisements are one-way
 * messages; the origin's directed repair sends its Advertise as a request,
 * and the answer (a Want of the lacking IDs, empty when it has them all)
 * tells it whether to ask again. We
 * chose pull over "reply Want, advertiser pushes" because the node that lacks
 * an envelope is the one that knows a fetch is already under way: an ID being
 * fetched is not asked for again from the next advertiser, so a 10 MB batch
 * crosses the wire once per repair, not once per advertiser. Push-pull state
 * (join and rejoin) goes through the same fetch.
 *
 * A periodic advertisement carries a digest of the live set, not its IDs:
 * once every node holds the same live envelopes (the usual state after a
 * burst), the lists would only repeat what the receiver already has, and
 * with a few hundred batches inside their 5-minute TTL they made an idle
 * cluster send 16 bytes x live IDs x fanout every second and look each one
 * up at the other end. A receiver whose own digest differs asks the
 * advertiser for its IDs (a LiveIdsRequest) and fetches what it lacks as
 * before; a digest costs 20 bytes whatever the history.
 *
 * A digest covers a window, not the whole live set: the envelopes created
 * at least one advertise interval before it was sent (younger ones are
 * still spreading by burst, and the origin's directed repair covers them)
 * and expiring at least one interval after (older ones may already have
 * expired at the receiver). The window travels with the digest and is
 * given by the origins' created_ms, so the receiver computes its own digest
 * over the same envelopes whatever its clock. Without it, a cluster under
 * a steady stream of batches (measured: 400 a second on 6 nodes) found 90%
 * of digests different, and each difference cost a list of up to 4,096 IDs
 * (66 KB) and the matching lookups: half of every node's bytes, and tens of
 * MB of short-lived buffers that left the allocator's heap at its peak.
 *
 * Advertising slows down while nothing happens (the interval doubles after
 * each round up to advertiseIdleMaxMs), stops while nothing is live, and
 * speeds up again on activity():
 * each advertisement is a message whose fixed cost, not its size, is what
 * an idle daemon paid for (measured in docs/BENCHMARKS.md, "Idle cost").
 */
export interface AntiEntropyDeps {
  requester: GossipRequester;
  membership: Membership;
  clock: Clock;
  random: Random;
  config: GossipConfig;
  counters: GossipCounters;
  logger: Logger;
  /** This node's live envelopes that spread, newest first. */
  live(): readonly Envelope[];
  /** The live envelope with this ID, if this node holds it. */
  liveEnvelope(idHex: string): Envelope | undefined;
  /** Whether this node has never seen this ID. */
  lacks(idHex: string): boolean;
  /** Hands a fetched envelope to dissemination (first receipt rules apply). */
  accept(env: Envelope, from: Address): void;
}

export class AntiEntropy {
  /** IDs being fetched -> clock ms when the fetch gives up. */
  private inFlight = new Map<string, number>();
  /** Peers whose live IDs this node is asking for (one request per peer at a time). */
  private listing = new Set<Address>();
  private timer: Timer | null = null;
  /** Advertisement rounds sent since the last activity(): the interval is doubled this many times. */
  private quietRounds = 0;
  /** Clock ms when the pending advertisement round is due. */
  private dueMs = 0;
  private stopped = false;

  constructor(private readonly d: AntiEntropyDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /**
   * Something happened that may leave a peer lacking an envelope (a new one
   * here, a peer whose digest differed, a member joining): advertise at the
   * base interval again, the next round within one base interval.
   */
  activity(): void {
    if (this.stopped) return;
    if (this.timer === null) {
      // Asleep: nothing was live at the last round.
      this.quietRounds = 0;
      this.schedule();
      return;
    }
    if (this.quietRounds === 0) return;
    this.quietRounds = 0;
    if (this.dueMs - this.d.clock.now() > this.d.config.advertiseIntervalMs) {
      this.timer.cancel();
      this.schedule();
    }
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  /** Sends one round of advertisements (digests of the live set's window) now; returns false when nothing is live. */
  advertise(): boolean {
    const { config, counters, membership, random, requester } = this.d;
    const live = this.d.live();
    if (live.length === 0) return false;
    const window = this.window();
    const digest = liveDigest(inWindow(live, window).map((e) => e.id));
    // Everything live is still spreading by burst or about to expire: nothing to compare yet.
    if (digest.count === 0) return true;
    // One-way: a receiver whose set differs asks for the IDs, then pulls
    // what it lacks with its own Want request, so the advertiser has no use
    // for an answer (the origin's directed repair, which does, asks with a
    // request and lists the IDs).
    const body = encodeGossip({ kind: "advertise", from: membership.localName, ids: [], digest, window });
    const peers = sample(membership.reachablePeers(), config.advertiseFanout, random);
    counters.advertisements += peers.length;
    if (peers.length > 0) this.quietRounds++;
    for (const sent of requester.sendAll(
      peers.map((p) => p.address),
      body,
    )) {
      sent.catch(() => {
        // A lost advertisement is repaired by the next one.
      });
    }
    return true;
  }

  /**
   * A peer advertised these IDs: starts fetching the ones this node lacks and
   * returns them (the Want the advertiser gets as its reply: an empty one
   * tells the origin's directed repair this node has them all).
   */
  onAdvertise(from: Address, ids: Uint8Array[], digest?: LiveDigest, window?: LiveWindow): Uint8Array[] {
    if (digest && ids.length === 0) {
      this.onDigest(from, digest, window);
      return [];
    }
    const lacking = ids.filter((id) => this.d.lacks(idToHex(id)));
    void this.fetch(from, lacking);
    return lacking;
  }

  /** The IDs this node lists when asked (in the asker's window when given; newest first, capped). */
  liveIds(window?: LiveWindow): Uint8Array[] {
    return inWindow(this.d.live(), window)
      .slice(0, this.d.config.maxAdvertiseIds)
      .map((e) => e.id);
  }

  /** The window an advertisement sent now covers: settled by burst, not about to expire (see the class comment). */
  private window(): LiveWindow {
    const now = this.d.clock.now();
    const settle = this.d.config.advertiseIntervalMs;
    return { createdUntilMs: now - settle, expiresAfterMs: now + settle };
  }

  /**
   * A periodic advertisement's digest: nothing to do when it matches this
   * node's live set; otherwise ask the advertiser for its IDs and fetch the
   * ones this node lacks. (When it is the advertiser that lacks something,
   * it learns so from this node's own advertisements.)
   */
  private onDigest(from: Address, digest: LiveDigest, window: LiveWindow | undefined): void {
    const { counters } = this.d;
    if (sameDigest(digest, liveDigest(inWindow(this.d.live(), window).map((e) => e.id)))) {
      counters.digestMatches++;
      return;
    }
    counters.digestMismatches++;
    if (this.listing.has(from) || this.stopped) return;
    this.listing.add(from);
    this.d.requester
      .request(from, { kind: "live-ids", ...(window && { window }) })
      .then(
        (reply) => {
          if (reply.kind !== "advertise") return;
          const lacking = reply.ids.slice(0, this.d.config.maxAdvertiseIds).filter((id) => this.d.lacks(idToHex(id)));
          return this.fetch(from, lacking);
        },
        (err: unknown) => this.d.logger.debug({ peer: from, err: errorMessage(err) }, "asking a peer for its live IDs failed; its next advertisement retries"),
      )
      .finally(() => this.listing.delete(from));
  }

  /** A peer at `from` holds these IDs: fetch the ones this node lacks. */
  async fetch(from: Address, ids: Uint8Array[]): Promise<void> {
    const { clock, config, counters, requester } = this.d;
    let wanted = ids.filter((id) => this.shouldFetch(idToHex(id)));
    while (wanted.length > 0 && !this.stopped) {
      const keys = wanted.map(idToHex);
      const deadline = clock.now() + config.requestTimeoutMs;
      for (const k of keys) this.inFlight.set(k, deadline);
      counters.wanted += wanted.length;
      let delivered: Envelope[];
      try {
        const reply = await requester.request(from, { kind: "want", ids: wanted });
        delivered = reply.kind === "deliver" ? reply.envelopes : [];
      } catch (err) {
        this.d.logger.debug({ peer: from, err: errorMessage(err) }, "anti-entropy fetch failed; the next advertisement retries");
        delivered = [];
      } finally {
        for (const k of keys) this.inFlight.delete(k);
      }
      for (const env of delivered) this.d.accept(env, from);
      // The peer leaves out what does not fit in one frame: ask for the rest,
      // as long as each round brings something asked for (so a peer that
      // answers with nothing useful cannot keep us looping).
      const got = new Set(delivered.map((e) => idToHex(e.id)));
      const rest = wanted.filter((id) => !got.has(idToHex(id)));
      if (rest.length === wanted.length) return;
      wanted = rest.filter((id) => this.d.lacks(idToHex(id)));
    }
  }

  /** The envelopes to answer a Want with, within one frame (at least one). */
  serve(ids: Uint8Array[]): Envelope[] {
    const out: Envelope[] = [];
    let bytes = 0;
    for (const id of ids) {
      const env = this.d.liveEnvelope(idToHex(id));
      if (!env) continue;
      const size = envelopeBytes(env);
      if (out.length > 0 && bytes + size > this.d.config.maxEnvelopeBytes) break;
      out.push(env);
      bytes += size;
    }
    this.d.counters.served += out.length;
    return out;
  }

  private shouldFetch(idHex: string): boolean {
    if (!this.d.lacks(idHex)) return false;
    const until = this.inFlight.get(idHex);
    return until === undefined || until < this.d.clock.now();
  }

  private schedule(): void {
    if (this.stopped) return;
    const { config, clock, random } = this.d;
    const longest = Math.max(config.advertiseIntervalMs, config.advertiseIdleMaxMs);
    const interval = Math.min(config.advertiseIntervalMs * 2 ** Math.min(this.quietRounds, 30), longest);
    const delay = jittered(interval, config.advertiseJitter, random);
    this.dueMs = clock.now() + delay;
    this.timer = clock.setTimeout(() => {
      this.timer = null;
      // Nothing live: sleep until activity() (an envelope arrives or is published here).
      if (this.advertise()) this.schedule();
    }, delay);
  }
}

/**
 * The digest of a live set: the XOR of its IDs (random 16-byte values, so
 * two different sets share a digest with probability 2^-128) and their
 * count. Order does not matter, so two nodes holding the same envelopes agree
 * however they received them.
 */
export function liveDigest(ids: readonly Uint8Array[]): LiveDigest {
  const xor = new Uint8Array(ENVELOPE_ID_BYTES);
  for (const id of ids) for (let i = 0; i < ENVELOPE_ID_BYTES && i < id.length; i++) xor[i]! ^= id[i]!;
  return { xor, count: ids.length };
}

/** The envelopes of `live` inside the window; all of them without one (a node from before windows digests and lists its whole live set). */
export function inWindow(live: readonly Envelope[], w: LiveWindow | undefined): readonly Envelope[] {
  return w ? live.filter((e) => e.createdMs <= w.createdUntilMs && expiresAtMs(e) > w.expiresAfterMs) : live;
}

function sameDigest(a: LiveDigest, b: LiveDigest): boolean {
  if (a.count !== b.count || a.xor.length !== b.xor.length) return false;
  for (let i = 0; i < a.xor.length; i++) if (a.xor[i] !== b.xor[i]) return false;
  return true;
}
