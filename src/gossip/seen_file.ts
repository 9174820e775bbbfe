import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import type { Clock, Timer } from "../net/clock.js";
import type { Logger } from "../net/logger.js";
import type { GossipConfig } from "./config.js";
import type { SeenHistory, SeenRecord } from "./history.js";

/**
 * The seen-history state file under the data dir: the IDs (and retention
 * deadlines) of envelopes this node has handled, so that a restarted daemon
 * never runs an envelope it ran before it stopped. Small: about 50 bytes per
 * live envelope.
 *
 *   {"format":"gossipcheck-seen","version":1,"seen":[["<32 hex>",<retainUntilMs>],...]}
 */
export const SEEN_FILE_NAME = "gossip-seen.json";
const FORMAT = "gossipcheck-seen";
const VERSION = 1;

export type SeenFileLoad =
  | { ok: true; records: SeenRecord[]; existed: boolean }
  | { ok: false; error: string };

export interface SeenState {
  writer: SeenFileWriter;
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
 * Creates the data dir if needed, loads the state file into history (IDs
 * still to be retained), and writes it back at once, so a data dir that
 * cannot be written is found at start. Rejects with a message naming the dir
 * or file. A corrupt file is moved aside to <file>.corrupt with a warning,
 * and safety is kept through unsafeBeforeMs instead.
 */
export async function openSeenState(dataDir: string, history: SeenHistory, clock: Clock, config: GossipConfig, logger: Logger): Promise<SeenState> {
  const path = join(dataDir, SEEN_FILE_NAME);
  try {
    await mkdir(dataDir, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create the data dir ${dataDir} (${(err as Error).message}): pass a writable -data-dir`);
  }
  const now = clock.now();
  const loaded = await loadSeenFile(path);
  let unsafeBeforeMs = -Infinity;
  let unsafeReason = "";
  if (loaded.ok) {
    for (const r of loaded.records) if (r.retainUntilMs >= now) history.remember(r);
  } else {
    unsafeBeforeMs = now + config.maxClockSkewMs;
    unsafeReason = `not run: this node lost its seen-history (${path} was unreadable: ${loaded.error}) and cannot rule out having run this envelope before it restarted`;
    await rename(path, `${path}.corrupt`).catch(() => undefined);
    logger.warn(
      { file: path, error: loaded.error, movedTo: `${path}.corrupt` },
      "seen-history state file is unreadable: starting with an empty history; envelopes created before now are relayed but not run here, so nothing that may have run before the restart runs again",
    );
  }
  const writer = new SeenFileWriter(path, clock, config.persistDebounceMs, () => history.records(), logger);
  writer.markDirty();
  try {
    await writer.flush();
  } catch (err) {
    throw new Error(`cannot write the seen-history state file ${path} (${(err as Error).message}): pass a writable -data-dir`);
  }
  return { writer, unsafeBeforeMs, unsafeReason };
}

/** Reads the state file; a missing file is an empty history, anything unreadable an error. */
export async function loadSeenFile(path: string): Promise<SeenFileLoad> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, records: [], existed: false };
    return { ok: false, error: (err as Error).message };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON (${(err as Error).message})` };
  }
  const d = doc as { format?: unknown; version?: unknown; seen?: unknown };
  if (typeof d !== "object" || d === null || d.format !== FORMAT) return { ok: false, error: `not a ${FORMAT} file` };
  if (d.version !== VERSION) return { ok: false, error: `version ${String(d.version)}, expected ${VERSION}` };
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

/**
 * Writes the state file atomically (a temporary file, fsync, rename over the
 * old one), at most one write at a time. markDirty() schedules a write after
 * the debounce; flush() writes now and resolves once the file holds every
 * change made before the call.
 */
export class SeenFileWriter {
  /** Bumped by every markDirty(). */
  private changes = 0;
  /** The value of `changes` that the last completed write covered. */
  private saved = 0;
  private writing: Promise<void> | null = null;
  private timer: Timer | null = null;

  constructor(
    readonly path: string,
    private readonly clock: Clock,
    private readonly debounceMs: number,
    private readonly snapshot: () => SeenRecord[],
    private readonly logger: Logger,
  ) {}

  markDirty(): void {
    this.changes++;
    if (this.timer) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.flush().catch((err: Error) =>
        this.logger.error({ file: this.path, err: err.message }, "cannot write the seen-history state file: check the data dir's permissions and free space"),
      );
    }, this.debounceMs);
  }

  async flush(): Promise<void> {
    while (this.saved < this.changes) {
      if (this.writing) {
        // Someone else's write is under way: wait for it, then see what is left.
        await this.writing.catch(() => undefined);
        continue;
      }
      const upTo = this.changes;
      this.writing = writeAtomically(this.path, serialize(this.snapshot()));
      try {
        await this.writing;
        this.saved = Math.max(this.saved, upTo);
      } finally {
        this.writing = null;
      }
    }
  }

  /** Cancels the debounce timer and writes what is pending. */
  async close(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.flush();
  }
}

function serialize(records: SeenRecord[]): string {
  const seen = records.map((r) => [r.id, r.retainUntilMs]);
  return JSON.stringify({ format: FORMAT, version: VERSION, seen }) + "\n";
}

async function writeAtomically(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
