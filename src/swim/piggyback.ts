import type { Clock } from "../base/clock.js";
import type { Address, Transport } from "../net/transport.js";
import { appendUpdates, packetWriter, updateCost, type Primary } from "./codec.js";
import type { SwimConfig } from "./config.js";
import type { SwimCounters } from "./counters.js";
import type { MemberTable } from "./members.js";
import type { BroadcastQueue } from "./queue.js";

/**
 * Puts queued membership updates on the wire: every outgoing packet (ping,
 * ping-req, ack, nack) carries as many as fit in the packet budget, and a
 * gossip round sends the rest to a few random members. Updates cost no
 * extra packets while there is probe traffic to ride on.
 */
export interface PiggybackDeps {
  transport: Transport;
  clock: Clock;
  config: SwimConfig;
  table: MemberTable;
  queue: BroadcastQueue;
  counters: SwimCounters;
  localName: string;
  /** N for the retransmit limit. */
  clusterSize: () => number;
}

export class Piggyback {
  constructor(private readonly d: PiggybackDeps) {}

  /**
   * Sends primary to `to` with `first` (updates that should ride on this
   * very packet, e.g. the suspect message for a suspect's ping; those that
   * do not fit are dropped) and then queued updates, keeping the packet
   * within packetSizeBytes.
   */
  send(to: Address, primary: Primary, first: readonly Uint8Array[] = []): void {
    const { d } = this;
    const w = packetWriter(primary, d.table.running);
    let room = d.config.packetSizeBytes - w.len;
    const fitting: Uint8Array[] = [];
    for (const u of first) {
      const cost = updateCost(u.length);
      if (cost > room) break;
      room -= cost;
      fitting.push(u);
    }
    const queued = d.queue.take(room, d.clusterSize(), updateCost);
    appendUpdates(w, fitting);
    appendUpdates(w, queued);
    const bytes = w.finish();
    d.counters.packetsOut++;
    d.counters.bytesOut += bytes.length;
    d.counters.updatesSent += fitting.length + queued.length;
    d.transport.sendPacket(to, bytes);
  }

  /**
   * One gossip round: queued updates to gossipNodes random members that are
   * running, or were declared dead less than gossipToTheDeadMs ago (so a
   * member that was only cut off hears it and refutes). Sends nothing when
   * the queue is empty.
   */
  gossipRound(): void {
    const { d } = this;
    if (d.queue.length === 0) return;
    const now = d.clock.now();
    const targets = d.table.randomMembers(
      d.config.gossipNodes,
      (m) => m.name !== d.localName && (m.status === "alive" || m.status === "suspect" || (m.status === "dead" && now - m.statusSinceMs < d.config.gossipToTheDeadMs)),
    );
    for (const m of targets) {
      if (d.queue.length === 0) break;
      d.counters.gossipPackets++;
      this.send(m.address, {});
    }
  }
}
