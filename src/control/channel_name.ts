import { CHANNEL_NAME, RESERVED_CHANNEL } from "./talk_types.js";

/*
 * Whether a string may name a channel (talk_types.ts: CHANNEL_NAME,
 * RESERVED_CHANNEL). The daemon refuses the rest with a 400 naming this
 * reason; the client library refuses them before sending anything.
 */

/** Why name cannot be a channel's, or null when it can. */
export function channelNameProblem(name: string): string | null {
  const shown = JSON.stringify(name.slice(0, 100));
  if (!CHANNEL_NAME.test(name)) return `channel name ${shown} is not 1 to 128 of A-Z a-z 0-9 . _ : - (e.g. "jobs" or "orders.eu")`;
  if (RESERVED_CHANNEL.test(name)) return `channel name ${shown} is reserved (names starting with "gossipcheck" or "_" are the daemon's): choose another`;
  return null;
}
