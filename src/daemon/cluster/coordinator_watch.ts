import type { Clock, Timer } from "../../base/clock.js";
import type { Logger } from "../../base/logger.js";
import type { CoordinatorChange } from "../../control/talk_types.js";
import { coordinators, type CoordinatorSet } from "../../swim/coordinator.js";
import { StableSize } from "../../swim/coordinator_quorum.js";
import type { Member, MemberEvent } from "../../swim/types.js";
import type { TriggerEvent } from "../../triggers/index.js";
import type { Families } from "../api/lazy_metrics.js";

/*
 * This node's view of the coordinators (src/swim/coordinator.ts), kept
 * current: recomputed on every member event and every TICK_MS (the quorum's
 * stable size moves with time, not only with events). When the set changes
 * it logs one line, tells its listeners (GET /v1/members, the members
 * stream) and fires the triggers: coordinator-change on every node,
 * coordinator-promote / -demote on the node concerned. Triggers fire from
 * the moment the node has joined (markJoined): a node alone before its seeds
 * answer would otherwise promote itself and demote a moment later.
 */

export interface CoordinatorConfig {
  /** -coordinators K. */
  count: number;
  /** -coordinator-quorum. */
  quorum: boolean;
}

/** How long a running count must hold to become the stable cluster size (ms): longer than a join burst, shorter than an operator's patience. */
export const COORDINATOR_STABLE_MS = 10_000;
/** Recompute at least this often (ms), for the stable size's window. */
const TICK_MS = 1_000;

export interface CoordinatorWatchOptions {
  self: string;
  members: () => Member[];
  config: CoordinatorConfig;
  clock: Clock;
  log: Logger;
  /** Hands an event to the triggers (absent: no triggers). */
  fire?: (e: TriggerEvent) => void;
  stableMs?: number;
}

export class CoordinatorWatch {
  private config: CoordinatorConfig;
  private readonly stable: StableSize;
  private now: CoordinatorSet = { coordinators: [], running: 0, alive: 0 };
  private readonly listeners = new Set<(c: CoordinatorChange) => void>();
  private joined = false;
  private timer: Timer | undefined;
  private stopped = false;
  private changes = 0;

  constructor(private readonly o: CoordinatorWatchOptions) {
    this.config = { ...o.config };
    this.stable = new StableSize(o.stableMs ?? COORDINATOR_STABLE_MS);
    this.recompute();
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.recompute();
      this.timer = this.o.clock.setTimeout(tick, TICK_MS);
    };
    this.timer = this.o.clock.setTimeout(tick, TICK_MS);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** From now on changes fire triggers; a node that is a coordinator as it joins is promoted now. */
  markJoined(): void {
    if (this.joined) return;
    this.joined = true;
    this.recompute();
    if (this.isCoordinator(this.o.self)) this.fire("coordinator-promote", []);
  }

  onMemberEvent(e: MemberEvent): void {
    if (e.type === "leave" && e.member.name !== this.o.self) this.stable.left();
    this.recompute();
  }

  /** -coordinators and -coordinator-quorum changed by a reload. */
  setConfig(config: CoordinatorConfig): void {
    this.config = { ...config };
    this.recompute();
  }

  current(): CoordinatorChange {
    return { coordinators: [...this.now.coordinators], ...(this.now.withheld && { withheld: this.now.withheld }) };
  }

  isCoordinator(name: string): boolean {
    return this.now.coordinators.includes(name);
  }

  /** Every change of the set from now on; returns the unsubscribe. */
  onChange(listener: (c: CoordinatorChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  register(f: Families): void {
    f.gauge("gossipcheck_coordinator", "1 while this node is a coordinator (as it computes the set from its member list), else 0.", () => (this.isCoordinator(this.o.self) ? 1 : 0));
    f.gauge("gossipcheck_coordinators", "Coordinators this node sees (0 when -coordinator-quorum withholds them).", () => this.now.coordinators.length);
    f.total("gossipcheck_coordinator_changes_total", "Changes of the coordinator set this node saw.", () => this.changes);
  }

  private recompute(): void {
    const members = this.o.members();
    const running = members.reduce((n, m) => n + (m.status === "alive" || m.status === "suspect" ? 1 : 0), 0);
    const stableSize = this.stable.observe(running, this.o.clock.now());
    const next = coordinators(members, { count: this.config.count, ...(this.config.quorum && { quorum: { stableSize } }) });
    const before = this.now;
    this.now = next;
    // A withheld reason whose count moved is no change (the set stays empty).
    if (sameList(before.coordinators, next.coordinators) && Boolean(before.withheld) === Boolean(next.withheld)) return;
    this.changes++;
    const was = before.coordinators;
    const fields = { coordinators: next.coordinators, previous: was, running, ...(next.withheld && { withheld: next.withheld }) };
    if (next.withheld) this.o.log.warn(fields, `no coordinator: ${next.withheld}`);
    else this.o.log.info(fields, `coordinators: ${list(next.coordinators)} (were ${list(was)})`);
    const change = this.current();
    for (const l of this.listeners) l(change);
    if (!this.joined) return;
    const self = this.o.self;
    const wasSelf = was.includes(self);
    const isSelf = next.coordinators.includes(self);
    if (isSelf && !wasSelf) {
      this.o.log.info(fields, `this node (${self}) is now a coordinator: promoted`);
      this.fire("coordinator-promote", was);
    } else if (wasSelf && !isSelf) {
      this.o.log.info(fields, `this node (${self}) is no longer a coordinator: demoted`);
      this.fire("coordinator-demote", was);
    }
    this.fire("coordinator-change", was);
  }

  private fire(event: "coordinator-promote" | "coordinator-demote" | "coordinator-change", previous: string[]): void {
    const c = this.now;
    this.o.fire?.({ event, atMs: this.o.clock.now(), coordinator: { coordinators: [...c.coordinators], previous: [...previous], ...(c.withheld && { withheld: c.withheld }) } });
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function list(names: readonly string[]): string {
  return names.length ? names.join(", ") : "none";
}
