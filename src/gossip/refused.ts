import { createHash } from "node:crypto";
import { expiresAtMs, idToHex, type Envelope } from "./envelope.js";

/**
 * Copies of envelopes this node refused at admission (a forged or unsigned
 * batch where signatures are required), remembered by ID and a digest of
 * their content until they expire.
 *
 * A refused copy must not consume its ID in the seen-history: a forged
 * envelope that reuses a genuine batch's ID and arrives first would
 * otherwise make every node drop the genuine one as already seen. So the
 * seen-history holds only admitted envelopes, and this set is what stops
 * the same refused copy from being opened, refused and answered again each
 * time gossip offers it; a different copy under the same ID (the genuine
 * one) has another digest and is judged on its own.
 *
 * Bounded: at most maxEntries; the oldest are forgotten first (a forgotten
 * copy that comes again is merely refused again).
 */
export class RefusedCopies {
  private readonly entries = new Map<string, number>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Remembers env's copy; false when it was already remembered (and still live at nowMs). */
  add(env: Envelope, nowMs: number): boolean {
    const key = copyKey(env);
    const until = this.entries.get(key);
    if (until !== undefined && until >= nowMs) return false;
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, expiresAtMs(env));
    return true;
  }
}

/** The ID, and a SHA-256 over every field a sender controls: two copies under one ID differ here. */
function copyKey(env: Envelope): string {
  const h = createHash("sha256");
  for (const part of [env.origin, env.originAddress, String(env.createdMs), String(env.ttlMs), String(env.kind)]) h.update(part).update("\0");
  h.update(env.payload).update(env.signature).update(env.signerKey);
  return `${idToHex(env.id)}:${h.digest("base64")}`;
}
