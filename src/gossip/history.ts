import { expiresAtMs, idToHex, keptEnvelope, type Envelope } from "./envelope.js";

/** One remembered ID: what the state file stores. */
export interface SeenRecord {
  /** Envelope ID, 32 hex digits. */
  id: string;
  /** Clock ms until which the ID must be remembered. */
  retainUntilMs: number;
}

interface Entry {
  retainUntilMs: number;
  /** The envelope itself while it may still be live (for anti-entropy). */
  envelope: Envelope | undefined;
}

/**
 * The seen-history: every envelope ID this node has handled, remembered until
 * its envelope has expired (plus a margin for clock steps), and the live
 * envelopes themselves for anti-entropy. Like gossipsub's SimpleTimeCache:
 * an insertion-ordered Map whose prune walks from the oldest entry and stops
 * at the first one still to be retained.
 *
 * Invariant: retainUntilMs never decreases along the Map's insertion order,
 * so when prune meets an entry to keep, every later entry is kept too. TTLs
 * differ per envelope and late arrivals (anti-entropy) are older than earlier
 * ones, so add() raises a new entry's retainUntilMs to the newest entry's when
 * it is lower. An ID can be remembered longer than needed (never shorter),
 * which is the safe side; envelope bodies are released at their own expiry
 * by live(), so only the small ID entries outstay.
 */
export class SeenHistory {
  private entries = new Map<string, Entry>();
  private newestRetainMs = -Infinity;
  /**
   * live()'s last answer, valid until a body is added or released or the
   * clock passes liveUntilMs (the earliest expiry in it): anti-entropy asks
   * for the live set on every advertisement sent and received, and walking
   * every remembered ID each time cost as much as the rest of a round.
   */
  private liveCache: readonly Envelope[] | null = null;
  private liveUntilMs = -Infinity;

  constructor(
    /** ms an ID is remembered after its envelope expires. */
    private readonly marginMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(idHex: string): boolean {
    return this.entries.has(idHex);
  }

  /**
   * Remembers env (and keeps its body while live). Returns false, changing
   * nothing, when its ID was already seen.
   */
  add(env: Envelope): boolean {
    return this.insert(idToHex(env.id), expiresAtMs(env) + this.marginMs, env);
  }

  /** Remembers an ID without a body (loaded from the state file). */
  remember(record: SeenRecord): boolean {
    return this.insert(record.id, record.retainUntilMs, undefined);
  }

  /** The envelope with this ID if this node holds it and it is live at nowMs. */
  liveEnvelope(idHex: string, nowMs: number): Envelope | undefined {
    const e = this.entries.get(idHex);
    if (!e?.envelope) return undefined;
    if (nowMs > expiresAtMs(e.envelope)) {
      e.envelope = undefined;
      this.liveCache = null;
      return undefined;
    }
    return e.envelope;
  }

  /**
   * Envelopes still inside their TTL at nowMs, newest first. Releases the
   * bodies of those that expired. The same array is returned while the set
   * is unchanged (callers must not modify it).
   */
  live(nowMs: number): readonly Envelope[] {
    if (this.liveCache && nowMs <= this.liveUntilMs) return this.liveCache;
    const out: Envelope[] = [];
    let until = Infinity;
    for (const [id, e] of this.entries) {
      if (e.envelope && this.liveEnvelope(id, nowMs)) {
        out.push(e.envelope);
        until = Math.min(until, expiresAtMs(e.envelope));
      }
    }
    this.liveCache = out.reverse();
    this.liveUntilMs = until;
    return this.liveCache;
  }

  /** Forgets IDs whose retention ended before nowMs. Returns how many. */
  prune(nowMs: number): number {
    let n = 0;
    for (const [id, e] of this.entries) {
      if (e.retainUntilMs >= nowMs) break; // the invariant: all later ones are kept too
      this.entries.delete(id);
      if (e.envelope) this.liveCache = null;
      n++;
    }
    return n;
  }

  /** Every remembered ID, oldest first (the order the state file keeps). */
  records(): SeenRecord[] {
    const out: SeenRecord[] = [];
    for (const [id, e] of this.entries) out.push({ id, retainUntilMs: e.retainUntilMs });
    return out;
  }

  private insert(idHex: string, retainUntilMs: number, envelope: Envelope | undefined): boolean {
    if (this.entries.has(idHex)) return false;
    const retain = Math.max(retainUntilMs, this.newestRetainMs);
    this.newestRetainMs = retain;
    this.entries.set(idHex, { retainUntilMs: retain, envelope: envelope && keptEnvelope(envelope) });
    if (envelope) this.liveCache = null;
    return true;
  }
}
