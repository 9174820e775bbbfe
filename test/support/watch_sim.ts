import { VirtualClock } from "../../src/base/clock.js";
import { nullLogger } from "../../src/base/logger.js";
import { SeededRandom } from "../../src/base/random.js";
import type { Evaluation } from "../../src/checks/evaluation.js";
import type { CheckSpec } from "../../src/checks/types.js";
import { admitEnvelope } from "../../src/daemon/cluster/admission.js";
import type { BatchNode } from "../../src/daemon/cluster/batch_handler.js";
import { Watch } from "../../src/daemon/cluster/watch.js";
import { localGossipConfig, type GossipConfig } from "../../src/gossip/config.js";
import { Disseminator } from "../../src/gossip/disseminator.js";
import { MemoryNetwork, type MemoryTransport } from "../../src/net/memory_transport.js";
import type { TriggerEvent } from "../../src/triggers/index.js";
import { TestRoster, type TestMembership } from "./gossip_membership.js";

/*
 * A simulated cluster of always-on nodes: MemoryNetwork + VirtualClock +
 * SeededRandom, a TestRoster for membership, and per node the real
 * Disseminator (standing schedules in push-pull, admission) and the real
 * Watch (schedule book, scheduler, quorum, triggers), without a data dir
 * (no history). Check outcomes are injected per node (`failing`), so a
 * quorum test can make 3 of 10 voters see a shared service down.
 */

export interface WatchSimNode {
  name: string;
  address: string;
  transport: MemoryTransport;
  membership: TestMembership;
  gossip: Disseminator;
  watch: Watch;
  /** Trigger events fired on this node (recorded instead of run). */
  fired: TriggerEvent[];
}

export class WatchSim {
  readonly clock = new VirtualClock();
  readonly random: SeededRandom;
  readonly net: MemoryNetwork;
  readonly roster: TestRoster;
  readonly nodes = new Map<string, WatchSimNode>();
  /** Nodes on which every scheduled check fails. */
  readonly failing = new Set<string>();

  constructor(
    seed = 1,
    private readonly gossipConfig: Partial<GossipConfig> = {},
  ) {
    this.random = new SeededRandom(seed);
    this.net = new MemoryNetwork({ clock: this.clock, random: this.random });
    this.roster = new TestRoster(this.clock);
  }

  async addNode(name: string, tags: Record<string, string> = {}): Promise<WatchSimNode> {
    const address = `10.1.${Math.floor(this.nodes.size / 250)}.${(this.nodes.size % 250) + 1}:7946`;
    const transport = this.net.transport(address);
    const membership = this.roster.join(name, address, tags);
    const node: BatchNode = { name, tags, actionsEnabled: true };
    const admit = admitEnvelope(node);
    let watch: Watch | null = null;
    const gossip = new Disseminator({
      membership,
      transport,
      clock: this.clock,
      random: this.random,
      config: { ...localGossipConfig(), ...this.gossipConfig },
      admit,
      standing: { envelopes: () => watch?.book.envelopes() ?? [], known: (env) => watch?.book.has(env) ?? false, accept: (env, from) => watch?.standing().accept(env, from) },
    });
    const fired: TriggerEvent[] = [];
    watch = new Watch({
      node,
      gossip,
      members: () => membership.members(),
      clock: this.clock,
      random: this.random,
      log: nullLogger,
      dataDir: null,
      triggers: [],
      historyRetentionMs: 86_400_000,
      historyMaxBytes: 1 << 20,
      flapMaxActions: 3,
      flapWindowMs: 600_000,
      refusal: (env) => {
        const a = admit(env);
        return a.ok ? null : a.reason;
      },
      evaluate: async (spec: CheckSpec): Promise<Evaluation> =>
        this.failing.has(name) ? { status: "fail", message: `${spec.name} fails on ${name}` } : { status: "pass", message: `${spec.name} passes on ${name}` },
    });
    const fire = watch.triggers.fire.bind(watch.triggers);
    watch.triggers.fire = (e: TriggerEvent) => {
      fired.push(e);
      fire(e);
    };
    await watch.start();
    await gossip.start();
    membership.onEvent((e) => watch.onMemberEvent(e));
    watch.markJoined();
    const n: WatchSimNode = { name, address, transport, membership, gossip, watch, fired };
    this.nodes.set(name, n);
    return n;
  }

  node(name: string): WatchSimNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`sim: no node ${name}`);
    return n;
  }

  /** Push-pull with one random other reachable member, both ways (SWIM's join exchange and its periodic one). */
  pushPull(node: WatchSimNode): void {
    const peers = node.membership.reachableMembers().filter((m) => m.name !== node.name);
    if (peers.length === 0) return;
    const peer = this.node(peers[this.random.int(peers.length)]!.name);
    node.gossip.mergeRemoteState(peer.gossip.localState(false), false, peer.address);
    peer.gossip.mergeRemoteState(node.gossip.localState(false), false, node.address);
  }

  async stopAll(): Promise<void> {
    for (const n of this.nodes.values()) {
      await n.watch.stop();
      await n.gossip.stop();
      await n.transport.close();
    }
  }
}
