import { VirtualClock } from "../base/clock.js";
import { MemoryNetwork, type MemoryTransport } from "../net/memory_transport.js";
import { SeededRandom } from "../base/random.js";
import type { Address } from "../net/transport.js";
import type { SwimConfig } from "./config.js";
import { SharedMembers } from "./identities.js";
import { Swim, type SwimOptions } from "./swim.js";
import type { MemberEvent } from "./types.js";

/**
 * A whole cluster in one process: SWIM nodes on a MemoryNetwork, a
 * VirtualClock and seeded randomness, so a run is repeatable from its seed
 * and hundreds of nodes take seconds. Used by the swim tests and benchmarks.
 */
export interface SimNode {
  name: string;
  address: Address;
  transport: MemoryTransport;
  swim: Swim;
  /** Every event this node emitted, in order. */
  events: MemberEvent[];
}

export interface SimClusterOptions {
  seed: number;
  config: SwimConfig;
  latencyMs?: number;
  jitterMs?: number;
  packetLoss?: number;
  /** Keep each node's events (costs memory in long runs; default true). */
  recordEvents?: boolean;
}

export class SimCluster {
  readonly clock = new VirtualClock();
  readonly random: SeededRandom;
  readonly net: MemoryNetwork;
  readonly nodes = new Map<string, SimNode>();
  private readonly config: SwimConfig;
  private readonly recordEvents: boolean;
  private seq = 0;
  /**
   * Member identities, one for all nodes' tables instead of one per table
   * (identities.ts). Bounded far above any simulated cluster's names.
   */
  private readonly shared = new SharedMembers(1_000_000);

  constructor(o: SimClusterOptions) {
    this.random = new SeededRandom(o.seed);
    this.config = o.config;
    this.recordEvents = o.recordEvents ?? true;
    this.net = new MemoryNetwork({
      clock: this.clock,
      random: new SeededRandom(o.seed ^ 0x5eed),
      latencyMs: o.latencyMs ?? 1,
      jitterMs: o.jitterMs ?? 0,
      packetLoss: o.packetLoss ?? 0,
    });
  }

  static addressOf(name: string): Address {
    return `${name}:7946`;
  }

  /** Creates and starts a node at addressOf(name) (it joins nobody yet). */
  add(name: string, extra: Pick<Partial<SwimOptions>, "tags" | "delegate" | "logger"> = {}, address: Address = SimCluster.addressOf(name)): SimNode {
    if (this.nodes.has(name)) throw new Error(`simulation: a node named ${name} exists`);
    const transport = this.net.transport(address);
    const swim = new Swim({
      name,
      transport,
      clock: this.clock,
      random: new SeededRandom(this.random.int(2 ** 31) + this.seq++),
      config: this.config,
      shared: this.shared,
      ...extra,
    });
    const node: SimNode = { name, address, transport, swim, events: [] };
    if (this.recordEvents) swim.onEvent((e) => node.events.push(e));
    swim.start();
    this.nodes.set(name, node);
    return node;
  }

  /** Adds count nodes named prefix0, prefix1, ... */
  addMany(count: number, prefix = "n"): SimNode[] {
    const out: SimNode[] = [];
    for (let i = 0; i < count; i++) out.push(this.add(`${prefix}${i}`));
    return out;
  }

  /**
   * Adds count nodes, has all but the first join through the first at the
   * same moment, and runs until every one lists every one alive. Returns
   * the names; throws if that takes longer than maxMs of virtual time.
   */
  async form(count: number, maxMs = 60_000): Promise<string[]> {
    const nodes = this.addMany(count);
    for (const n of nodes.slice(1)) {
      n.swim.join([nodes[0]!.address]).catch((err: Error) => {
        throw new Error(`simulation: ${n.name} could not join: ${err.message}`);
      });
    }
    const names = nodes.map((n) => n.name);
    if ((await this.runUntil(() => this.agree(names), maxMs)) < 0) {
      throw new Error(`simulation: ${count} nodes did not converge within ${maxMs} ms`);
    }
    return names;
  }

  /** Like kill -9: the node stops and the network drops everything to and from it. */
  kill(name: string): void {
    const node = this.must(name);
    this.net.silence(node.address);
    node.swim.shutdown();
    void node.transport.close();
  }

  /**
   * A fresh process under the same name (state lost), at the same address or,
   * like a daemon restarted on port 0, at another one.
   */
  restart(name: string, address: Address = SimCluster.addressOf(name)): SimNode {
    const old = this.must(name);
    old.swim.shutdown();
    void old.transport.close();
    this.nodes.delete(name);
    return this.add(name, {}, address);
  }

  /** True when each listed node sees exactly the listed nodes alive (and no other member running). */
  agree(names: string[]): boolean {
    for (const name of names) {
      const c = this.must(name).swim.statusCounts();
      if (c.alive !== names.length || c.suspect !== 0) return false;
    }
    for (const name of names) {
      const swim = this.must(name).swim;
      for (const other of names) if (swim.member(other)?.status !== "alive") return false;
    }
    return true;
  }

  /** Advances virtual time until cond holds; returns the ms it took or -1. */
  runUntil(cond: () => boolean, maxMs: number, stepMs = 100): Promise<number> {
    return this.clock.runUntil(cond, maxMs, stepMs);
  }

  must(name: string): SimNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`simulation: no node named ${name}`);
    return n;
  }

  /** Stops every node. */
  shutdown(): void {
    for (const n of this.nodes.values()) n.swim.shutdown();
  }
}
