import type { Clock } from "../../base/clock.js";
import type { Admission } from "../../gossip/disseminator.js";
import { idToHex, type Envelope } from "../../gossip/envelope.js";
import { pb } from "../../proto/index.js";

/*
 * Refused envelopes (a bad signature, unsigned where signatures are
 * required) into the audit log, summarized: a flood of forged copies must
 * not become a flood of rows. The first refusal of a kind of envelope is
 * written at once; the ones after it within the interval are counted and
 * written as one line with the next refusal after the interval.
 */

const SUMMARY_EVERY_MS = 60_000;

export class RefusalAudit {
  private readonly last = new Map<string, { atMs: number; held: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly write: (kind: string, summary: string, subject: string) => void,
  ) {}

  /** Passes the admission through, auditing a refusal. */
  note(env: Envelope, a: Admission): Admission {
    if (a.ok) return a;
    const kind = pb.EnvelopeKind[env.kind] ?? "unknown-kind";
    const now = this.clock.now();
    const e = this.last.get(kind);
    if (e && now - e.atMs < SUMMARY_EVERY_MS) {
      e.held++;
      return a;
    }
    const more = e?.held ? ` (and ${e.held} more ${kind} envelopes refused in the minute before)` : "";
    this.write("envelope-refused", `refused a ${kind} envelope from ${env.origin}: ${a.reason}${more}`, idToHex(env.id));
    this.last.set(kind, { atMs: now, held: 0 });
    return a;
  }
}
