import { closeSync, fdatasync, fdatasyncSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Clock, Timer } from "../base/clock.js";
import type { Logger } from "../base/logger.js";
import { prepareDataDir } from "../base/data_dir.js";
import { errorMessage } from "../base/result.js";
import type { GossipConfig } from "./config.js";
import type { SeenHistory, SeenRecord } from "./history.js";

/**
 * The seen-history state under the data dir: the IDs (and retention
 * deadlines) of envelopes this node has handled, so that a restarted daemon
 * never runs an envelope it ran before it stopped.
 *
 * An append-only log, kept open: two header lines, then one line per newly
 * seen envelope (about 47 bytes), oldest first:
 *
 *   gossipcheck-seen-log 2
 *   began <ms>
 *   <32 hex digits> <retainUntilMs>
 *
 * `began` is when this history started (clock ms; 0 for a log written by a
 * version before 2, which was complete as far as anyone knows). An envelope
 * created before it may have run here in an earlier life whose record was
 * lost, so it never runs (see SeenState.unsafeBeforeMs).
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
const HEADER = "gossipcheck-seen-log 2\n";
/** The header of version 1 logs (no `began` line), still read. */
const HEADER_V1 = "gossipcheck-seen-log 1\n";
const BEGAN = /^began (\d+)$/;
const LEGACY_FORMAT = "gossipcheck-seen";
/** Lines the log may hold beyond twice the live IDs before it is compacted. */
const COMPACT_SLACK_LINES = 256;
const LINE = /^[0-9a-f]{32} -?\d+(\.\d+)?$/;

export type SeenFileLoad =
  /** beganMs: when the history began (0: before anyone recorded it); null when the file does not exist. */
  { ok: true; records: SeenRecord[]; beganMs: number | null } | { ok: false; error: string };

export interface SeenState {
  writer: SeenLog;
  /** When this node's history began (clock ms; 0 for a history kept since before that was recorded). */
  beganMs: number;
  /**
   * Envelopes created before this clock ms must not be consumed: the
   * history's start plus config.historyStartSkewMs (an origin whose clock is
   * that far ahead of ours still cannot slip an old envelope past it), or
   * -Infinity for a history kept since before starts were recorded. Anything
   * that ran here before the history began, in a life whose record is lost,
   * was created before that.
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
  const prepared = await prepareDataDir(dataDir);
  if (!prepared.ok) throw new Error(`cannot create the data dir ${dataDir} (${prepared.error}): pass a writable -data-dir`);
  const now = clock.now();
  const path = join(dataDir, SEEN_FILE_NAME);
  const legacyPath = join(dataDir, LEGACY_SEEN_FILE_NAME);
  // The earliest start of what is read intact; null: nothing was there.
  let beganMs: number | null = null;
  let unreadable: { file: string; error: string } | null = null;
  // The legacy file first: its IDs are older than any the log holds.
  for (const [file, load] of [
    [legacyPath, loadLegacySeenFile],
    [path, loadSeenFile],
  ] as const) {
    const loaded = load(file);
    if (loaded.ok) {
      for (const r of loaded.records) if (r.retainUntilMs >= now) history.remember(r);
      if (loaded.beganMs !== null) beganMs = Math.min(beganMs ?? Infinity, loaded.beganMs);
      continue;
    }
    unreadable = { file, error: loaded.error };
    try {
      renameSync(file, `${file}.corrupt`);
    } catch {
      // Left where it is: the compaction below replaces the log; a legacy file is removed.
    }
    logger.warn(
      { file, error: loaded.error, movedTo: `${file}.corrupt` },
      "seen-history state file is unreadable: starting a new history; envelopes created before now are relayed but not run here, so nothing that may have run before the restart runs again",
    );
  }
  let unsafeReason = HISTORY_NEW_REASON;
  if (unreadable) {
    beganMs = now;
    unsafeReason = `skipped: created before this node's history began (${unreadable.file} was unreadable: ${unreadable.error}), so it may have run here before`;
  } else if (beganMs === null) {
    beganMs = now;
    logger.info({ dataDir }, "no seen-history in the data dir (new, or lost): envelopes created before now are relayed but not run here");
  }
  let writer: SeenLog;
  try {
    writer = SeenLog.create(path, beganMs, history.records(), clock, config.persistDebounceMs, logger);
    rmSync(legacyPath, { force: true });
  } catch (err) {
    throw new Error(`cannot write the seen-history state file ${path} (${errorMessage(err)}): pass a writable -data-dir`);
  }
  const unsafeBeforeMs = beganMs > 0 ? beganMs + config.historyStartSkewMs : -Infinity;
  return { writer, beganMs, unsafeBeforeMs, unsafeReason };
}

/** What a node with a new or lost history answers for an envelope created before it began. */
export const HISTORY_NEW_REASON = "skipped: created before this node's history began (data dir new or lost)";

/** Reads the log; a missing file is an empty history, anything unreadable but a torn last line an error. */
export function loadSeenFile(path: string): SeenFileLoad {
  const text = readText(path);
  if (typeof text !== "string") return text;
  let lines: string[];
  let beganMs = 0;
  let firstLine = 2;
  if (text.startsWith(HEADER_V1)) {
    lines = text.slice(HEADER_V1.length).split("\n");
  } else if (text.startsWith(HEADER)) {
    lines = text.slice(HEADER.length).split("\n");
    const began = BEGAN.exec(lines.shift() ?? "");
    // Logs are written whole (temporary file, fsync, rename) with both header lines.
    if (!began) return { ok: false, error: `line 2 is not "began <ms>"` };
    beganMs = Number(began[1]);
    firstLine = 3;
  } else {
    return { ok: false, error: `not a gossipcheck seen-history log (the first line is not "${HEADER.trim()}")` };
  }
  // The text after the last newline is a line whose write did not complete.
  lines.pop();
  const records: SeenRecord[] = [];
  for (const [i, line] of lines.entries()) {
    if (!LINE.test(line)) return { ok: false, error: `line ${i + firstLine} is not "<32 hex digits> <ms>"` };
    const space = line.indexOf(" ");
    records.push({ id: line.slice(0, space), retainUntilMs: Number(line.slice(space + 1)) });
  }
  return { ok: true, records, beganMs };
}

/** Reads the JSON state file of earlier versions; a missing file is an empty history. */
export function loadLegacySeenFile(path: string): SeenFileLoad {
  const text = readText(path);
  if (typeof text !== "string") return text;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON (${errorMessage(err)})` };
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
  // Written by a version that did not record when its history began.
  return { ok: true, records, beganMs: 0 };
}

function readText(path: string): string | SeenFileLoad {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, records: [], beganMs: null };
    return { ok: false, error: errorMessage(err) };
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
    private readonly beganMs: number,
    private fd: number,
    lines: number,
    private readonly clock: Clock,
    private readonly syncDelayMs: number,
    private readonly logger: Logger,
  ) {
    this.lines = lines;
  }

  /** Writes a log holding `records` (atomically: temporary file, fsync, rename) and opens it for appending. */
  static create(path: string, beganMs: number, records: SeenRecord[], clock: Clock, syncDelayMs: number, logger: Logger): SeenLog {
    return new SeenLog(path, beganMs, rewrite(path, beganMs, records), records.length, clock, syncDelayMs, logger);
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
    const fd = rewrite(this.path, this.beganMs, records);
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
        this.logger.error(
          { file: this.path, err: errorMessage(err) },
          "cannot sync the seen-history log to disk: check the data dir's disk; a power loss could make this node run recent batches again",
        );
      }
    });
  }
}

/** Writes the header lines + records to <path>.tmp, fsyncs, renames it over path; returns an fd open for appending to it. */
function rewrite(path: string, beganMs: number, records: SeenRecord[]): number {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    let text = `${HEADER}began ${Math.max(0, Math.floor(beganMs))}\n`;
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
