/*
 * TCP framing: each frame is a 4-byte big-endian length, then that many bytes
 * of payload. A TCP stream delivers chunks that cut frames anywhere and glue
 * several together; FrameDecoder reassembles them.
 */

export const LENGTH_PREFIX_BYTES = 4;

/** The 4-byte big-endian length prefix of a payload of n bytes. */
export function lengthPrefix(n: number): Buffer {
  const b = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES);
  b.writeUInt32BE(n, 0);
  return b;
}

export interface DecodeResult {
  /** Complete frame payloads, in stream order. */
  frames: Buffer[];
  /**
   * Set when a length prefix declared more than maxFrameBytes: that declared
   * length in bytes. The decoder then stops (the stream cannot be resynced).
   */
  oversize?: number;
}

/** A frame handed on as a view may keep at most this many bytes of other data alive (its length prefix). */
const SHARED_WASTE_BYTES = 64;

/**
 * Streaming decoder for one connection. Chunks are queued, not concatenated
 * on arrival, so a 10 MB frame arriving in 64 KiB chunks is copied once (when
 * complete), not once per chunk. Memory held is bounded by maxFrameBytes plus
 * one chunk: the length is checked as soon as its 4 bytes are in.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0; // bytes in chunks
  private need = -1; // payload length of the frame being read, -1 = reading the prefix
  private failed = false;

  constructor(private maxFrameBytes: number) {}

  /** Bytes received but not yet returned as frames. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Whether part of a frame (its prefix or payload) has arrived and the rest has not. */
  get midFrame(): boolean {
    return this.buffered > 0 || this.need >= 0;
  }

  /**
   * Changes the largest frame accepted from the next length prefix on (an
   * inbound connection starts with a small limit and gets the full one once
   * a frame from it opened: src/net/inbound.ts).
   */
  setMaxFrameBytes(n: number): void {
    this.maxFrameBytes = n;
  }

  /**
   * Adds a chunk (may be empty) and returns the frames it completes, at most
   * maxFrames of them: the rest stays queued for the next push, so a caller
   * can change the limit between frames (the length prefix of the frame after
   * them has not been read yet).
   */
  push(chunk: Buffer, maxFrames = Infinity): DecodeResult {
    const frames: Buffer[] = [];
    if (this.failed) return { frames };
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    while (frames.length < maxFrames) {
      if (this.need < 0) {
        if (this.buffered < LENGTH_PREFIX_BYTES) break;
        const declared = this.take(LENGTH_PREFIX_BYTES, true).readUInt32BE(0);
        if (declared > this.maxFrameBytes) {
          this.failed = true;
          this.chunks = [];
          this.buffered = 0;
          return { frames, oversize: declared };
        }
        this.need = declared;
      }
      if (this.buffered < this.need) break;
      frames.push(this.take(this.need));
      this.need = -1;
    }
    return { frames };
  }

  /** Removes and returns the first n buffered bytes (n <= buffered); transient: read at once and dropped (a length prefix), so a view will do. */
  private take(n: number, transient = false): Buffer {
    const first = this.chunks[0];
    if (first && first.length === n && first.buffer.byteLength <= n + SHARED_WASTE_BYTES) {
      // The chunk is this frame (and its length prefix): hand it on, no copy.
      this.chunks.shift();
      this.buffered -= n;
      return first;
    }
    if (first && first.length > n && transient) {
      const out = first.subarray(0, n);
      this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    // A frame that shares its chunk with others is copied out. A view would
    // keep the whole chunk (up to 64 KiB) alive for as long as anything
    // decoded from the frame is kept: an envelope's ID and payload are views
    // of its frame, and the seen-history keeps envelopes for their TTL. Views
    // made a retained 300-byte batch hold 3.2 KB (issue 18: docs/BENCHMARKS.md,
    // "Memory: where it goes"). allocUnsafeSlow, not allocUnsafe: a small
    // pooled buffer would keep an 8 KiB slab of Node's pool alive instead.
    const out = Buffer.allocUnsafeSlow(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}
