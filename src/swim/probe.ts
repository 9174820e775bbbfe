import type { Random } from "../base/random.js";
import type { Address } from "../net/transport.js";
import type { pb } from "../proto/index.js";
import type { Awareness } from "./awareness.js";
import { encodeUpdate } from "./codec.js";
import type { SwimConfig } from "./config.js";
import type { SwimCounters } from "./counters.js";
import type { MemberRecord, MemberTable } from "./members.js";
import type { Piggyback } from "./piggyback.js";
import type { Scheduler } from "./scheduler.js";
import type { MemberStates } from "./state.js";

/**
 * The failure detector (memberlist's probe / probeNode and the ping,
 * ping-req, ack and nack handlers). Once per protocol period it probes the
 * next member of the round-robin order:
 *   t0                ping the target (a suspect's ping also carries the
 *                     suspicion, so it can refute at once: the buddy system)
 *   t0 + probeTimeout no ack: ask indirectChecks random members to ping it
 *                     for us (ping-req); they relay its ack, or send a nack
 *                     when they could not reach it either
 *   t0 + interval     still no ack: suspect the target
 * The interval and the probe timeout are both stretched by the awareness
 * multiplier (Lifeguard's LHA-Probe; memberlist stretches only the
 * interval, but a node slow enough to raise its score also reads its acks
 * late, and keeping the ratio keeps the indirect phase as long as it was).
 * The verdict feeds awareness back: an ack lowers the score; a failed probe
 * raises it by the nacks that did not come (relays we could not hear from
 * suggest the problem is ours), or by 1 when there were no relays to ask.
 */
interface AckHandler {
  onAck: () => void;
  onNack: () => void;
}

export interface ProberDeps {
  name: string;
  address: Address;
  random: Random;
  config: SwimConfig;
  table: MemberTable;
  state: MemberStates;
  awareness: Awareness;
  counters: SwimCounters;
  scheduler: Scheduler;
  piggyback: Piggyback;
}

export class Prober {
  private seq = 0;
  private readonly pending = new Map<number, AckHandler>();

  constructor(private readonly d: ProberDeps) {}

  start(): void {
    // A random phase, so nodes started together do not probe in lockstep.
    this.d.scheduler.after(this.d.random.int(this.d.config.probeIntervalMs), () => this.tick());
  }

  handlePing(ping: pb.Ping.$Properties, from: Address): void {
    if (ping.target && ping.target !== this.d.name) {
      // Meant for a node that used to live at this address.
      this.d.counters.droppedWrongTarget++;
      return;
    }
    this.d.piggyback.send(ping.sourceAddress || from, { ack: { seq: ping.seq ?? 0 } });
  }

  /** Pings the target on the requester's behalf and relays the outcome. */
  handlePingReq(req: pb.PingReq.$Properties, from: Address): void {
    const { d } = this;
    if (!req.targetAddress) return;
    d.counters.pingReqsRelayed++;
    const replyTo = req.sourceAddress || from;
    const seq = this.nextSeq();
    let answered = false;
    this.pending.set(seq, {
      onAck: () => {
        if (answered) return;
        answered = true;
        this.pending.delete(seq);
        d.piggyback.send(replyTo, { ack: { seq: req.seq ?? 0 } });
      },
      onNack: () => {},
    });
    d.piggyback.send(req.targetAddress, { ping: { seq, target: req.target ?? "", source: d.name, sourceAddress: d.address } });
    d.scheduler.after(d.config.probeTimeoutMs, () => {
      this.pending.delete(seq);
      if (answered || !req.wantNack) return;
      d.counters.nacksSent++;
      d.piggyback.send(replyTo, { nack: { seq: req.seq ?? 0 } });
    });
  }

  handleAck(ack: pb.Ack.$Properties): void {
    const h = this.pending.get(ack.seq ?? 0);
    if (h) h.onAck();
    else this.d.counters.droppedUnknownSeq++;
  }

  handleNack(nack: pb.Nack.$Properties): void {
    const h = this.pending.get(nack.seq ?? 0);
    if (!h) {
      this.d.counters.droppedUnknownSeq++;
      return;
    }
    this.d.counters.nacksReceived++;
    h.onNack();
  }

  private tick(): void {
    const { d } = this;
    d.state.reap();
    const intervalMs = d.awareness.scaleTimeout(d.config.probeIntervalMs);
    d.scheduler.after(intervalMs, () => this.tick());
    // Dead and left members are not probed; suspects are (that is how a
    // suspect gets the chance to refute).
    const target = d.table.nextProbe((m) => m.name !== d.name && (m.status === "alive" || m.status === "suspect"));
    if (target) this.probe(target, intervalMs, d.awareness.scaleTimeout(d.config.probeTimeoutMs));
  }

  private probe(target: MemberRecord, intervalMs: number, timeoutMs: number): void {
    const { d } = this;
    const seq = this.nextSeq();
    // The verdict is about the target as it was when probed: if it refutes
    // meanwhile, a suspicion at this incarnation is stale and ignored.
    const { name, address, incarnation } = target;
    let done = false;
    let expectedNacks = 0;
    let nacks = 0;
    d.counters.probes++;
    this.pending.set(seq, {
      onAck: () => {
        if (done) return;
        done = true;
        this.pending.delete(seq);
        d.awareness.applyDelta(-1);
      },
      onNack: () => {
        nacks++;
      },
    });
    const buddy = target.status === "suspect" ? [encodeUpdate({ suspect: { node: name, incarnation, from: d.name, address } })] : [];
    d.piggyback.send(address, { ping: { seq, target: name, source: d.name, sourceAddress: d.address } }, buddy);

    d.scheduler.after(timeoutMs, () => {
      if (done) return;
      const relays = d.table.randomMembers(d.config.indirectChecks, (m) => m.name !== d.name && m.name !== name && m.status === "alive");
      for (const relay of relays) {
        expectedNacks++;
        d.counters.pingReqsSent++;
        d.piggyback.send(relay.address, { pingReq: { seq, target: name, targetAddress: address, wantNack: true, source: d.name, sourceAddress: d.address } });
      }
    });

    d.scheduler.after(intervalMs, () => {
      if (done) return;
      done = true;
      this.pending.delete(seq);
      d.awareness.applyDelta(expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1);
      d.counters.probesFailed++;
      d.state.suspectNode({ node: name, incarnation, from: d.name, address });
    });
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }
}
