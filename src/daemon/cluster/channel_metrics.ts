import type { Families } from "../api/lazy_metrics.js";
import type { ChannelCounters } from "./channels.js";
import { f as counter, families, g, type Family } from "./metrics.js";

/*
 * The channels' metrics (issue 17): messages published here, delivered to
 * subscribers here, dropped (by why), the reorder buffer and the
 * subscribers, read from Channels' counters at each scrape.
 */

const DROPPED = "Channel messages this node did not deliver, by reason: late (after its gap was given up), stale (an older sender epoch), invalid, missed (skipped in a gap).";

/** Every ChannelCounters field (the compiler keeps this table complete). */
const CHANNELS: Record<keyof ChannelCounters, Family> = {
  published: counter("gossipcheck_channel_messages_published_total", "Channel messages published through this node."),
  delivered: counter("gossipcheck_channel_messages_delivered_total", "Channel messages handed to subscribers here (one per subscriber)."),
  relayedOnly: counter("gossipcheck_channel_messages_relayed_only_total", "Channel messages received for a channel nobody here subscribes to, or for another node."),
  late: counter("gossipcheck_channel_messages_dropped_total", DROPPED, ["reason", "late"]),
  stale: counter("gossipcheck_channel_messages_dropped_total", DROPPED, ["reason", "stale"]),
  invalid: counter("gossipcheck_channel_messages_dropped_total", DROPPED, ["reason", "invalid"]),
  missed: counter("gossipcheck_channel_messages_dropped_total", DROPPED, ["reason", "missed"]),
  reordered: counter("gossipcheck_channel_messages_reordered_total", "Channel messages that arrived before a predecessor and waited for it in the reorder buffer."),
  gaps: counter("gossipcheck_channel_gaps_total", "Gaps in a sender's sequence given up after the reorder wait (or at a buffer bound)."),
  throttled: counter("gossipcheck_channel_publishes_throttled_total", "Publishes refused (503) because this node's channel messages still live exceeded their byte bound."),
  held: g("gossipcheck_channel_held_messages", "Channel messages held in the reorder buffer, waiting for a predecessor."),
  heldBytes: g("gossipcheck_channel_held_bytes", "Bytes of the channel messages held in the reorder buffer."),
  streams: g("gossipcheck_channel_sender_streams", "(channel, sender) sequences this node tracks."),
  subscribers: g("gossipcheck_channel_subscribers", "Channel subscribers (SSE streams) on this daemon now."),
  refusedSubscribers: counter("gossipcheck_channel_subscribers_refused_total", "Channel subscriptions refused at the daemon's limit."),
};

export function channelMetrics(f: Families, read: () => ChannelCounters): void {
  families(f, CHANNELS, () => ({ ...read() }));
}
