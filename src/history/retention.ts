/*
 * Retention: the age bound and the size bound of the history database.
 * Both delete oldest first (batches by finished time, transitions and audit
 * entries by their time) in small transactions, and hand the freed pages
 * back to the file system with incremental vacuum, so the file shrinks
 * instead of keeping its high-water mark.
 */
import type { Db, Statement } from "./sqlite.js";

type Table = "batches" | "transitions" | "audit";
const TABLES: readonly Table[] = ["batches", "transitions", "audit"];

/** Rows deleted per transaction by age: large enough to be quick, small enough not to hold the event loop (a few ms). */
const AGE_CHUNK_ROWS = 2000;
/** Size pruning deletes this share of a table's rows per step (at least one row, at most SIZE_CHUNK_MAX), then measures again. */
const SIZE_CHUNK_SHARE = 0.02;
const SIZE_CHUNK_MAX = 256;
/** Size pruning stops at this share of maxBytes, so a full store does not prune on every write. */
export const SIZE_LOW_WATER = 0.9;

export interface RowCounts {
  batches: number;
  transitions: number;
  audit: number;
}

export class Retention {
  private readonly pageCount: Statement;
  private readonly freelistCount: Statement;
  private readonly pageSize: number;
  private readonly oldest: Record<Table, Statement>;
  private readonly oldestBatchSeqs: Statement;
  private readonly deleteResultsOf: Statement;
  private readonly deleteBatch: Statement;
  private readonly deleteOlder: Record<"transitions" | "audit", Statement>;
  private readonly deleteBatches: (seqs: number[]) => void;

  constructor(
    private readonly db: Db,
    /** Rows per table now, kept by the store; retention lowers them as it deletes. */
    private readonly counts: RowCounts,
  ) {
    this.pageCount = db.prepare("PRAGMA page_count").pluck();
    this.freelistCount = db.prepare("PRAGMA freelist_count").pluck();
    this.pageSize = db.pragma("page_size", { simple: true }) as number;
    this.oldest = {
      batches: db.prepare("SELECT min(finished_ms) FROM batches").pluck(),
      transitions: db.prepare("SELECT min(at_ms) FROM transitions").pluck(),
      audit: db.prepare("SELECT min(at_ms) FROM audit").pluck(),
    };
    this.oldestBatchSeqs = db.prepare("SELECT seq FROM batches WHERE finished_ms < ? ORDER BY finished_ms LIMIT ?").pluck();
    this.deleteResultsOf = db.prepare("DELETE FROM results WHERE batch_seq = ?");
    this.deleteBatch = db.prepare("DELETE FROM batches WHERE seq = ?");
    this.deleteOlder = {
      transitions: db.prepare("DELETE FROM transitions WHERE seq IN (SELECT seq FROM transitions WHERE at_ms < ? ORDER BY at_ms LIMIT ?)"),
      audit: db.prepare("DELETE FROM audit WHERE seq IN (SELECT seq FROM audit WHERE at_ms < ? ORDER BY at_ms LIMIT ?)"),
    };
    // A batch and its results go together, as they came.
    this.deleteBatches = db.transaction((seqs: number[]) => {
      for (const seq of seqs) {
        this.deleteResultsOf.run(seq);
        this.deleteBatch.run(seq);
      }
    });
  }

  /** Bytes of live data: pages in use (the free list not counted) times the page size. */
  liveBytes(): number {
    return ((this.pageCount.get() as number) - (this.freelistCount.get() as number)) * this.pageSize;
  }

  /** The file's size as SQLite sees it (pages, free ones included), without the write-ahead log. */
  fileBytes(): number {
    return (this.pageCount.get() as number) * this.pageSize;
  }

  /**
   * Deletes rows older than cutoffMs, at most maxRows per table in this call.
   * Returns the rows deleted and whether some older ones remain.
   */
  pruneByAge(cutoffMs: number, maxRows: number): { deleted: number; more: boolean } {
    let deleted = 0;
    let more = false;
    for (const t of TABLES) {
      let left = maxRows;
      while (left > 0) {
        const n = this.deleteOldest(t, cutoffMs, Math.min(AGE_CHUNK_ROWS, left));
        deleted += n;
        left -= n;
        if (n === 0) break;
      }
      if (left === 0) more = true;
    }
    if (deleted > 0) this.vacuum();
    return { deleted, more };
  }

  /**
   * While live data exceeds maxBytes, deletes the oldest rows of whichever
   * table holds the oldest row, down to SIZE_LOW_WATER x maxBytes, for at
   * most maxSteps deletions. Returns the rows deleted and whether it is still
   * over maxBytes.
   */
  pruneBySize(maxBytes: number, maxSteps: number): { deleted: number; more: boolean } {
    if (this.liveBytes() <= maxBytes) return { deleted: 0, more: false };
    const target = maxBytes * SIZE_LOW_WATER;
    let deleted = 0;
    for (let step = 0; step < maxSteps && this.liveBytes() > target; step++) {
      const t = this.oldestTable();
      if (!t) break;
      const rows = Math.min(SIZE_CHUNK_MAX, Math.max(1, Math.floor(this.counts[t] * SIZE_CHUNK_SHARE)));
      const n = this.deleteOldest(t, Number.MAX_SAFE_INTEGER, rows);
      if (n === 0) break;
      deleted += n;
    }
    if (deleted > 0) this.vacuum();
    return { deleted, more: this.liveBytes() > maxBytes };
  }

  /** The table whose oldest row is oldest of all; undefined when every table is empty. */
  private oldestTable(): Table | undefined {
    let best: Table | undefined;
    let bestMs = Infinity;
    for (const t of TABLES) {
      const ms = this.oldest[t].get() as number | null;
      if (ms !== null && ms < bestMs) [best, bestMs] = [t, ms];
    }
    return best;
  }

  private deleteOldest(t: Table, beforeMs: number, rows: number): number {
    if (t === "batches") {
      const seqs = this.oldestBatchSeqs.all(beforeMs, rows) as number[];
      if (seqs.length) this.deleteBatches(seqs);
      this.counts.batches -= seqs.length;
      return seqs.length;
    }
    const n = this.deleteOlder[t].run(beforeMs, rows).changes;
    this.counts[t] -= n;
    return n;
  }

  /** Returns the free pages to the file system (the file shrinks at the next checkpoint). */
  private vacuum(): void {
    this.db.pragma("incremental_vacuum");
  }
}
