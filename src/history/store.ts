/*
 * The per-node history store (issue 14): every batch this node ran with its
 * results, every transition of its scheduled checks, and the audit log, in
 * one SQLite file in the data dir (better-sqlite3, synchronous calls: each
 * write is one short transaction, tens of µs).
 *
 * History is a record, never a dependency: a write that fails (disk full,
 * I/O error, read-only file) is logged (rate-limited), counted and reported
 * by degraded(), never thrown, and the next write simply tries again. Checks,
 * actions and the seen-history that prevents replays do not wait on it.
 */
import { renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { CheckResult, CheckStatus } from "../checks/types.js";
import type { AuditRecord, BatchRecord, TransitionRecord } from "../control/watch_types.js";
import { systemClock, type Clock, type Timer } from "../base/clock.js";
import { RateLimitedLog, type Logger } from "../base/logger.js";
import { errorMessage, fail, ok, type Result } from "../base/result.js";
import { defaultHistoryConfig, type HistoryConfig } from "./config.js";
import { Retention, type RowCounts } from "./retention.js";
import { auditFromRow, batchFromRow, countByStatus, resultJson, transitionFromRow, type AuditRow, type BatchRow, type TransitionRow } from "./rows.js";
import { migrate } from "./schema.js";
import { describeSqliteError, isCorruption, openDatabase, sqliteCode, type Db, type Statement } from "./sqlite.js";

export { defaultHistoryConfig, type HistoryConfig } from "./config.js";

/** The database's file name in the data dir (with -wal and -shm beside it while open). */
export const HISTORY_FILE_NAME = "history.sqlite";

/** How long (ms) a statement waits for another process's lock before failing with SQLITE_BUSY (only gossipcheckd writes the file; a reader such as the sqlite3 shell may hold it briefly). */
const BUSY_TIMEOUT_MS = 1000;
/** SQLite's page cache (KiB): see prepare(). */
const PAGE_CACHE_KIB = 512;
/** The write-ahead log is cut back to this size (bytes) after each checkpoint. */
const WAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024;
/** Size pruning done inline by one write (steps of retention.ts); the timer does the rest. */
const WRITE_PRUNE_STEPS = 4;
/** Writes measure the file (two pragmas) once about this many bytes of rows were written since the last measure, or maxBytes / 64 when smaller. */
const SIZE_CHECK_EVERY_BYTES = 64 * 1024;
/** Rows the timer deletes per table and run; when more remain it runs again after a second. */
const TIMER_PRUNE_ROWS = 20_000;
const TIMER_PRUNE_STEPS = 500;

export interface BatchToRecord {
  batchId: string;
  origin: string;
  submitter: string;
  /** Fingerprint of the operator key that signed the batch; "" unsigned. */
  signer: string;
  createdMs: number;
  finishedMs: number;
  dryRun: boolean;
  /** Schedule name for a scheduled run; "" for a submitted batch. */
  schedule: string;
  /** The check file as the operator wrote it (stored as JSON). */
  checks: unknown;
  results: CheckResult[];
}

export interface HistoryQuery {
  /** Only batches with a result of this check (each then carries that one result), and this check's transitions. */
  check?: string;
  /** ms since the epoch; batches by the time this node finished them, transitions by their time. */
  sinceMs?: number;
  /** Only batches with a result of this status (of `check` when given), and transitions to it. */
  status?: CheckStatus;
  /** At most this many batches and this many transitions (newest first), never more than maxQueryRows. */
  limit?: number;
  schedule?: string;
}

export interface HistoryCounters {
  /** Rows stored now. */
  batches: number;
  transitions: number;
  auditEntries: number;
  /** Live data (bytes): pages in use, the free list not counted. */
  bytes: number;
  /** Writes that failed since the store opened (a batch, a transition, an audit entry, a prune). */
  writeErrors: number;
  /** Rows deleted by retention since the store opened. */
  pruned: number;
  /** 1 while writes fail (see degraded()). */
  degraded: 0 | 1;
}

export interface HistoryStore {
  /** A batch this node ran (submitted or scheduled), with its checks (the check file as JSON) and results incl. action outcome and output. A batch recorded again replaces the earlier record. */
  recordBatch(b: BatchToRecord): void;
  recordTransition(t: TransitionRecord): void;
  audit(a: AuditRecord): void;
  /** One batch with its results (in the order they were recorded) and its check file. */
  batch(batchId: string): (BatchRecord & { checks: unknown }) | undefined;
  /** Batches (without results, unless `check` is given) and transitions, newest first; truncated when more matched than were returned. */
  query(q: HistoryQuery): { batches: BatchRecord[]; transitions: TransitionRecord[]; truncated: boolean };
  /** Audit entries, newest first. */
  auditLog(q: { sinceMs?: number; limit?: number }): AuditRecord[];
  counters(): HistoryCounters;
  /** Why writes are failing now (e.g. "disk full (SQLITE_FULL) on /var/lib/...: ..."), or undefined. */
  degraded(): string | undefined;
  /** Stops the prune timer and closes the file (the write-ahead log is checkpointed into it). Later writes are ignored. */
  close(): void;
}

export interface OpenHistoryOptions {
  config?: Partial<HistoryConfig>;
  clock?: Clock;
  log: Logger;
}

/**
 * Opens (creating) DATA_DIR/history.sqlite. A file that is damaged or not a
 * database is renamed aside (history.sqlite.corrupt-<time>, with its -wal)
 * and an empty one opened, and that is logged; any other failure (the addon
 * does not load under this Node, the file cannot be opened, a newer schema)
 * is an error naming the file and what to do.
 */
export function openHistory(dataDir: string, opts: OpenHistoryOptions): Result<HistoryStore> {
  const config = { ...defaultHistoryConfig(), ...opts.config };
  const clock = opts.clock ?? systemClock;
  const file = join(dataDir, HISTORY_FILE_NAME);
  let opened = prepare(file);
  if (!opened.ok && opened.error.corrupt) {
    const aside = `${file}.corrupt-${new Date(clock.now()).toISOString().replace(/[:.]/g, "-")}`;
    try {
      setAside(file, aside);
    } catch (e) {
      return fail(`${opened.error.message}; setting it aside as ${aside} failed too (${errorMessage(e)}): move it away by hand`);
    }
    opts.log.warn({ file, aside, error: opened.error.message }, "history database damaged or not a database: set aside, starting an empty history");
    opened = prepare(file);
  }
  if (!opened.ok) return fail(opened.error.message);
  return ok(new SqliteHistory(opened.value, file, config, clock, opts.log));
}

/** Opens the file, sets the connection up and brings the schema to this version; on failure closes it again and says whether the file is damaged. */
function prepare(file: string): Result<Db, { message: string; corrupt: boolean }> {
  const opened = openDatabase(file, BUSY_TIMEOUT_MS);
  if (!opened.ok) return fail({ message: opened.error, corrupt: false });
  const db = opened.value;
  try {
    // SQLite takes auto_vacuum only before the first table exists (later it needs a VACUUM): set it on a new file, first.
    if ((db.pragma("user_version", { simple: true }) as number) === 0) db.pragma("auto_vacuum = INCREMENTAL");
    db.pragma("journal_mode = WAL");
    // NORMAL with WAL: a commit appends to the log without an fsync (the log
    // is synced at each checkpoint). A killed process loses nothing committed
    // (the appended pages are in the kernel's page cache) and the file is
    // never left inconsistent; only a power loss or kernel crash may roll
    // back the last commits. For a record of what ran that trade is right:
    // FULL would cost an fsync per batch (milliseconds on cloud disks).
    db.pragma("synchronous = NORMAL");
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    // SQLite's page cache is 2 MiB by default, and a daemon's fills it as the
    // history grows: most of the malloc a long-running daemon gained over a
    // fresh one (heaptrack, docs/BENCHMARKS.md "The malloc growth,
    // explained"). Writes append at the end of each index and queries are
    // rare and answered from the OS's cache of the file.
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    const migrated = migrate(db, file);
    if (!migrated.ok) {
      db.close();
      return fail({ message: migrated.error, corrupt: false });
    }
    // Reads the tables' first pages: a damaged file mostly shows here.
    db.prepare("SELECT count(*) FROM batches").get();
    return ok(db);
  } catch (e) {
    try {
      db.close();
    } catch {
      /* already unusable */
    }
    return fail({ message: describeSqliteError(e, file), corrupt: isCorruption(e) });
  }
}

function setAside(file: string, aside: string): void {
  renameSync(file, aside);
  for (const suffix of ["-wal", "-shm"]) {
    try {
      renameSync(file + suffix, aside + suffix);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") rmSync(file + suffix, { force: true });
    }
  }
}

class SqliteHistory implements HistoryStore {
  private readonly counts: RowCounts;
  private readonly retention: Retention;
  private readonly warn: RateLimitedLog;
  private readonly st: ReturnType<typeof statements>;
  private readonly queries = new Map<string, Statement>();
  private readonly insertBatch: (b: BatchToRecord) => { added: boolean; bytes: number };
  private writeErrors = 0;
  private pruned = 0;
  /** Bytes of row data written since the size was last measured (approximate: the JSON and strings). */
  private unmeasured = 0;
  private why: string | undefined;
  private timer: Timer | undefined;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly file: string,
    private readonly config: HistoryConfig,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.warn = new RateLimitedLog(log, () => clock.now(), 60_000);
    this.st = statements(db);
    const count = (t: string) => db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number;
    this.counts = { batches: count("batches"), transitions: count("transitions"), audit: count("audit") };
    this.retention = new Retention(db, this.counts);
    // A batch and its results are one transaction: a crash leaves all of it or none.
    this.insertBatch = db.transaction((b: BatchToRecord) => {
      const old = this.st.batchSeq.get(b.batchId) as number | undefined;
      if (old !== undefined) {
        this.st.deleteResults.run(old);
        this.st.deleteBatch.run(old);
      }
      const seq = this.st.insertBatch.run(
        b.batchId,
        b.origin,
        b.submitter,
        b.signer,
        b.createdMs,
        b.finishedMs,
        b.dryRun ? 1 : 0,
        b.schedule,
        JSON.stringify(b.checks ?? null),
        JSON.stringify(countByStatus(b.results)),
      ).lastInsertRowid;
      let bytes = 200;
      b.results.forEach((r, i) => {
        const json = resultJson(r);
        bytes += json.length + 50;
        this.st.insertResult.run(seq, i, r.name, r.status, b.finishedMs, json);
      });
      return { added: old === undefined, bytes };
    });
    this.runPrune();
  }

  recordBatch(b: BatchToRecord): void {
    this.write("batch", () => {
      const { added, bytes } = this.insertBatch(b);
      if (added) this.counts.batches++;
      return bytes;
    });
  }

  recordTransition(t: TransitionRecord): void {
    this.write("transition", () => {
      this.st.insertTransition.run(t.node, t.schedule, t.check, t.from, t.to, t.atMs, t.message);
      this.counts.transitions++;
      return 100 + t.message.length;
    });
  }

  audit(a: AuditRecord): void {
    this.write("audit", () => {
      this.st.insertAudit.run(a.atMs, a.kind, a.summary, a.subject);
      this.counts.audit++;
      return 50 + a.summary.length + a.subject.length;
    });
  }

  batch(batchId: string): (BatchRecord & { checks: unknown }) | undefined {
    return this.read("batch", undefined, () => {
      const row = this.st.batchById.get(batchId) as BatchRow | undefined;
      if (!row) return undefined;
      const results = (this.st.resultsOf.all(row.seq) as string[]).map((j) => JSON.parse(j) as CheckResult);
      return { ...batchFromRow(row), results, checks: JSON.parse(row.checks) as unknown };
    });
  }

  query(q: HistoryQuery): { batches: BatchRecord[]; transitions: TransitionRecord[]; truncated: boolean } {
    const limit = this.limit(q.limit);
    return this.read("query", { batches: [], transitions: [], truncated: false }, () => {
      const batches = this.queryBatches(q, limit + 1);
      const transitions = this.queryTransitions(q, limit + 1);
      return { batches: batches.slice(0, limit), transitions: transitions.slice(0, limit), truncated: batches.length > limit || transitions.length > limit };
    });
  }

  auditLog(q: { sinceMs?: number; limit?: number }): AuditRecord[] {
    return this.read("audit log", [], () => (this.st.auditSince.all(q.sinceMs ?? 0, this.limit(q.limit)) as AuditRow[]).map(auditFromRow));
  }

  counters(): HistoryCounters {
    return {
      batches: this.counts.batches,
      transitions: this.counts.transitions,
      auditEntries: this.counts.audit,
      bytes: this.closed ? 0 : this.read("size", 0, () => this.retention.liveBytes()),
      writeErrors: this.writeErrors,
      pruned: this.pruned,
      degraded: this.why === undefined ? 0 : 1,
    };
  }

  degraded(): string | undefined {
    return this.why;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    try {
      this.db.close();
    } catch (e) {
      this.log.warn({ file: this.file, error: errorMessage(e) }, "closing the history database failed");
    }
  }

  private limit(asked: number | undefined): number {
    const max = this.config.maxQueryRows;
    return asked === undefined || !(asked > 0) ? max : Math.min(Math.floor(asked), max);
  }

  /**
   * With a check, the walk goes through that check's results in time order
   * (results_by_check) and each batch carries the matching result; with a
   * status alone, through the results that are not passing (the partial
   * index results_not_pass, which a literal in the SQL lets SQLite use);
   * otherwise through batches in time order.
   */
  private queryBatches(q: HistoryQuery, limit: number): BatchRecord[] {
    const sinceMs = q.sinceMs ?? 0;
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.check !== undefined) {
      where.push("r.check_name = ?", "r.finished_ms >= ?");
      args.push(q.check, sinceMs);
      if (q.status !== undefined) {
        where.push("r.status = ?");
        args.push(q.status);
      }
      if (q.schedule !== undefined) {
        where.push("b.schedule = ?");
        args.push(q.schedule);
      }
      const sql = `SELECT b.*, r.result AS matched FROM results r JOIN batches b ON b.seq = r.batch_seq WHERE ${where.join(" AND ")} ORDER BY r.finished_ms DESC, r.batch_seq DESC LIMIT ?`;
      const rows = this.prepared(sql).all(...args, limit) as (BatchRow & { matched: string })[];
      return rows.map((row) => ({ ...batchFromRow(row), results: [JSON.parse(row.matched) as CheckResult] }));
    }
    where.push("b.finished_ms >= ?");
    args.push(sinceMs);
    if (q.schedule !== undefined) {
      where.push("b.schedule = ?");
      args.push(q.schedule);
    }
    if (q.status === "pass") {
      where.push("EXISTS (SELECT 1 FROM results r WHERE r.batch_seq = b.seq AND r.status = 'pass')");
    } else if (q.status !== undefined) {
      where.push("b.seq IN (SELECT batch_seq FROM results WHERE status = ? AND status <> 'pass' AND finished_ms >= ?)");
      args.push(q.status, sinceMs);
    }
    const sql = `SELECT b.* FROM batches b WHERE ${where.join(" AND ")} ORDER BY b.finished_ms DESC, b.seq DESC LIMIT ?`;
    return (this.prepared(sql).all(...args, limit) as BatchRow[]).map(batchFromRow);
  }

  private queryTransitions(q: HistoryQuery, limit: number): TransitionRecord[] {
    const where = ["at_ms >= ?"];
    const args: (string | number)[] = [q.sinceMs ?? 0];
    for (const [column, value] of [
      ["check_name", q.check],
      ["to_status", q.status],
      ["schedule", q.schedule],
    ] as const) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      args.push(value);
    }
    const sql = `SELECT * FROM transitions WHERE ${where.join(" AND ")} ORDER BY at_ms DESC, seq DESC LIMIT ?`;
    return (this.prepared(sql).all(...args, limit) as TransitionRow[]).map(transitionFromRow);
  }

  /** One prepared statement per query shape (at most a few dozen). */
  private prepared(sql: string): Statement {
    let s = this.queries.get(sql);
    if (!s) this.queries.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  /**
   * Runs one write (fn returns about how many bytes it wrote); on failure
   * counts it, says why in degraded(), logs (rate-limited) and returns. The
   * next write tries again. Every so many bytes, checks the size bound.
   */
  private write(what: string, fn: () => number): void {
    if (this.closed) return;
    try {
      this.unmeasured += fn();
    } catch (e) {
      this.failed(what, e);
      return;
    }
    try {
      if (this.unmeasured >= Math.min(SIZE_CHECK_EVERY_BYTES, this.config.maxBytes / 64)) {
        this.unmeasured = 0;
        this.pruned += this.retention.pruneBySize(this.config.maxBytes, WRITE_PRUNE_STEPS).deleted;
      }
      this.succeeded();
    } catch (e) {
      this.failed("prune", e);
    }
  }

  private succeeded(): void {
    if (this.why === undefined) return;
    this.log.info({ file: this.file, was: this.why, writeErrors: this.writeErrors }, "history writes work again");
    this.why = undefined;
  }

  private failed(what: string, e: unknown): void {
    this.writeErrors++;
    this.why = describeSqliteError(e, this.file);
    this.warn.warn(`write:${sqliteCode(e) ?? "other"}`, { file: this.file, what, error: this.why, writeErrors: this.writeErrors }, "history write failed: history is degraded, checks go on");
  }

  /** Reads never throw either: a failed read is logged and answered empty. */
  private read<T>(what: string, empty: T, fn: () => T): T {
    if (this.closed) return empty;
    try {
      return fn();
    } catch (e) {
      this.warn.warn(`read:${sqliteCode(e) ?? "other"}`, { file: this.file, what, error: describeSqliteError(e, this.file) }, "history read failed");
      return empty;
    }
  }

  /** Enforces both bounds now, then again after pruneEveryMs (after a second while a backlog remains). */
  private runPrune(): void {
    if (this.closed) return;
    let more = false;
    try {
      const byAge = this.retention.pruneByAge(this.clock.now() - this.config.retentionMs, TIMER_PRUNE_ROWS);
      const bySize = this.retention.pruneBySize(this.config.maxBytes, TIMER_PRUNE_STEPS);
      this.pruned += byAge.deleted + bySize.deleted;
      more = byAge.more || bySize.more;
      if (byAge.deleted + bySize.deleted > 0) {
        this.log.debug({ file: this.file, byAge: byAge.deleted, bySize: bySize.deleted, more }, "history pruned");
        this.succeeded();
      }
    } catch (e) {
      this.failed("prune", e);
    }
    this.timer = this.clock.setTimeout(() => this.runPrune(), more ? Math.min(1000, this.config.pruneEveryMs) : this.config.pruneEveryMs);
  }
}

function statements(db: Db) {
  return {
    batchSeq: db.prepare("SELECT seq FROM batches WHERE batch_id = ?").pluck(),
    batchById: db.prepare("SELECT * FROM batches WHERE batch_id = ?"),
    resultsOf: db.prepare("SELECT result FROM results WHERE batch_seq = ? ORDER BY idx").pluck(),
    deleteResults: db.prepare("DELETE FROM results WHERE batch_seq = ?"),
    deleteBatch: db.prepare("DELETE FROM batches WHERE seq = ?"),
    insertBatch: db.prepare("INSERT INTO batches (batch_id, origin, submitter, signer, created_ms, finished_ms, dry_run, schedule, checks, counts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
    insertResult: db.prepare("INSERT INTO results (batch_seq, idx, check_name, status, finished_ms, result) VALUES (?, ?, ?, ?, ?, ?)"),
    insertTransition: db.prepare("INSERT INTO transitions (node, schedule, check_name, from_status, to_status, at_ms, message) VALUES (?, ?, ?, ?, ?, ?, ?)"),
    insertAudit: db.prepare("INSERT INTO audit (at_ms, kind, summary, subject) VALUES (?, ?, ?, ?)"),
    auditSince: db.prepare("SELECT at_ms, kind, summary, subject FROM audit WHERE at_ms >= ? ORDER BY at_ms DESC, seq DESC LIMIT ?"),
  };
}
