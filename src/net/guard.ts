import type { Keyring } from "./keyring.js";
import { looksSealed, openWithKeyIndex, seal, sealAad, SEAL_OVERHEAD_BYTES } from "./seal.js";

/*
 * What wraps every UDP packet and TCP frame payload on the wire:
 *
 * - with a keyring: sealed with the primary key, the label bound as
 *   additional authenticated data (src/net/seal.ts);
 * - without a keyring but with a label: a plaintext label header
 *   [0x02][1 byte length][label], so two clusters on one network still do not
 *   mix by accident (memberlist does the same); this is not security;
 * - neither: the payload as it is.
 *
 * Payloads are protobuf messages that start with field 1 (version), so their
 * first byte is 0x08: a first byte of 0x01 (sealed), 0x02 (labelled) or 0x03
 * (a frame's dedup header, src/net/connection.ts) can never be a bare
 * payload, which lets a receiver say precisely why it refused a packet
 * instead of handing garbage to the decoder above.
 */

const LABEL_HEADER = 0x02;
export const MAX_LABEL_BYTES = 255;

export type UnwrapFailure = "decrypt" | "label" | "undecodable";

export type Unwrapped =
  /** primary: opened with this node's primary key, or there is no key (the bytes are what this node would send). */
  { ok: true; payload: Buffer; primary: boolean } | { ok: false; failure: UnwrapFailure; reason: string };

export class PayloadGuard {
  private readonly aad: Buffer;
  private readonly labelHeader: Buffer;

  constructor(
    private readonly keyring: Keyring | null,
    readonly label: string,
  ) {
    const l = Buffer.from(label, "utf8");
    if (l.length > MAX_LABEL_BYTES) throw new Error(`cluster label "${label.slice(0, 20)}…" is ${l.length} bytes: at most ${MAX_LABEL_BYTES} are allowed`);
    this.aad = sealAad(label);
    this.labelHeader = Buffer.concat([Buffer.from([LABEL_HEADER, l.length]), l]);
  }

  get encrypted(): boolean {
    return this.keyring !== null;
  }

  /** Bytes wrap() adds to a payload. */
  get overheadBytes(): number {
    if (this.keyring) return SEAL_OVERHEAD_BYTES;
    return this.label ? this.labelHeader.length : 0;
  }

  /**
   * `bound`: bytes sent in the clear next to the payload (a frame's dedup
   * header) that the seal must also authenticate; the receiver passes the same
   * bytes to unwrap(). Ignored without a keyring (nothing is authenticated then).
   */
  wrap(payload: Uint8Array, bound?: Uint8Array): Buffer {
    if (this.keyring) return seal(this.keyring.primaryKey(), payload, this.aadWith(bound));
    if (this.label) return Buffer.concat([this.labelHeader, payload]);
    return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  }

  /** Never throws: any bytes from the network come back as a payload or a reason to drop them. */
  unwrap(data: Buffer, bound?: Uint8Array): Unwrapped {
    if (this.keyring) {
      if (!looksSealed(data)) return fail("decrypt", "is not encrypted, but this node requires the cluster key");
      const keys = this.keyring.openingKeys();
      const opened = openWithKeyIndex(keys, data, this.aadWith(bound));
      if (opened) return { ok: true, payload: opened.plain, primary: opened.keyIndex === 0 };
      return fail(
        "decrypt",
        `failed to decrypt with any of the ${keys.length} installed key(s): the sender has another key${this.label ? " or another label" : " or a label"}, or the bytes were altered`,
      );
    }
    if (looksSealed(data)) return fail("undecodable", "is encrypted, but this node has no cluster key (-key-file)");
    const hasHeader = data.length >= 2 && data[0] === LABEL_HEADER;
    if (!this.label) {
      if (hasHeader) return fail("label", `carries cluster label "${readLabel(data)}", but this node has none`);
      return { ok: true, payload: data, primary: true };
    }
    if (!hasHeader) return fail("label", `carries no cluster label, but this node's label is "${this.label}"`);
    const end = 2 + data[1]!;
    if (data.length < end || !data.subarray(0, end).equals(this.labelHeader)) {
      return fail("label", `carries cluster label "${readLabel(data)}", but this node's label is "${this.label}"`);
    }
    return { ok: true, payload: data.subarray(end), primary: true };
  }

  private aadWith(bound: Uint8Array | undefined): Buffer {
    return bound && bound.length > 0 ? Buffer.concat([this.aad, bound]) : this.aad;
  }
}

function fail(failure: UnwrapFailure, reason: string): Unwrapped {
  return { ok: false, failure, reason };
}

// For messages only: the label a labelled packet claims, cut to what is there.
function readLabel(data: Buffer): string {
  return data
    .subarray(2, 2 + data[1]!)
    .toString("utf8")
    .slice(0, 64);
}
