import { connect } from "node:net";
import type { pb } from "../proto/index.js";
import { splitHostPort } from "./address.js";
import type { Clock, Timer } from "../base/clock.js";
import { encodeFrame, FrameConnection, type ConnectionContext, type FrameFields } from "./connection.js";
import { Channel, TransportError, type Address, type Relay } from "./transport.js";
import { errorMessage } from "../base/result.js";

/*
 * Outbound requests over pooled TCP connections: one connection per peer
 * address, dialled on the first request and reused by every later one;
 * requests are multiplexed on it by request_id, so many can be in flight at
 * once and replies may come back in any order.
 *
 * - A broken connection rejects every request in flight on it with
 *   "unreachable"; the next request dials again.
 * - A failed dial puts the address in backoff (100 ms doubling to 2 s):
 *   requests during backoff fail fast with "unreachable" instead of dialling a
 *   dead peer in a hot loop. A successful dial clears it.
 * - A connection with nothing in flight for idleTimeoutMs is closed.
 */

export interface OutboundOptions {
  ctx: ConnectionContext;
  clock: Clock;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** Our listening address, sent in every request's `from`. */
  localAddress: Address;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 2_000;

interface Pending {
  resolve: (reply: Uint8Array) => void;
  reject: (err: TransportError) => void;
  timer: Timer;
  /** Length of the request frame payload: matched against a peer's rejected_frame_bytes. */
  frameBytes: number;
}

interface PeerConnection {
  conn: FrameConnection;
  connected: boolean;
  /** Requests in flight on this connection, by request_id. */
  pending: Map<number, Pending>;
  /** One-way messages written before the connection was established: settled by its outcome. */
  unconnected: { resolve: () => void; reject: (err: TransportError) => void }[];
}

interface Backoff {
  untilMs: number;
  delayMs: number;
  reason: string;
}

export class OutboundPool {
  private peers = new Map<Address, PeerConnection>();
  private backoff = new Map<Address, Backoff>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: OutboundOptions) {}

  get openConnections(): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.connected) n++;
    return n;
  }

  get pendingRequests(): number {
    let n = 0;
    for (const p of this.peers.values()) n += p.pending.size;
    return n;
  }

  request(to: Address, channel: Channel, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const { ctx, clock } = this.opts;
    const requestId = this.allocateId();
    const payload = this.encode(to, "request", { channel, requestId, isReply: false, body, from: this.opts.localAddress });
    if (payload instanceof TransportError) return Promise.reject(payload);
    const peer = this.route(to);
    if (peer instanceof TransportError) return Promise.reject(peer);
    ctx.counters.requestsOut++;
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        if (!peer.pending.delete(requestId)) return;
        ctx.counters.requestTimeouts++;
        reject(new TransportError("timeout", `request to ${to} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      peer.pending.set(requestId, { resolve, reject, timer, frameBytes: payload.length });
      peer.conn.write(payload);
    });
  }

  /**
   * One-way messages: one body to each of several peers, encoded and sealed
   * once (the same frame goes to every connection), with an optional dedup
   * key (encodeFrame). One promise per peer, in order: each resolves when
   * written on an established connection (at once when it is up, else when
   * the dial succeeds) and rejects when it cannot be sent. With a relay of
   * this very body (Transport.sendAll), its received bytes go out as they are.
   */
  sendAll(to: readonly Address[], channel: Channel, body: Uint8Array, dedupKey?: Uint8Array, relay?: Relay): Promise<void>[] {
    if (to.length === 0) return [];
    let payload: Buffer | TransportError;
    if (relay && this.canRelay(relay, channel, body, dedupKey)) {
      this.opts.ctx.counters.relayed++;
      payload = relay.wire;
    } else {
      // request_id stays 0: nothing answers a one-way frame, so one frame serves every peer.
      payload = this.encode(to.join(", "), "message", { channel, isReply: false, oneWay: true, body, from: this.opts.localAddress }, dedupKey);
    }
    if (payload instanceof TransportError) return to.map(() => Promise.reject(payload));
    return to.map((addr) => {
      const peer = this.route(addr);
      if (peer instanceof TransportError) return Promise.reject(peer);
      this.opts.ctx.counters.oneWayOut++;
      peer.conn.write(payload);
      if (peer.connected) return Promise.resolve();
      return new Promise<void>((resolve, reject) => peer.unconnected.push({ resolve, reject }));
    });
  }

  /** Whether relay carries exactly this message: the same body, channel and dedup key, within our frame limit. */
  private canRelay(relay: Relay, channel: Channel, body: Uint8Array, dedupKey: Uint8Array | undefined): boolean {
    return (
      !this.closed &&
      relay.body === body &&
      relay.channel === channel &&
      dedupKey !== undefined &&
      Buffer.from(dedupKey.buffer, dedupKey.byteOffset, dedupKey.byteLength).equals(relay.dedupKey) &&
      relay.wire.length <= this.opts.ctx.maxFrameBytes
    );
  }

  /**
   * Encodes a frame, or says why it cannot go. Done before anything touches
   * the network, so a frame that is too large is refused without dialling.
   */
  private encode(to: string, what: string, fields: FrameFields, dedupKey?: Uint8Array): Buffer | TransportError {
    const { ctx } = this.opts;
    if (this.closed) return new TransportError("closed", "transport is closed");
    const payload = encodeFrame(ctx, fields, dedupKey);
    if (payload.length > ctx.maxFrameBytes) {
      ctx.counters.oversizeFrames++;
      return new TransportError(
        "too_large",
        `${what} of ${payload.length} bytes to ${to} exceeds the maximum frame size of ${ctx.maxFrameBytes} bytes (raise -max-frame-size on both ends, or send less)`,
      );
    }
    return payload;
  }

  /** The peer's connection (dialled if there is none), or why there is none. */
  private route(to: Address): PeerConnection | TransportError {
    const { ctx, clock } = this.opts;
    const b = this.backoff.get(to);
    if (b && clock.now() < b.untilMs) {
      ctx.counters.dialBackoffRejects++;
      return new TransportError("unreachable", `${to} is unreachable: the last connection attempt failed (${b.reason}); next attempt in ${Math.ceil(b.untilMs - clock.now())} ms`);
    }
    try {
      return this.peers.get(to) ?? this.dial(to);
    } catch (err) {
      return new TransportError("unreachable", `cannot connect to ${to}: ${errorMessage(err)}`);
    }
  }

  /** Closes every connection; requests in flight reject with "closed". */
  closeAll(): void {
    this.closed = true;
    for (const peer of this.peers.values()) {
      this.failAll(peer, () => new TransportError("closed", "transport is closed"));
      for (const m of peer.unconnected.splice(0)) m.reject(new TransportError("closed", "transport is closed"));
      peer.conn.close("transport closed");
    }
    this.peers.clear();
  }

  private allocateId(): number {
    const id = this.nextId;
    // request_id is a uint32 and 0 means "the connection itself" in replies.
    this.nextId = id >= 0xffffffff ? 1 : id + 1;
    return id;
  }

  private dial(to: Address): PeerConnection {
    const { host, port } = splitHostPort(to);
    const { ctx, clock } = this.opts;
    const socket = connect({ host, port, noDelay: true });
    const peer: PeerConnection = { conn: new FrameConnection(socket, to, ctx), connected: false, pending: new Map(), unconnected: [] };
    this.peers.set(to, peer);
    // The first frame is a small hello: the receiver holds a new connection
    // to a few KiB per frame until one opens (src/net/inbound.ts), and this
    // one opens at once whatever the first real message's size.
    peer.conn.write(encodeFrame(ctx, { channel: Channel.Hello, oneWay: true, from: this.opts.localAddress }));
    const connectTimer = clock.setTimeout(() => peer.conn.close(`connect timed out after ${this.opts.connectTimeoutMs} ms`), this.opts.connectTimeoutMs);
    socket.once("connect", () => {
      connectTimer.cancel();
      peer.connected = true;
      ctx.counters.connectionsOpened++;
      this.backoff.delete(to);
      for (const m of peer.unconnected.splice(0)) m.resolve();
    });
    peer.conn.watchIdle(this.opts.idleTimeoutMs, () => {
      if (peer.pending.size > 0 || peer.unconnected.length > 0) return false;
      peer.conn.close(`idle for ${this.opts.idleTimeoutMs} ms`);
      return true;
    });
    peer.conn.onFrame = (frame) => this.onReply(to, peer, frame);
    peer.conn.onClose = (reason) => {
      connectTimer.cancel();
      if (this.peers.get(to) === peer) this.peers.delete(to);
      if (!peer.connected) {
        ctx.counters.dialFailures++;
        const prev = this.backoff.get(to);
        const delayMs = prev ? Math.min(prev.delayMs * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
        this.backoff.set(to, { untilMs: clock.now() + delayMs, delayMs, reason });
        this.pruneBackoff();
        this.failAll(peer, () => new TransportError("unreachable", `cannot connect to ${to}: ${reason}`));
        for (const m of peer.unconnected.splice(0)) m.reject(new TransportError("unreachable", `cannot connect to ${to}: ${reason}`));
      } else {
        this.failAll(peer, () => new TransportError("unreachable", `connection to ${to} broke: ${reason}`));
      }
    };
    return peer;
  }

  // Addresses of long-gone members would otherwise stay here forever. An
  // entry whose backoff ran out more than the longest backoff ago no longer
  // affects anything (its next failure would double from at most 2 s anyway).
  private pruneBackoff(): void {
    if (this.backoff.size < 256) return;
    const stale = this.opts.clock.now() - BACKOFF_MAX_MS;
    for (const [addr, b] of this.backoff) if (b.untilMs < stale) this.backoff.delete(addr);
  }

  private onReply(to: Address, peer: PeerConnection, frame: pb.Frame): void {
    if (!frame.isReply) {
      // Peers answer on the connection we opened; they never ask on it.
      peer.conn.close("the peer sent a request on our outbound connection");
      return;
    }
    if (frame.requestId === 0) {
      // The peer refused the connection itself (after a frame too large, or
      // another protocol version). The request it refused fails with the
      // peer's words; the others fail as the connection closes. A refused
      // one-way message has nobody waiting: it is logged here.
      let matched = false;
      for (const [id, p] of peer.pending) {
        if (frame.rejectedFrameBytes > 0 && p.frameBytes === frame.rejectedFrameBytes) {
          matched = true;
          this.settle(peer, id)?.reject(new TransportError("too_large", `${to} refused the request: ${frame.error}`));
        }
      }
      if (!matched && frame.rejectedFrameBytes > 0) {
        this.opts.ctx.log.warn(
          "refused-message",
          { peer: to, frameBytes: frame.rejectedFrameBytes },
          `${to} refused a message of ${frame.rejectedFrameBytes} bytes: ${frame.error}; align -max-frame-size on every node`,
        );
      }
      peer.conn.close(frame.error || "refused by the peer");
      return;
    }
    // One reply frame may answer several requests with the same body
    // (also_request_ids: acknowledgements released together).
    for (const id of [frame.requestId, ...frame.alsoRequestIds]) {
      const p = this.settle(peer, id);
      if (!p) continue; // timed out already
      if (frame.error) {
        this.opts.ctx.counters.requestErrors++;
        p.reject(new TransportError(frame.rejectedFrameBytes > 0 ? "too_large" : "remote", `${to}: ${frame.error}`));
      } else {
        p.resolve(frame.body);
      }
    }
  }

  /** Removes a request from its connection and stops its timer. */
  private settle(peer: PeerConnection, id: number): Pending | undefined {
    const p = peer.pending.get(id);
    if (!p) return undefined;
    peer.pending.delete(id);
    p.timer.cancel();
    return p;
  }

  private failAll(peer: PeerConnection, error: () => TransportError): void {
    for (const id of [...peer.pending.keys()]) this.settle(peer, id)?.reject(error());
  }
}
