/*
 * Every knob of the history store, in one documented home. The daemon maps
 * -history-retention and -history-max-bytes onto retentionMs and maxBytes;
 * the other two are fixed there and changed by tests.
 */

export interface HistoryConfig {
  /**
   * Rows older than this (ms; batches by the time this node finished them,
   * transitions and audit entries by their time) are deleted on the next
   * prune. 30 days by default: long enough to look back over a month of
   * incidents. On a busy node the size bound binds first: a batch of 10
   * checks takes about 2.7 KiB (bench), so 256 MiB hold about 97,000 of
   * them, 11 days of one such schedule every 10 s.
   */
  retentionMs: number;
  /**
   * Bound on the database's live data (bytes: SQLite pages in use, the
   * free list not counted). Past it the oldest rows go first, down to 90% of
   * it so that a full store does not prune on every write; freed pages are
   * handed back to the file system (incremental auto_vacuum), so the file
   * follows. The write-ahead log adds up to about 4 MiB on top
   * (journal_size_limit).
   */
  maxBytes: number;
  /**
   * How often (ms) the age and size bounds are enforced in full. Each write
   * also checks the size (two pragmas, a few µs) and prunes a bounded
   * amount when over, so a burst of writes cannot outgrow maxBytes between
   * two timer runs by much.
   */
  pruneEveryMs: number;
  /**
   * Cap on the rows one query returns (batches and transitions each, audit
   * entries): a caller's limit above it is lowered to it, and the answer
   * says it was truncated. Each row is a few hundred bytes of JSON on the
   * wire; 1000 keeps a cluster-wide answer under a megabyte per node.
   */
  maxQueryRows: number;
}

export const DAY_MS = 24 * 3600 * 1000;

export function defaultHistoryConfig(): HistoryConfig {
  return {
    retentionMs: 30 * DAY_MS,
    maxBytes: 256 * 1024 * 1024,
    pruneEveryMs: 60_000,
    maxQueryRows: 1000,
  };
}
