import { retransmitLimit } from "./scale.js";

/**
 * The transmit-limited broadcast queue (memberlist's TransmitLimitedQueue).
 * Membership updates wait here to be piggybacked on probe packets and sent
 * by gossip rounds. Each is transmitted RetransmitMult x ceil(log10(N + 1))
 * times, the limit computed when it is taken (N grows during a join storm),
 * then dropped. Updates with the fewest transmits go first, newest first
 * among equals, so fresh news overtakes old news. A newer update about a
 * node replaces the queued one: only the latest state of a node is worth
 * spreading.
 *
 * Items hold encoded bytes; the caller says what an item costs in a packet.
 */
interface Item {
  node: string;
  bytes: Uint8Array;
  /** Enqueue order: a higher id is newer. */
  id: number;
  transmits: number;
  live: boolean;
  onDone?: () => void;
}

/**
 * How many items that do not fit in the remaining room take() skips before
 * it stops looking for a smaller one: bounds the scan of a large queue.
 */
const MAX_MISSES = 16;

export class BroadcastQueue {
  /**
   * tiers[t] holds the items transmitted t times, ordered by id (oldest
   * first). An item that moves up leaves a stale entry behind (its transmits
   * no longer equals t), skipped and swept away by compact().
   */
  private tiers: Item[][] = [];
  private readonly byNode = new Map<string, Item>();
  private nextId = 0;
  private stale = 0;
  /** Called after each enqueue (the gossip loop, which sleeps while the queue is empty). */
  onEnqueue: () => void = () => undefined;

  constructor(private readonly retransmitMult: number) {}

  /** Updates waiting to be sent. */
  get length(): number {
    return this.byNode.size;
  }

  /**
   * Queues an update about node, replacing (and finishing) any queued one
   * about the same node. onDone runs once the update has been sent its full
   * number of times or was replaced.
   */
  enqueue(node: string, bytes: Uint8Array, onDone?: () => void): void {
    const old = this.byNode.get(node);
    if (old) this.finish(old);
    const item: Item = { node, bytes, id: this.nextId++, transmits: 0, live: true, onDone };
    this.byNode.set(node, item);
    this.tier(0).push(item);
    this.onEnqueue();
  }

  /**
   * Takes updates whose costs add up to at most budgetBytes, fewest
   * transmits and newest first, and counts one transmit for each. numNodes
   * is the cluster size that sets the retransmit limit.
   */
  take(budgetBytes: number, numNodes: number, costOf: (byteLength: number) => number): Uint8Array[] {
    if (this.byNode.size === 0) return [];
    const limit = retransmitLimit(this.retransmitMult, numNodes);
    this.finishBeyond(limit);
    const out: Uint8Array[] = [];
    const taken: Item[] = [];
    let room = budgetBytes;
    let misses = 0;
    scan: for (let t = 0; t < this.tiers.length; t++) {
      const tier = this.tiers[t]!;
      for (let i = tier.length - 1; i >= 0; i--) {
        const item = tier[i]!;
        if (!item.live || item.transmits !== t) continue;
        const cost = costOf(item.bytes.length);
        if (cost > room) {
          if (++misses >= MAX_MISSES) break scan;
          continue;
        }
        room -= cost;
        out.push(item.bytes);
        taken.push(item);
      }
    }
    for (const item of taken) {
      item.transmits++;
      this.stale++;
      if (item.transmits >= limit) this.finish(item, false);
      else insertById(this.tier(item.transmits), item);
    }
    this.compact();
    return out;
  }

  /** Drops everything (shutdown), finishing each update. */
  clear(): void {
    for (const item of [...this.byNode.values()]) this.finish(item);
    this.tiers = [];
    this.stale = 0;
  }

  private tier(t: number): Item[] {
    while (this.tiers.length <= t) this.tiers.push([]);
    return this.tiers[t]!;
  }

  /** Finishes items at or over the limit (it shrinks when members leave). */
  private finishBeyond(limit: number): void {
    if (this.tiers.length <= limit) return;
    for (const tier of this.tiers.slice(limit)) {
      for (const item of tier) if (item.live && item.transmits >= limit) this.finish(item);
    }
    this.tiers.length = limit;
  }

  private finish(item: Item, leavesStaleEntry = true): void {
    if (!item.live) return;
    item.live = false;
    if (leavesStaleEntry) this.stale++;
    if (this.byNode.get(item.node) === item) this.byNode.delete(item.node);
    item.onDone?.();
  }

  /** Sweeps stale entries once they outnumber the live ones. */
  private compact(): void {
    if (this.stale < 64 || this.stale < this.byNode.size) return;
    this.tiers = this.tiers.map((tier, t) => tier.filter((item) => item.live && item.transmits === t));
    this.stale = 0;
  }
}

/** Inserts item into tier keeping it ordered by id. */
function insertById(tier: Item[], item: Item): void {
  let lo = 0;
  let hi = tier.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tier[mid]!.id < item.id) lo = mid + 1;
    else hi = mid;
  }
  tier.splice(lo, 0, item);
}
