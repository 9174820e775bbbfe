import { createCipheriv, createDecipheriv, randomFillSync, type KeyObject } from "node:crypto";

/*
 * Authenticated encryption of one UDP packet or TCP frame payload with
 * AES-256-GCM (node:crypto). Layout on the wire:
 *
 *   [1 byte scheme version][12 bytes nonce][ciphertext][16 bytes tag]
 *
 * The scheme version byte and the cluster label are the additional
 * authenticated data, so a packet sealed for another cluster label fails to
 * open even under the same key. The nonce is random per packet: 96 random
 * bits keep the chance of a repeat negligible for far more messages than a
 * key will ever protect between rotations.
 */

export const SEAL_SCHEME_VERSION = 1;
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Bytes a sealed message is longer than its plaintext. */
export const SEAL_OVERHEAD_BYTES = 1 + NONCE_BYTES + TAG_BYTES;

const HEADER = Buffer.from([SEAL_SCHEME_VERSION]);

/** The additional authenticated data for a cluster label ("" = no label). */
export function sealAad(label: string): Buffer {
  return Buffer.concat([HEADER, Buffer.from(label, "utf8")]);
}

export function seal(key: KeyObject, plaintext: Uint8Array, aad: Buffer): Buffer {
  const nonce = nextNonce();
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const tail = cipher.final(); // empty for GCM, kept for correctness
  return Buffer.concat([HEADER, nonce, body, tail, cipher.getAuthTag()]);
}

/** Whether data claims to be sealed (first byte is our scheme version). */
export function looksSealed(data: Uint8Array): boolean {
  return data.length > 0 && data[0] === SEAL_SCHEME_VERSION;
}

/**
 * Opens a sealed message with the first key that authenticates it, trying
 * keys in order (the keyring puts the primary first). Returns null when none
 * does: wrong key, wrong label, tampered or truncated bytes.
 */
export function open(keys: readonly KeyObject[], sealed: Uint8Array, aad: Buffer): Buffer | null {
  return openWithKeyIndex(keys, sealed, aad)?.plain ?? null;
}

/** open(), also saying which of the keys (its index) opened the message. */
export function openWithKeyIndex(keys: readonly KeyObject[], sealed: Uint8Array, aad: Buffer): { plain: Buffer; keyIndex: number } | null {
  if (sealed.length < SEAL_OVERHEAD_BYTES || !looksSealed(sealed)) return null;
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const nonce = buf.subarray(1, 1 + NONCE_BYTES);
  const body = buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  for (let keyIndex = 0; keyIndex < keys.length; keyIndex++) {
    const decipher = createDecipheriv("aes-256-gcm", keys[keyIndex]!, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const plain = decipher.update(body);
    try {
      decipher.final(); // throws when the tag does not authenticate
      return { plain, keyIndex };
    } catch {
      // try the next key
    }
  }
  return null;
}

// Nonces come from a pool filled by the CSPRNG in blocks: one randomFillSync
// per 341 packets instead of one per packet. Each nonce is copied out, so a
// refill never changes a nonce already handed out.
const POOL = Buffer.allocUnsafe(NONCE_BYTES * 341);
let poolOffset = POOL.length;

function nextNonce(): Buffer {
  if (poolOffset + NONCE_BYTES > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const n = Buffer.from(POOL.subarray(poolOffset, poolOffset + NONCE_BYTES));
  poolOffset += NONCE_BYTES;
  return n;
}
