/*
 * A binary min-heap of items ordered by their due time (ms), with removal
 * of any item: each item carries its own slot index, so the scheduler
 * needs one timer (for the top) however many checks it holds, and a
 * replaced or removed check leaves the heap at once rather than waking the
 * scheduler at its old due time.
 */

export interface DueItem {
  dueMs: number;
  /** The item's position in the heap; -1 when not in it (kept by the heap). */
  heapIndex: number;
}

export class DueHeap<T extends DueItem> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.up(item.heapIndex);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top) this.remove(top);
    return top;
  }

  /** Removes the item if it is in the heap. */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.items[i] !== item) return;
    const last = this.items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.down(i);
    this.up(last.heapIndex);
  }

  private up(i: number): void {
    const h = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.dueMs <= h[i]!.dueMs) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.dueMs < h[m]!.dueMs) m = l;
      if (r < h.length && h[r]!.dueMs < h[m]!.dueMs) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.items;
    const x = h[a]!;
    const y = h[b]!;
    h[a] = y;
    h[b] = x;
    x.heapIndex = b;
    y.heapIndex = a;
  }
}
