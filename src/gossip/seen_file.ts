import { closeSync, fdatasync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Clock, Timer } from "../net/clock.js";
import type { Logger } from "../net/logger.js";
import type { GossipConfig } from "./config.js";
import type { SeenHistory, SeenRecord } from "./history.js";

/**
 * The seen-history state under the data dir: the IDs (and retention
 * deadlines) of envelopes this node has handled, so that a restarted daemon
 * never runs an envelope it ran before it stopped.
 *
 * An append-only log, kept open: a header line, then one line per newly
 * seen envelope (about 47 bytes), oldest first:
 *
 *   gossipcheck-seen-log 1
 *   <32 hex digits> <retainUntilMs>
 *
 * A newly seen ID is appended with one synchronous write(2) before its
 * envelope is consumed (a few µs, against ~1.6 ms per batch for the old
 * rewrite-and-fsync of a whole JSON file). Once write(2) returns the line is
 * in the page cache, so a process crash, kill -9 included, cannot lose it.
 * Power loss can: fdatasync runs in the background persistDebounceMs after
 * an append, and that is the window. When the log holds more than twice the
 * live IDs plus COMPACT_SLACK_LINES, it is rewritten with the live IDs only
 * (temporary file, fsync, rename), so it stays small.
 *
 * Loading tolerates a torn last line (a crash in the middle of a write, or
 * power loss): it is ignored. Anything else unreadable is a corrupt file.
 * The JSON file of earlier versions (gossip-seen.json) is read once at start,
 * merged, and removed after the first compaction has the IDs.
 */
export const SEEN_FILE_NAME = "gossip-seen.log";
/** The state file of earlier versions, migrated at start. */
export const LEGACY_SEEN_FILE_NAME = "gossip-seen.json";
const HEADER = "gossipcheck-seen-log 1\n";
const LEGACY_FORMAT = "gossipcheck-seen";
/** Lines the log may hold beyond twice the live IDs before it is compacted. */
const COMPACT_SLACK_LINES = 256;
const LINE = /^[0-9a-f]{32} -?\d+(\.\d+)?$/;

export type SeenFileLoad =
  | { ok: true; records: SeenRecord[]; existed: boolean }
  | { ok: false; error: string };

export interface SeenState {
  writer: SeenLog;
  /**
   * Envelopes created before this clock ms must not be consumed: -Infinity
   * when the history was loaded intact; now + the tolerated clock skew when
   * the file was lost, since anything that ran here before the restart was
   * created before that.
   */
  unsafeBeforeMs: number;
  /** The reason a refused envelope's origin is told. */
  unsafeReason: string;
}

/**
 * Creates the data dir if needed, loads the log (and a legacy JSON file) into
 * history (IDs still to be retained), and compacts it at once, so a data dir
 * that cannot be written is found at start. Rejects with a message naming the
 * dir or file. A corrupt file is moved aside to <file>.corrupt with a
 * warning, and safety is kept through unsafeBeforeMs instead.
 */
export async function openSeenState(dataDir: string, history: SeenHistory, clock: Clock, config: GossipConfig, logger: Logger): Promise<SeenState> {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create the data dir ${dataDir} (${(err as Error).message}): pass a writable -data-dir`);
  }
  const now = clock.now();
  let unsafeBeforeMs = -Infinity;
  let unsafeReason = "";
  const path = join(dataDir, SEEN_FILE_NAME);
  const legacyPath = join(dataDir, LEGACY_SEEN_FILE_NAME);
  // The legacy file first: its IDs are older than any the log holds.
  for (const [file, load] of [[legacyPath, loadLegacySeenFile], [path, loadSeenFile]] as const) {
    const loaded = load(file);
    if (loaded.ok) {
      for (const r of loaded.records) if (r.retainUntilMs >= now) history.remember(r);
      continue;
    }
    unsafeBeforeMs = now + config.maxClockSkewMs;
    unsafeReason = `not run: this node lost its seen-history (${file} was unreadable: ${loaded.error}) and cannot rule out having run this envelope before it restarted`;
    try {
      renameSync(file, `${file}.corrupt`);
    } catch {
      // Left where it is: the compaction below replaces the log; a legacy file is removed.
    }
    logger.warn(
      { file, error: loaded.error, movedTo: `${file}.corrupt` },
      "seen-history state file is unreadable: starting with an empty history; envelopes created before now are relayed but not run here, so nothing that may have run before the restart runs again",
    );
  }
  let writer: SeenLog;
  try {
    writer = SeenLog.create(path, history.records(), clock, config.persistDebounceMs, logger);
    rmSync(legacyPath, { force: true });
  } catch (err) {
    throw new Error(`cannot write the seen-history state file ${path} (${(err as Error).message}): pass a writable -data-dir`);
  }
  return { writer, unsafeBeforeMs, unsafeReason };
}

/** Reads the log; a missing file is an empty history, anything unreadable but a torn last line an error. */
export function loadSeenFile(path: string): SeenFileLoad {
  const text = readText(path);
  if (typeof text !== "string") return text;
  if (!text.startsWith(HEADER)) {
    // A crash while the header of a fresh log was written leaves a prefix of it.
    if (HEADER.startsWith(text)) return { ok: true, records: [], existed: true };
    return { ok: false, error: `not a gossipcheck seen-history log (the first line is not "${HEADER.trim()}")` };
  }
  const lines = text.slice(HEADER.length).split("\n");
  // The text after the last newline is a line whose write did not complete.
  lines.pop();
  const records: SeenRecord[] = [];
  for (const [i, line] of lines.entries()) {
    if (!LINE.test(line)) return { ok: false, error: `line ${i + 2} is not "<32 hex digits> <ms>"` };
    const space = line.indexOf(" ");
    records.push({ id: line.slice(0, space), retainUntilMs: Number(line.slice(space + 1)) });
  }
  return { ok: true, records, existed: true };
}

/** Reads the JSON state file of earlier versions; a missing file is an empty history. */
export function loadLegacySeenFile(path: string): SeenFileLoad {
  const text = readText(path);
  if (typeof text !== "string") return text;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON (${(err as Error).message})` };
  }
  const d = doc as { format?: unknown; version?: unknown; seen?: unknown };
  if (typeof d !== "object" || d === null || d.format !== LEGACY_FORMAT) return { ok: false, error: `not a ${LEGACY_FORMAT} file` };
  if (d.version !== 1) return { ok: false, error: `version ${String(d.version)}, expected 1` };
  if (!Array.isArray(d.seen)) return { ok: false, error: `"seen" is not a list` };
  const records: SeenRecord[] = [];
  for (const [i, r] of d.seen.entries()) {
    if (!Array.isArray(r) || typeof r[0] !== "string" || !/^[0-9a-f]{32}$/.test(r[0]) || !Number.isFinite(r[1])) {
      return { ok: false, error: `entry ${i} is not ["<32 hex digits>", <ms>]` };
    }
    records.push({ id: r[0], retainUntilMs: r[1] as number });
  }
  return { ok: true, records, existed: true };
}

function readText(path: string): string | { ok: true; records: SeenRecord[]; existed: false } | { ok: false; error: string } {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, records: [], existed: false };
    return { ok: false, error: (err as Error).message };
  }
}

/**
 * The open log. append() is synchronous and throws an Error naming the file
 * when the write fails; the caller must then not consume the envelope.
 * Compaction is synchronous too (it happens once per COMPACT_SLACK_LINES or
 * more appends), so no append can slip between the snapshot and the rename.
 */
export class SeenLog {
  /** Lines in the log now. */
  private lines: number;
  private syncTimer: Timer | null = null;
  private closed = false;

  private constructor(
    readonly path: string,
    private fd: number,
    lines: number,
    private readonly clock: Clock,
    private readonly syncDelayMs: number,
    private readonly logger: Logger,
  ) {
    this.lines = lines;
  }

  /** Writes a log holding `records` (atomically: temporary file, fsync, rename) and opens it for appending. */
  static create(path: string, records: SeenRecord[], clock: Clock, syncDelayMs: number, logger: Logger): SeenLog {
    return new SeenLog(path, rewrite(path, records), records.length, clock, syncDelayMs, logger);
  }

  /**
   * Appends one newly seen ID. `live` says how many IDs the history holds, so
   * the log can be compacted to `snapshot()` when it has grown too long.
   */
  append(record: SeenRecord, live: number, snapshot: () => SeenRecord[]): void {
    if (this.closed) throw new Error(`${this.path} is closed (the node is stopping)`);
    if (this.lines > 2 * live + COMPACT_SLACK_LINES) {
      // The new ID is in the history already, so the snapshot holds it.
      this.compact(snapshot());
      return;
    }
    const line = `${record.id} ${record.retainUntilMs}\n`;
    // One write(2); for a line this short it is never partial on a regular file.
    writeSync(this.fd, line);
    this.lines++;
    this.syncTimer ??= this.clock.setTimeout(() => this.syncInBackground(), this.syncDelayMs);
  }

  /** Makes the log durable and closes it; later appends throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.syncTimer?.cancel();
    this.syncTimer = null;
    try {
      fdatasyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }

  private compact(records: SeenRecord[]): void {
    const fd = rewrite(this.path, records);
    closeSync(this.fd);
    this.fd = fd;
    this.lines = records.length;
  }

  private syncInBackground(): void {
    this.syncTimer = null;
    if (this.closed) return;
    const fd = this.fd;
    fdatasync(fd, (err) => {
      // A compaction may have closed fd meanwhile; the new log was fsynced whole.
      if (err && !this.closed && this.fd === fd) {
        this.logger.error({ file: this.path, err: err.message }, "cannot sync the seen-history log to disk: check the data dir's disk; a power loss could make this node run recent batches again");
      }
    });
  }
}

/** Writes header + records to <path>.tmp, fsyncs, renames it over path; returns an fd open for appending to it. */
function rewrite(path: string, records: SeenRecord[]): number {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    let text = HEADER;
    for (const r of records) text += `${r.id} ${r.retainUntilMs}\n`;
    writeSync(fd, text);
    fsyncSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  // The fd was opened with "w", not "a": every later write goes at the end anyway, as nothing else writes to the file.
  return fd;
}
