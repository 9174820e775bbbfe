import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { pb, PROTOCOL_VERSION } from "../proto/index.js";
import type { NetCounters } from "./counters.js";
import { FrameDecoder, LENGTH_PREFIX_BYTES, lengthPrefix } from "./framing.js";
import type { PayloadGuard, UnwrapFailure } from "./guard.js";
import type { RateLimitedLog } from "../base/logger.js";
import type { Channel, Relay } from "./transport.js";
import { errorMessage } from "../base/result.js";

/*
 * One TCP connection seen as a stream of pb.Frame messages: length-prefixed
 * (framing.ts), each payload wrapped by the PayloadGuard (sealed or labelled).
 * Both pooled outbound connections and accepted inbound ones are a
 * FrameConnection; what they do with frames is up to their owner.
 *
 * Anything wrong on the stream (a frame over the size limit, a payload that
 * does not open or decode, another protocol version) is counted, logged at a
 * limited rate and ends the connection: a TCP stream cannot be resynced after
 * a bad frame. Where the peer can still understand us, it first gets an error
 * frame (request_id 0) saying why.
 */

export interface ConnectionContext {
  guard: PayloadGuard;
  maxFrameBytes: number;
  counters: NetCounters;
  log: RateLimitedLog;
  /** Whether this node already has what a one-way frame's dedup key names (see encodeFrame); such a frame is dropped unopened. */
  known: KnownCheck;
  /**
   * Bytes written to a connection that may wait unsent (the peer does not
   * read them) before the connection is closed: a stalled peer must not grow
   * this node's memory until failure detection notices it.
   */
  maxBufferedBytes: number;
}

/**
 * Bytes buffered for incomplete inbound frames, summed over every connection
 * of a node and bounded (src/net/inbound.ts): what lets a flood of
 * connections that each declare a large frame and then trickle its bytes
 * hold no more than `max` bytes between them.
 */
export interface PendingBudget {
  used: number;
  readonly max: number;
}

/**
 * How an accepted (inbound) connection is held before it has proved itself:
 * until one frame from it has opened (sealed with an installed key, or, with
 * no key, decoded as a frame of this protocol and label), it may declare
 * frames of at most firstFrameBytes, so a peer without the key can make this
 * node buffer only a few KiB. Every buffered byte counts against the budget.
 */
export interface InboundGate {
  firstFrameBytes: number;
  budget: PendingBudget;
}

/** Answers whether the layer serving `channel` already has what `key` names. */
export type KnownCheck = (channel: number, key: Uint8Array) => boolean;

/** First byte of a frame payload that starts with a dedup header. */
const DEDUP_HEADER = 0x03;
/** The longest dedup key (an envelope ID is 16 bytes). */
export const MAX_DEDUP_KEY_BYTES = 64;

export type FrameFields = Omit<pb.Frame.$Properties, "version">;

/** Frames up to this payload size (bytes) are copied behind their length prefix and written at once; larger ones go out uncopied. */
const COPY_FRAME_BYTES = 16 * 1024;

/** How long a refused peer may take to read our error frame and hang up (ms). */
const DRAIN_MS = 2_000;

const EMPTY = Buffer.alloc(0);

/**
 * Encodes and wraps a frame: the payload that follows the length prefix.
 *
 * A one-way frame may carry a dedup key, which goes in the clear ahead of the
 * wrapped frame: [0x03][channel][key length][key][wrapped frame]. The seal
 * authenticates that header with the frame, so it cannot be altered; a
 * receiver that already has what the key names (a burst push of an envelope
 * it holds: the envelope's ID) drops the frame without opening or decoding
 * it. An eavesdropper sees which frames carry the same envelope, nothing of
 * what is in them.
 */
export function encodeFrame(ctx: Pick<ConnectionContext, "guard">, fields: FrameFields, dedupKey?: Uint8Array): Buffer {
  const bytes = pb.Frame.encode(pb.Frame.create({ version: PROTOCOL_VERSION, ...fields })).finish();
  if (!dedupKey) return ctx.guard.wrap(bytes);
  if (!fields.oneWay || dedupKey.length === 0 || dedupKey.length > MAX_DEDUP_KEY_BYTES || (fields.channel ?? 0) > 0xff) {
    throw new Error(`a dedup key (1 to ${MAX_DEDUP_KEY_BYTES} bytes) goes only on a one-way frame of a channel below 256`);
  }
  const header = Buffer.allocUnsafe(3 + dedupKey.length);
  header[0] = DEDUP_HEADER;
  header[1] = fields.channel ?? 0;
  header[2] = dedupKey.length;
  header.set(dedupKey, 3);
  return Buffer.concat([header, ctx.guard.wrap(bytes, header)]);
}

export class FrameConnection {
  closed = false;
  /** Called for every good frame, in stream order (relay: see readFrame). */
  onFrame: (frame: pb.Frame, relay?: Relay) => void = () => {};
  /** Called once, when the socket is gone, with why. */
  onClose: (reason: string) => void = () => {};
  /** Whether a frame from the peer has opened (always true on a connection we dialled). */
  authenticated: boolean;
  /** performance.now() when the connection was made. */
  readonly openedAt = performance.now();
  /** performance.now() when the frame now arriving began, or null between frames. */
  frameStartedAt: number | null = null;
  /** performance.now() when data was last read or a frame last written. */
  lastActiveAt = this.openedAt;
  private readonly decoder: FrameDecoder;
  /** Bytes of this connection counted in the gate's budget. */
  private counted = 0;
  private closeReason: string | null = null;
  private refusing = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly socket: Socket,
    /** The peer as named in logs and errors (its address, or the remote socket address). */
    readonly peer: string,
    private readonly ctx: ConnectionContext,
    /** Set on accepted connections (see InboundGate); absent on dialled ones. */
    private readonly gate?: InboundGate,
  ) {
    this.authenticated = gate === undefined;
    this.decoder = new FrameDecoder(gate ? Math.min(gate.firstFrameBytes, ctx.maxFrameBytes) : ctx.maxFrameBytes);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (err) => {
      this.closeReason ??= err.message;
    });
    socket.on("close", () => {
      this.closed = true;
      if (this.gate) this.gate.budget.used -= this.counted;
      this.counted = 0;
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.onClose(this.closeReason ?? "connection closed by the peer");
    });
  }

  /**
   * Calls onIdle once no frame has been read or written for idleMs (looked
   * at every idleMs / 4, so it fires between idleMs and 1.25 x idleMs);
   * onIdle returns whether it closed the connection, and if not the watch
   * goes on. Cheaper than socket.setTimeout, which re-arms a timer on every
   * read and every write: here each frame only stamps lastActiveAt.
   */
  watchIdle(idleMs: number, onIdle: () => boolean): void {
    const step = Math.max(1, Math.floor(idleMs / 4));
    let idleFor = 0;
    let seen = this.lastActiveAt;
    const look = () => {
      this.idleTimer = null;
      if (this.closed) return;
      if (this.lastActiveAt !== seen) {
        seen = this.lastActiveAt;
        idleFor = 0;
      } else {
        idleFor += step;
      }
      if (idleFor >= idleMs && onIdle()) return;
      this.idleTimer = setTimeout(look, step).unref();
    };
    this.idleTimer = setTimeout(look, step).unref();
  }

  /** Writes one encoded frame payload (from encodeFrame) with its length prefix. */
  write(payload: Buffer): void {
    if (this.closed || this.refusing || this.socket.destroyed) return;
    const waiting = this.socket.writableLength;
    if (waiting > 0 && waiting + payload.length > this.ctx.maxBufferedBytes) {
      this.ctx.counters.stalledPeers++;
      const why = `the peer is not reading: ${waiting} bytes already wait to be sent to it, and this frame of ${payload.length} would pass the limit of ${this.ctx.maxBufferedBytes}`;
      this.ctx.log.warn("stalled-peer", { peer: this.peer, waitingBytes: waiting, maxBufferedBytes: this.ctx.maxBufferedBytes }, `closed the connection to ${this.peer}: ${why}`);
      this.close(why);
      return;
    }
    this.lastActiveAt = performance.now();
    this.ctx.counters.framesOut++;
    this.ctx.counters.frameBytesOut += LENGTH_PREFIX_BYTES + payload.length;
    if (payload.length <= COPY_FRAME_BYTES) {
      // One buffer, one write(2): cheaper than cork + writev of two for the
      // small frames that make up nearly all traffic (pushes, acks, replies).
      const buf = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + payload.length);
      buf.writeUInt32BE(payload.length, 0);
      payload.copy(buf, LENGTH_PREFIX_BYTES);
      this.socket.write(buf);
      return;
    }
    this.socket.cork();
    this.socket.write(lengthPrefix(payload.length));
    this.socket.write(payload);
    this.socket.uncork();
  }

  send(fields: FrameFields): void {
    this.write(encodeFrame(this.ctx, fields));
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closeReason ??= reason;
    this.socket.destroy();
  }

  /**
   * Tells the peer why we hang up (an error frame with request_id 0), then
   * ends the connection, ignoring whatever else it sends meanwhile.
   */
  refuse(error: string, rejectedFrameBytes = 0): void {
    if (this.closed || this.refusing) return;
    this.send({ requestId: 0, isReply: true, error, rejectedFrameBytes });
    this.refusing = true;
    this.closeReason ??= error;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), DRAIN_MS).unref();
  }

  /** Bytes received from the peer that do not yet make a whole frame. */
  get pendingBytes(): number {
    return this.decoder.pendingBytes;
  }

  private receive(chunk: Buffer): void {
    if (this.refusing || this.closed) return;
    this.lastActiveAt = performance.now();
    let input = chunk;
    let completed = false;
    for (;;) {
      // Until a frame has opened, frames are taken one at a time, so the
      // limit can rise before the next length prefix is read.
      const gated = !this.authenticated;
      const { frames, oversize } = this.decoder.push(input, gated ? 1 : Infinity);
      input = EMPTY;
      for (const payload of frames) {
        completed = true;
        if (!this.accept(payload)) return;
      }
      if (oversize !== undefined) {
        this.refuseOversize(oversize, gated);
        return;
      }
      if (!gated || frames.length === 0) break;
    }
    if (!this.decoder.midFrame) this.frameStartedAt = null;
    else if (completed || this.frameStartedAt === null) this.frameStartedAt = performance.now();
    this.chargeBudget();
  }

  private refuseOversize(declared: number, gated: boolean): void {
    this.ctx.counters.oversizeFrames++;
    if (gated && declared <= this.ctx.maxFrameBytes) {
      this.ctx.counters.firstFrameRefused++;
      const error = `first frame too large: ${declared} bytes before any frame from this connection opened (at most ${this.gate!.firstFrameBytes} until one does: is the sender an older gossipcheckd, or does it lack the cluster key?)`;
      this.ctx.log.warn("first-frame", { peer: this.peer, frameBytes: declared }, `refused a connection from ${this.peer}: ${error}`);
      this.refuse(error, declared);
      return;
    }
    const error = `frame too large: ${declared} bytes exceeds the maximum of ${this.ctx.maxFrameBytes} bytes (raise -max-frame-size on the receiver)`;
    this.ctx.log.warn("oversize-frame", { peer: this.peer, frameBytes: declared, maxFrameBytes: this.ctx.maxFrameBytes }, `refused a frame from ${this.peer}: ${error}`);
    this.refuse(error, declared);
  }

  /** Counts this connection's buffered bytes in the shared budget; over it, the connection is closed. */
  private chargeBudget(): void {
    if (!this.gate) return;
    const now = this.decoder.pendingBytes;
    const budget = this.gate.budget;
    budget.used += now - this.counted;
    this.counted = now;
    if (budget.used <= budget.max) return;
    this.ctx.counters.pendingBudgetClosed++;
    const why = `incomplete inbound frames hold ${budget.used} bytes across all connections, over the limit of ${budget.max} (this connection: ${now})`;
    this.ctx.log.warn("pending-budget", { peer: this.peer, pendingBytes: now, totalPendingBytes: budget.used, maxPendingBytes: budget.max }, `closed the connection from ${this.peer}: ${why}`);
    this.close(why);
  }

  /** Handles one frame payload; false when the connection was ended for it. */
  private accept(payload: Buffer): boolean {
    const c = this.ctx.counters;
    c.framesIn++;
    c.frameBytesIn += LENGTH_PREFIX_BYTES + payload.length;
    const read = readFrame(this.ctx.guard, payload, this.ctx.known);
    if (read.ok) {
      if (read.frame === null) {
        c.knownSkipped++;
        return true;
      }
      if (!this.authenticated) {
        this.authenticated = true;
        this.decoder.setMaxFrameBytes(this.ctx.maxFrameBytes);
      }
      this.onFrame(read.frame, read.relay);
      return !this.closed && !this.refusing;
    }
    const fields = { peer: this.peer, reason: read.reason };
    switch (read.failure) {
      case "decrypt":
        c.decryptFailures++;
        break;
      case "label":
        c.labelMismatches++;
        break;
      case "undecodable":
        c.undecodable++;
        break;
      case "version":
        // The peer can read an error frame, so it learns why.
        c.badVersion++;
        this.ctx.log.warn("frame-version", fields, `refused a frame from ${this.peer}: ${read.reason}`);
        this.refuse(read.reason);
        return false;
    }
    this.ctx.log.warn(`frame-${read.failure}`, fields, `dropped a frame from ${this.peer}: it ${read.reason}; closing the connection`);
    this.close(`frame ${read.reason}`);
    return false;
  }
}

/** A frame, or null for a frame dropped unopened because its dedup key is known; or why it was refused. */
export type FrameRead =
  /** relay: set for a one-way frame with a dedup header opened with our primary key (see Relay). */
  { ok: true; frame: pb.Frame | null; relay?: Relay } | { ok: false; failure: UnwrapFailure | "version"; reason: string };

const NOTHING_KNOWN: KnownCheck = () => false;

/**
 * Opens and decodes one frame payload (the bytes after the length prefix).
 * Never throws: whatever the network sent comes back as a frame, null (its
 * dedup key is known: see encodeFrame), or a reason.
 */
export function readFrame(guard: PayloadGuard, payload: Buffer, known: KnownCheck = NOTHING_KNOWN): FrameRead {
  const wire = payload; // as received, for a relay
  let header: Buffer | undefined;
  let channel = 0;
  if (payload.length > 0 && payload[0] === DEDUP_HEADER) {
    const keyBytes = payload.length >= 3 ? payload[2]! : 0;
    if (keyBytes === 0 || keyBytes > MAX_DEDUP_KEY_BYTES || payload.length < 3 + keyBytes) {
      return { ok: false, failure: "undecodable", reason: "has a malformed dedup header" };
    }
    header = payload.subarray(0, 3 + keyBytes);
    channel = payload[1]!;
    let isKnown: boolean;
    try {
      isKnown = known(channel, header.subarray(3));
    } catch {
      isKnown = false; // a failing check only costs the opening
    }
    if (isKnown) return { ok: true, frame: null };
    payload = payload.subarray(header.length);
  }
  const opened = guard.unwrap(payload, header);
  if (!opened.ok) return opened;
  let frame: pb.Frame;
  try {
    frame = pb.Frame.decode(opened.payload);
  } catch (err) {
    return { ok: false, failure: "undecodable", reason: `does not decode (${errorMessage(err)})` };
  }
  if (frame.version !== PROTOCOL_VERSION) {
    return {
      ok: false,
      failure: "version",
      reason: `protocol version mismatch: got a frame of version ${frame.version}, this node speaks version ${PROTOCOL_VERSION} (upgrade the older gossipcheckd)`,
    };
  }
  if (header && (!frame.oneWay || frame.channel !== channel)) {
    return { ok: false, failure: "undecodable", reason: `has a dedup header for channel ${channel}, but is not a one-way message on that channel` };
  }
  if (header && opened.primary) {
    return { ok: true, frame, relay: { channel: channel as Channel, dedupKey: header.subarray(3), body: frame.body, wire } };
  }
  return { ok: true, frame };
}
