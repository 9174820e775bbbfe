import { existsSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../base/atomic_file.js";
import type { Clock } from "../../base/clock.js";
import { RateLimitedLog, type Logger } from "../../base/logger.js";
import { errorMessage } from "../../base/result.js";
import { keyFingerprint } from "../../control/fingerprint.js";
import { decodeSchedule, type ScheduleMessage } from "../../control/schedule_codec.js";
import { missingIntervalProblem } from "../../control/schedule_rules.js";
import { idToHex, type Envelope } from "../../gossip/envelope.js";
import { isSigned } from "../../gossip/signing.js";

/*
 * The cluster-wide schedules this node knows: for each name, the SCHEDULE
 * envelope of its newest version (a removal is a version too: a tombstone,
 * kept tombstoneMs so that an older version still travelling cannot bring
 * the schedule back). Of two versions the greater `version` wins, equal
 * versions the greater envelope ID: every node picks the same one whatever
 * order they arrive in, by burst, anti-entropy or push-pull, so the cluster
 * converges. The envelopes are kept whole (signature included) because they
 * are handed over in every push-pull and each receiver admits them itself.
 *
 * Persisted in the data dir (schedules.json, written atomically on every
 * change), so a restarted node runs its schedules before it hears from
 * anyone. Bounded: maxSchedules names and maxBytes of envelopes in all.
 */

export interface ScheduleBookConfig {
  /** Names kept, tombstones included; a new name past it is refused (logged). */
  maxSchedules: number;
  /** Encoded envelope bytes kept in all: the push-pull state carries them every time. */
  maxBytes: number;
  /** How long a removal is remembered (ms); an older version arriving later is ignored meanwhile. */
  tombstoneMs: number;
}

export const DEFAULT_SCHEDULE_BOOK: ScheduleBookConfig = { maxSchedules: 256, maxBytes: 4 * 1024 * 1024, tombstoneMs: 7 * 24 * 3600_000 };

export interface StoredSchedule {
  env: Envelope;
  schedule: ScheduleMessage;
  bytes: number;
}

export type ApplyOutcome = { kind: "newer"; previous?: StoredSchedule; now: StoredSchedule } | { kind: "same-or-older" } | { kind: "refused"; reason: string };

const FILE = "schedules.json";
const FORMAT = 1;

export class ScheduleBook {
  private readonly byName = new Map<string, StoredSchedule>();
  private readonly config: ScheduleBookConfig;
  private readonly rateLog: RateLimitedLog;
  private readonly path: string | null;
  /** Why the last refused version was refused (the API's answer). */
  lastRefusal: string | undefined;

  /**
   * `admit`: why this node refuses an envelope now (-trusted-keys), or null;
   * applied to every version, those read back from the data dir included
   * (the trusted keys may have changed since it was written).
   */
  constructor(private readonly o: { dataDir: string | null; clock: Clock; log: Logger; config?: Partial<ScheduleBookConfig>; admit?: (env: Envelope) => string | null }) {
    this.config = { ...DEFAULT_SCHEDULE_BOOK, ...o.config };
    this.rateLog = new RateLimitedLog(o.log, () => o.clock.now());
    this.path = o.dataDir ? join(o.dataDir, FILE) : null;
  }

  /** Reads schedules.json; an unreadable or corrupt file is moved aside (logged) and the node starts with none. */
  load(): void {
    if (!this.path || !existsSync(this.path)) return;
    let envs: Envelope[];
    try {
      const doc = JSON.parse(readFileSync(this.path, "utf8")) as { format?: number; envelopes?: Record<string, string | number>[] };
      if (doc.format !== FORMAT || !Array.isArray(doc.envelopes)) throw new Error(`not a format ${FORMAT} schedules file`);
      envs = doc.envelopes.map(envelopeFromJson);
    } catch (err) {
      const aside = `${this.path}.corrupt-${this.o.clock.now()}`;
      try {
        renameSync(this.path, aside);
      } catch {
        // Nothing more to do: the next save replaces it.
      }
      this.o.log.error(
        { file: this.path, aside, err: errorMessage(err) },
        `cannot read ${this.path} (${errorMessage(err)}): moved it to ${aside}; this node starts with no cluster schedules and gets them back from its peers in push-pull`,
      );
      return;
    }
    for (const env of envs) {
      const r = this.apply(env, false);
      if (r.kind === "refused") this.o.log.warn({ file: this.path, envelope: idToHex(env.id), reason: r.reason }, `ignored a schedule in ${this.path}: ${r.reason}`);
    }
  }

  /** Keeps `env` when it is a newer version of its schedule; `save` writes the file on a change. */
  apply(env: Envelope, save = true): ApplyOutcome {
    const refused = (reason: string): ApplyOutcome => {
      this.lastRefusal = reason;
      return { kind: "refused", reason };
    };
    const refusal = this.o.admit?.(env);
    if (refusal) return refused(refusal);
    const decoded = decodeSchedule(env.payload);
    if (!decoded.ok) return refused(decoded.error);
    const unscheduled = decoded.schedule.removed ? null : missingIntervalProblem(decoded.schedule.batch.checks, `schedule ${decoded.schedule.name}`);
    if (unscheduled) return refused(unscheduled);
    const schedule = decoded.schedule;
    const previous = this.byName.get(schedule.name);
    if (previous && !isNewer(schedule, env, previous)) return { kind: "same-or-older" };
    const bytes = env.payload.length + env.signature.length + env.signerKey.length + 128;
    if (!previous && this.byName.size >= this.config.maxSchedules) return refused(`this node keeps at most ${this.config.maxSchedules} schedules (remove some with gcheck schedule remove)`);
    if (this.totalBytes() - (previous?.bytes ?? 0) + bytes > this.config.maxBytes)
      return refused(`the schedules would take more than ${this.config.maxBytes} bytes in all: make the check files smaller or remove schedules`);
    const now: StoredSchedule = { env, schedule, bytes };
    this.byName.set(schedule.name, now);
    if (save) this.save();
    return previous ? { kind: "newer", previous, now } : { kind: "newer", now };
  }

  /** Whether this very envelope is the version kept (push-pull repeats every schedule every time). */
  has(env: Envelope): boolean {
    return this.byId(idToHex(env.id)) !== undefined;
  }

  /** The kept version whose envelope has this ID (hex), if it is the one in force. */
  byId(idHex: string): StoredSchedule | undefined {
    for (const s of this.byName.values()) if (idToHex(s.env.id) === idHex) return s;
    return undefined;
  }

  get(name: string): StoredSchedule | undefined {
    const s = this.byName.get(name);
    return s && !s.schedule.removed ? s : undefined;
  }

  /** The schedules in force (tombstones left out), by name. */
  active(): StoredSchedule[] {
    return [...this.byName.values()].filter((s) => !s.schedule.removed).sort((a, b) => a.schedule.name.localeCompare(b.schedule.name));
  }

  /** Every kept envelope, tombstones included (the push-pull state); expired tombstones are dropped first. */
  envelopes(): Envelope[] {
    this.dropOldTombstones();
    return [...this.byName.values()].map((s) => s.env);
  }

  /** The version a new set or removal of `name` must exceed. */
  versionOf(name: string): number {
    return this.byName.get(name)?.schedule.version ?? 0;
  }

  static signer(env: Envelope): string {
    return isSigned(env) ? keyFingerprint(env.signerKey) : "";
  }

  private totalBytes(): number {
    let n = 0;
    for (const s of this.byName.values()) n += s.bytes;
    return n;
  }

  private dropOldTombstones(): void {
    const cutoff = this.o.clock.now() - this.config.tombstoneMs;
    let dropped = false;
    for (const [name, s] of this.byName) {
      if (s.schedule.removed && s.schedule.version < cutoff) {
        this.byName.delete(name);
        dropped = true;
      }
    }
    if (dropped) this.save();
  }

  private save(): void {
    if (!this.path) return;
    const envelopes = [...this.byName.values()].map((s) => envelopeToJson(s.env));
    try {
      writeFileAtomic(this.path, JSON.stringify({ format: FORMAT, envelopes }) + "\n");
    } catch (err) {
      // The schedules still run from memory, and peers hand them back after a restart.
      this.rateLog.warn(
        "schedules-save",
        { file: this.path, err: errorMessage(err) },
        `cannot write ${this.path}: ${errorMessage(err)} (schedules keep running; a restart before it is fixed gets them back from peers)`,
      );
    }
  }
}

function isNewer(s: ScheduleMessage, env: Envelope, than: StoredSchedule): boolean {
  if (s.version !== than.schedule.version) return s.version > than.schedule.version;
  return Buffer.compare(Buffer.from(env.id), Buffer.from(than.env.id)) > 0;
}

function envelopeToJson(e: Envelope): Record<string, string | number> {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
  return {
    id: b64(e.id),
    origin: e.origin,
    originAddress: e.originAddress,
    createdMs: e.createdMs,
    ttlMs: e.ttlMs,
    kind: e.kind,
    payload: b64(e.payload),
    signature: b64(e.signature),
    signerKey: b64(e.signerKey),
  };
}

function envelopeFromJson(j: Record<string, string | number>): Envelope {
  const bytes = (k: string) => new Uint8Array(Buffer.from(String(j[k] ?? ""), "base64"));
  return {
    id: bytes("id"),
    origin: String(j.origin ?? ""),
    originAddress: String(j.originAddress ?? ""),
    createdMs: Number(j.createdMs),
    ttlMs: Number(j.ttlMs),
    kind: Number(j.kind),
    payload: bytes("payload"),
    signature: bytes("signature"),
    signerKey: bytes("signerKey"),
  };
}
