import type { Clock } from "../../base/clock.js";
import { errorMessage } from "../../base/result.js";
import type { Logger } from "../../base/logger.js";
import { channelNameProblem } from "../../control/channel_name.js";
import type { ChannelMessage, ChannelPublishResponse } from "../../control/talk_types.js";
import type { EnvelopeHandler, PublishOptions, PublishResult } from "../../gossip/disseminator.js";
import { idToHex, type Envelope } from "../../gossip/envelope.js";
import { pb } from "../../proto/index.js";
import type { ChannelOutcome } from "../api/backend.js";
import { ChannelOrder, DEFAULT_CHANNEL_ORDER_LIMITS, type ChannelOrderCounters, type ChannelOrderLimits } from "./channel_order.js";

/*
 * Channels for applications (issue 17; the contract is in
 * src/control/talk_types.ts). A publish is one CHANNEL envelope (a
 * ChannelPost) on the dissemination layer: the burst and anti-entropy bring
 * it to every member once (the seen-history), and each node with local
 * subscribers of the channel delivers it, in each sender's order
 * (channel_order.ts). A message for one node (?node=) is pushed to that
 * node alone and does not spread (the gossip layer's relay policy): nobody
 * else needs it, and a 10 MB send to one node costs the others nothing; it
 * names that node as expected, so the origin's directed repair brings it
 * there when the push is lost.
 *
 * Sequence numbers are per (channel, sending node) and held in memory: a
 * restarted daemon begins a new epoch (its start time, epoch_ms) and counts
 * from 1 again, and subscribers order by (epoch, seq), so the new life's
 * messages are never taken for the old one's. Messages to every subscriber
 * count one sequence per (channel, sender); messages to one node their own
 * per (channel, sender, that node), since only that node sees them.
 *
 * Costs and bounds: every node holds each message's body for CHANNEL_TTL_MS
 * (for anti-entropy), so this node refuses to publish (503, retry) while the
 * bytes it published in the last TTL exceed maxLiveBytes; a subscriber is an
 * SSE stream that is disconnected once 1 MiB waits unread for it (plus the
 * message being written), so a slow reader never slows the cluster.
 */

/** How long a channel message lives (ms): it reaches a node by then or never (a gap). */
export const CHANNEL_TTL_MS = 10_000;

export interface ChannelLimits extends ChannelOrderLimits {
  /** Channel subscribers (SSE streams) on this daemon at once. */
  maxSubscribers: number;
  /** Bytes this node may have published within the last ttlMs (each node holds them that long). */
  maxLiveBytes: number;
  /** How long a message lives (ms): CHANNEL_TTL_MS. */
  ttlMs: number;
}

export const DEFAULT_CHANNEL_LIMITS: ChannelLimits = { ...DEFAULT_CHANNEL_ORDER_LIMITS, maxSubscribers: 64, maxLiveBytes: 256 * 1024 * 1024, ttlMs: CHANNEL_TTL_MS };

/** What Channels needs of the dissemination layer. */
export interface ChannelGossip {
  publish(kind: pb.EnvelopeKind, payload: Uint8Array, opts?: PublishOptions): PublishResult;
  onEnvelope(kind: pb.EnvelopeKind, handler: EnvelopeHandler, opts?: { replaySafe?: boolean }): void;
  onRelay(kind: pb.EnvelopeKind, spreads: (env: Envelope) => boolean): void;
}

export interface ChannelsOptions {
  gossip: ChannelGossip;
  localName: string;
  clock: Clock;
  /** Whether a node is a running member (alive or suspect): ?node= must name one. */
  isRunning: (node: string) => boolean;
  /** Running members now (the publish answer's count). */
  running: () => number;
  limits?: Partial<ChannelLimits>;
  log?: Logger;
}

export type ChannelListener = (msg: ChannelMessage) => void;

export interface ChannelCounters extends ChannelOrderCounters {
  published: number;
  /** Messages handed to subscribers (one per subscriber). */
  delivered: number;
  /** Messages received for a channel nobody here subscribes to, or for another node. */
  relayedOnly: number;
  invalid: number;
  /** Publishes refused at maxLiveBytes. */
  throttled: number;
  subscribers: number;
  /** Subscribers refused at maxSubscribers. */
  refusedSubscribers: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export class Channels {
  readonly epochMs: number;
  private readonly limits: ChannelLimits;
  private readonly seqs = new Map<string, number>();
  private readonly subs = new Map<string, Set<ChannelListener>>();
  private readonly order: ChannelOrder<ChannelMessage>;
  /** Bytes published within the TTL, oldest first from recentHead: [ms, bytes]. */
  private recent: [number, number][] = [];
  private recentHead = 0;
  private recentBytes = 0;
  private readonly stats = { published: 0, delivered: 0, relayedOnly: 0, invalid: 0, throttled: 0, refusedSubscribers: 0 };

  constructor(private readonly o: ChannelsOptions) {
    this.limits = { ...DEFAULT_CHANNEL_LIMITS, ...o.limits };
    this.epochMs = o.clock.now();
    this.order = new ChannelOrder(o.clock, this.limits, (channel, msg, missed) => this.fanOut(channel, msg, missed));
    // Replay-safe: a node that restarted has no subscriber that saw a message before, so it need not skip those created before its history began.
    o.gossip.onEnvelope(pb.EnvelopeKind.CHANNEL, (env) => Promise.resolve(this.receive(env)), { replaySafe: true });
    o.gossip.onRelay(pb.EnvelopeKind.CHANNEL, (env) => !isDirect(env));
  }

  /** Sends data to every subscriber of channel, or to node's only. */
  publish(channel: string, data: Uint8Array, node?: string): ChannelOutcome<ChannelPublishResponse> {
    const problem = channelNameProblem(channel);
    if (problem) return { ok: false, status: 400, error: problem };
    if (node !== undefined && !this.o.isRunning(node)) return { ok: false, status: 404, error: `node=${JSON.stringify(node.slice(0, 100))} is not a running member: see GET /v1/members` };
    const now = this.o.clock.now();
    this.forgetRecent(now);
    if (this.recentBytes + data.length > this.limits.maxLiveBytes) {
      this.stats.throttled++;
      return {
        ok: false,
        status: 503,
        error: `this node published ${this.recentBytes} bytes of channel messages in the last ${this.limits.ttlMs / 1000} s (at most ${this.limits.maxLiveBytes} live at once): retry shortly, or publish less`,
      };
    }
    const seqKey = node === undefined ? channel : `${channel}\u0000${node}`;
    const seq = (this.seqs.get(seqKey) ?? 0) + 1;
    const post = { channel, seq, data, targetNode: node ?? "", sentMs: now, epochMs: this.epochMs };
    // A direct message goes to its node only; the origin's repair brings it there if the push is lost.
    const direct = node !== undefined && node !== this.o.localName ? { pushFirst: node, expected: [node] } : {};
    const published = this.o.gossip.publish(pb.EnvelopeKind.CHANNEL, pb.ChannelPost.encode(post).finish(), { ttlMs: this.limits.ttlMs, ...direct });
    if (!published.ok) return { ok: false, status: published.error.includes("exceeds the maximum") ? 413 : 503, error: `channel ${channel}: not published: ${published.error}` };
    this.seqs.set(seqKey, seq);
    this.recent.push([now, data.length]);
    this.recentBytes += data.length;
    this.stats.published++;
    return { ok: true, value: { id: published.publication.idHex, seq, members: this.o.running() } };
  }

  /** Adds a subscriber of channel on this node; returns its removal. */
  subscribe(channel: string, listener: ChannelListener): ChannelOutcome<() => void> {
    const problem = channelNameProblem(channel);
    if (problem) return { ok: false, status: 400, error: problem };
    if (this.subscriberCount() >= this.limits.maxSubscribers) {
      this.stats.refusedSubscribers++;
      return { ok: false, status: 503, error: `this daemon already has ${this.limits.maxSubscribers} channel subscribers (its limit): close one, or subscribe through another daemon` };
    }
    let set = this.subs.get(channel);
    if (!set) this.subs.set(channel, (set = new Set()));
    set.add(listener);
    return {
      ok: true,
      value: () => {
        set.delete(listener);
        if (set.size === 0 && this.subs.get(channel) === set) this.subs.delete(channel);
      },
    };
  }

  counters(): ChannelCounters {
    return { ...this.stats, ...this.order.counters(), subscribers: this.subscriberCount() };
  }

  /** Hands on what is held (the daemon is stopping). */
  close(): void {
    this.order.close();
  }

  /** A CHANNEL envelope (from a peer, or published here): decoded, then ordered; never answered. */
  private receive(env: Envelope): null {
    let post: pb.ChannelPost;
    try {
      post = pb.ChannelPost.decode(env.payload);
    } catch (err) {
      this.invalid(env, `undecodable ChannelPost (${errorMessage(err)})`);
      return null;
    }
    const problem = channelNameProblem(post.channel) ?? (Number.isSafeInteger(post.seq) && post.seq >= 1 ? null : `seq ${post.seq} is not a positive integer`);
    if (problem) {
      this.invalid(env, problem);
      return null;
    }
    const direct = post.targetNode !== "";
    if (direct && post.targetNode !== this.o.localName) {
      // Asked for by ID though meant for another node: nothing to do with it here.
      this.stats.relayedOnly++;
      return null;
    }
    const subscribed = this.subs.has(post.channel);
    if (!subscribed) this.stats.relayedOnly++;
    const msg = subscribed ? message(env, post) : null;
    // Direct messages have their own sequence per (channel, sender, target node).
    this.order.accept(post.channel, direct ? `${env.origin}\u0000direct` : env.origin, post.epochMs, post.seq, msg, post.data.length, subscribed);
    return null;
  }

  private fanOut(channel: string, msg: ChannelMessage, missed: number): void {
    const set = this.subs.get(channel);
    if (!set) return;
    const out = missed > 0 ? { ...msg, missed } : msg;
    for (const listener of set) {
      this.stats.delivered++;
      listener(out);
    }
  }

  private invalid(env: Envelope, why: string): void {
    this.stats.invalid++;
    this.o.log?.warn({ envelope: idToHex(env.id), origin: env.origin, error: why }, `dropped a channel message from ${env.origin}: ${why}`);
  }

  private subscriberCount(): number {
    let n = 0;
    for (const set of this.subs.values()) n += set.size;
    return n;
  }

  private forgetRecent(now: number): void {
    while (this.recentHead < this.recent.length && this.recent[this.recentHead]![0] < now - this.limits.ttlMs) this.recentBytes -= this.recent[this.recentHead++]![1];
    // Compacted once half is spent: O(1) per publish, amortized.
    if (this.recentHead > 1024 && this.recentHead * 2 > this.recent.length) {
      this.recent = this.recent.slice(this.recentHead);
      this.recentHead = 0;
    }
  }
}

const directness = new WeakMap<Envelope, boolean>();

/** Whether a CHANNEL envelope is for one node (kept from spreading); remembered per envelope, since anti-entropy asks at every advertise. */
function isDirect(env: Envelope): boolean {
  let d = directness.get(env);
  if (d === undefined) {
    try {
      d = pb.ChannelPost.decode(env.payload).targetNode !== "";
    } catch {
      d = false;
    }
    directness.set(env, d);
  }
  return d;
}

function message(env: Envelope, post: pb.ChannelPost): ChannelMessage {
  const data = Buffer.from(post.data.buffer, post.data.byteOffset, post.data.byteLength);
  let text: string | undefined;
  try {
    text = utf8.decode(post.data);
  } catch {
    text = undefined;
  }
  return {
    channel: post.channel,
    from: env.origin,
    seq: post.seq,
    id: idToHex(env.id),
    sentMs: post.sentMs,
    data: data.toString("base64"),
    ...(text !== undefined && { text }),
    ...(post.targetNode !== "" && { direct: true }),
  };
}
