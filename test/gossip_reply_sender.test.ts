import assert from "node:assert/strict";
import { it } from "node:test";
import { VirtualClock } from "../src/base/clock.js";
import { nullLogger } from "../src/base/logger.js";
import { SeededRandom } from "../src/base/random.js";
import { localGossipConfig } from "../src/gossip/config.js";
import { newGossipCounters } from "../src/gossip/counters.js";
import type { Envelope } from "../src/gossip/envelope.js";
import { ReplySender } from "../src/gossip/reply_sender.js";
import type { GossipRequester } from "../src/gossip/requester.js";
import type { Membership } from "../src/swim/types.js";
import type { pb } from "../src/proto/index.js";

/*
 * One reply per envelope ID reaches the origin, except that a refusal still
 * waiting for its acknowledgement gives way to a real answer: a node that
 * refused a forged copy under a genuine batch's ID (CI saw it) must still get
 * the genuine batch's results through.
 */

it("a refusal waiting for its acknowledgement gives way to the real answer for the same envelope ID; nothing else replaces a pending reply", async () => {
  const clock = new VirtualClock();
  const sent: pb.NodeReply.$Properties[] = [];
  // The origin never acknowledges: every reply stays pending.
  const requester = { request: (_to: string, m: { reply: pb.NodeReply.$Properties }) => (sent.push(m.reply), new Promise(() => {})) } as unknown as GossipRequester;
  const membership = { member: () => ({ status: "alive" }) } as unknown as Membership;
  const replies = new ReplySender({ requester, membership, clock, random: new SeededRandom(1), config: localGossipConfig(), logger: nullLogger, counters: newGossipCounters() });
  const env = { id: new Uint8Array(16).fill(7), origin: "o", originAddress: "127.0.0.1:1", createdMs: clock.now(), ttlMs: 60_000 } as Envelope;
  replies.send(env, { node: "n", rejected: "untrusted key" });
  replies.send(env, { node: "n", checks: { results: [] } });
  replies.send(env, { node: "n", rejected: "again" });
  assert.deepEqual(
    sent.map((r) => (r.rejected ? `rejected: ${r.rejected}` : "checks")),
    ["rejected: untrusted key", "checks"],
    "the answer replaced the refusal; a later refusal did not replace the answer",
  );
  assert.equal(replies.size, 1);
  replies.stop();
});
