import { createHash } from "node:crypto";

/**
 * How a cluster key is named wherever a person sees it (gcheck keys, logs):
 * the first 8 hex digits of the SHA-256 of its 32 raw bytes. Enough to tell
 * the few keys of one keyring apart; useless for recovering the key, so it
 * may travel and be printed where the key itself must not. Shared by the
 * daemon and gcheck (node:crypto only: costs gcheck nothing).
 */
export function keyFingerprint(raw: Uint8Array): string {
  return createHash("sha256").update(raw).digest("hex").slice(0, 8);
}

/** The fingerprint of a base64 key (as Keyring.list() gives them). */
export function base64KeyFingerprint(key: string): string {
  return keyFingerprint(Buffer.from(key, "base64"));
}
