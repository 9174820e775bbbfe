import { pb } from "../../src/proto/index.js";
import { VirtualClock } from "../../src/base/clock.js";
import { MemoryNetwork, type MemoryNetworkOptions, type MemoryTransport } from "../../src/net/memory_transport.js";
import { SeededRandom } from "../../src/base/random.js";
import type { Logger } from "../../src/base/logger.js";
import { localGossipConfig, type GossipConfig } from "../../src/gossip/config.js";
import { Disseminator, type ReplyBody } from "../../src/gossip/disseminator.js";
import { idToHex, type Envelope } from "../../src/gossip/envelope.js";
import { TestRoster, type TestMembership } from "./gossip_membership.js";

/**
 * A simulated cluster for gossip tests: MemoryNetwork + VirtualClock +
 * SeededRandom, a TestRoster for membership, and one Disseminator per node
 * whose CHECK_BATCH consumer counts what it consumed and answers with a
 * one-check report naming the node.
 */
export interface SimNode {
  name: string;
  address: string;
  transport: MemoryTransport;
  membership: TestMembership;
  gossip: Disseminator;
  /** envelope id hex -> times consumed by this node (this incarnation and earlier ones). */
  consumed: Map<string, number>;
  dataDir: string | null;
}

export interface SimOptions {
  seed?: number;
  config?: Partial<GossipConfig>;
  net?: Partial<Omit<MemoryNetworkOptions, "clock" | "random">>;
  /** Called inside each consumer before it answers (e.g. to check the state file). */
  onConsume?: (node: SimNode, env: Envelope) => void;
  logger?: (name: string) => Logger;
  /** Virtual ms each consumer takes before answering (a batch whose actions are slow); a function gives each node its own. */
  consumeDelayMs?: number | ((node: string) => number);
}

export interface AddOptions {
  dataDir?: string | null;
  /** Exchange push-pull state with a random live member after joining (as SWIM does on join). */
  pushPull?: boolean;
}

export class GossipSim {
  readonly clock = new VirtualClock();
  readonly random: SeededRandom;
  readonly net: MemoryNetwork;
  readonly roster: TestRoster;
  readonly config: GossipConfig;
  readonly nodes = new Map<string, SimNode>();
  /** Consumption counts survive restarts: a restarted node must not consume again. */
  private readonly consumedByName = new Map<string, Map<string, number>>();

  constructor(private readonly opts: SimOptions = {}) {
    this.random = new SeededRandom(opts.seed ?? 1);
    this.net = new MemoryNetwork({ clock: this.clock, random: this.random, ...opts.net });
    this.roster = new TestRoster(this.clock);
    this.config = { ...localGossipConfig(), ...opts.config };
  }

  async addNode(name: string, add: AddOptions = {}): Promise<SimNode> {
    const index = this.nodes.has(name) ? [...this.nodes.keys()].indexOf(name) : this.nodes.size;
    const address = `10.0.${Math.floor(index / 250)}.${(index % 250) + 1}:7946`;
    const transport = this.net.transport(address);
    const membership = this.roster.join(name, address);
    const consumed = this.consumedByName.get(name) ?? new Map<string, number>();
    this.consumedByName.set(name, consumed);
    const gossip = new Disseminator({
      membership,
      transport,
      clock: this.clock,
      random: this.random,
      config: this.config,
      logger: this.opts.logger?.(name),
      dataDir: add.dataDir ?? null,
    });
    const node: SimNode = { name, address, transport, membership, gossip, consumed, dataDir: add.dataDir ?? null };
    gossip.onEnvelope(pb.EnvelopeKind.CHECK_BATCH, async (env): Promise<ReplyBody> => {
      const id = idToHex(env.id);
      consumed.set(id, (consumed.get(id) ?? 0) + 1);
      this.opts.onConsume?.(node, env);
      const d = this.opts.consumeDelayMs ?? 0;
      const delay = typeof d === "function" ? d(name) : d;
      if (delay > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, delay));
      return { checks: { results: [{ name: "probe", type: "file_exists", status: pb.CheckStatus.PASS, message: `ran on ${name}` }] } };
    });
    await gossip.start();
    this.nodes.set(name, node);
    if (add.pushPull) this.pushPull(node);
    return node;
  }

  async addNodes(n: number, prefix = "node"): Promise<SimNode[]> {
    const out: SimNode[] = [];
    for (let i = 0; i < n; i++) out.push(await this.addNode(`${prefix}-${i}`));
    return out;
  }

  node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`sim: no node ${name}`);
    return n;
  }

  /** Push-pull with one random other reachable member, both ways (SWIM's join exchange). */
  pushPull(node: SimNode): void {
    const peers = node.membership.reachableMembers();
    if (peers.length === 0) return;
    const peer = this.node(peers[this.random.int(peers.length)]!.name);
    node.gossip.mergeRemoteState(peer.gossip.localState(true), true, peer.address);
    peer.gossip.mergeRemoteState(node.gossip.localState(true), true, node.address);
  }

  /** The node crashes (kill -9): it stops sending and receiving; the roster still lists it alive. */
  kill(name: string): void {
    this.net.silence(this.node(name).address);
  }

  /** Stops a node cleanly and closes its transport (it can be added again: a restart). */
  async stop(name: string): Promise<void> {
    const n = this.node(name);
    await n.gossip.stop();
    await n.transport.close();
  }

  consumedCount(name: string, idHex: string): number {
    return this.consumedByName.get(name)?.get(idHex) ?? 0;
  }

  /** Names of the nodes that consumed idHex at least once. */
  consumers(idHex: string): string[] {
    return [...this.consumedByName].filter(([, m]) => (m.get(idHex) ?? 0) > 0).map(([name]) => name);
  }

  /** Whether each named node consumed idHex exactly once so far, and none more than once. */
  exactlyOnce(idHex: string, names: Iterable<string>): boolean {
    for (const name of names) if (this.consumedCount(name, idHex) !== 1) return false;
    return true;
  }

  /** Largest consumption count of idHex on any node (1 = nobody consumed it twice). */
  maxConsumed(idHex: string): number {
    let max = 0;
    for (const m of this.consumedByName.values()) max = Math.max(max, m.get(idHex) ?? 0);
    return max;
  }
}

/** A small CheckBatch payload. */
export function batchPayload(checks = 1): Uint8Array {
  return pb.CheckBatch.encode({
    checks: Array.from({ length: checks }, (_, i) => ({ name: `c${i}`, type: "file_exists", path: `/tmp/x${i}` })),
  }).finish();
}
