import type { Server, Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { pb } from "../proto/index.js";
import { joinHostPort } from "./address.js";
import { encodeFrame, FrameConnection, type ConnectionContext, type InboundGate } from "./connection.js";
import { Channel, type Relay, type RequestHandler } from "./transport.js";

/*
 * Accepted TCP connections: each carries requests from one peer, answered
 * concurrently (a slow handler does not hold up the requests behind it on the
 * same connection; replies go back as they are ready, matched by request_id).
 *
 * Nothing that arrives before authentication may cost much (memberlist
 * bounds every stream with a deadline; we bound memory and count too):
 * - at most maxInboundConnections are open at once. When full, a new
 *   connection evicts the oldest one that has not authenticated (no frame
 *   from it has opened yet), so a flood of junk connections cannot lock out
 *   the members. If every one has authenticated, it evicts the one idle the
 *   longest with no request in flight, if that one has been idle at least
 *   minIdleToEvictMs: in a cluster of more members than the limit, the
 *   origin of a batch hears from every member at once, and each would
 *   otherwise hold its place for the idle timeout (a peer whose connection
 *   was evicted dials again when it next has something to send). Only when
 *   every connection is busy is the new one refused;
 * - at most maxUnauthenticatedPerAddress connections from one IP address may
 *   be waiting to authenticate;
 * - until a frame from it opens, a connection may declare frames of at most
 *   firstFrameBytes (the dialler's first frame is a small hello: see
 *   OutboundPool), so without the key a peer makes us buffer a few KiB;
 * - bytes buffered for incomplete frames, summed over every connection, stay
 *   under maxPendingBytes;
 * - a connection must authenticate within frameTimeoutMs of being accepted,
 *   and each frame must arrive whole within frameTimeoutMs of its first
 *   byte (a sender trickling bytes is cut off).
 * Each limit closes the connection, is counted and logged at a limited rate.
 * Idle connections are closed after twice the requesters' idle timeout, so
 * the requester, who knows when it is done, normally hangs up first and
 * never races a request against our close.
 */

export interface InboundOptions {
  ctx: ConnectionContext;
  maxInboundConnections: number;
  /** An authenticated connection idle at least this long (ms), with no request in flight, may be closed to make room at the limit. */
  minIdleToEvictMs: number;
  /** The requesters' idle timeout (ms); we wait twice as long. */
  idleTimeoutMs: number;
  handlers: ReadonlyMap<Channel, RequestHandler>;
  /** ms from accept to the first opened frame, and from a frame's first byte to its last. */
  frameTimeoutMs: number;
  /** Largest frame (bytes) a connection may declare before a frame from it has opened. */
  firstFrameBytes: number;
  /** Bytes of incomplete frames buffered across all inbound connections. */
  maxPendingBytes: number;
  /** Connections from one IP address that may be waiting to authenticate at once. */
  maxUnauthenticatedPerAddress: number;
}

/** The default of InboundOptions.minIdleToEvictMs (ms). */
export const MIN_IDLE_TO_EVICT_MS = 1000;

/** A successful reply waiting for the end of the event-loop turn. */
interface ReadyReply {
  requestId: number;
  body: Uint8Array;
}

export class InboundServer {
  private conns = new Set<FrameConnection>();
  /** Requests being served, per connection (absent: none). */
  private inFlight = new Map<FrameConnection, number>();
  /** Replies ready this turn, per connection (see flushReplies). */
  private ready = new Map<FrameConnection, ReadyReply[]>();
  private flushArmed = false;
  private readonly gate: InboundGate;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(
    server: Server,
    private readonly opts: InboundOptions,
  ) {
    this.gate = { firstFrameBytes: opts.firstFrameBytes, budget: { used: 0, max: opts.maxPendingBytes } };
    server.on("connection", (socket) => this.accept(socket));
  }

  /** Bytes of incomplete frames buffered now, across all inbound connections. */
  get pendingBytes(): number {
    return this.gate.budget.used;
  }

  get openConnections(): number {
    return this.conns.size;
  }

  closeAll(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    this.flushReplies();
    for (const c of this.conns) c.close("transport closed");
    this.conns.clear();
  }

  private accept(socket: Socket): void {
    const { ctx } = this.opts;
    const ip = socket.remoteAddress ?? "unknown";
    const peer = joinHostPort(ip, socket.remotePort ?? 0);
    const refuse = (key: string, why: string) => {
      ctx.log.warn(key, { peer, open: this.conns.size }, `refused a connection from ${peer}: ${why}`);
      socket.on("error", () => {});
      socket.destroy();
    };
    if (this.unauthenticatedFrom(ip) >= this.opts.maxUnauthenticatedPerAddress) {
      ctx.counters.connectionsRefusedPerAddress++;
      refuse("inbound-per-address", `${this.opts.maxUnauthenticatedPerAddress} connections from ${ip} are already waiting to authenticate`);
      return;
    }
    if (this.conns.size >= this.opts.maxInboundConnections && !this.evictUnauthenticated() && !this.evictIdle()) {
      ctx.counters.connectionsRefused++;
      refuse("inbound-limit", `${this.conns.size} inbound connections are open, the maximum, all authenticated and busy within the last ${this.opts.minIdleToEvictMs} ms`);
      return;
    }
    ctx.counters.connectionsAccepted++;
    const conn = new FrameConnection(socket, peer, ctx, this.gate);
    this.conns.add(conn);
    this.sweepTimer ??= setInterval(() => this.sweep(), Math.max(10, Math.min(1000, this.opts.frameTimeoutMs / 4))).unref();
    conn.watchIdle(2 * this.opts.idleTimeoutMs, () => {
      if (this.inFlight.has(conn)) return false;
      conn.close("idle");
      return true;
    });
    conn.onClose = () => {
      this.conns.delete(conn);
      this.inFlight.delete(conn);
    };
    conn.onFrame = (frame, relay) => {
      if (frame.isReply) return; // nothing was asked on an inbound connection
      if (frame.channel === Channel.Hello) return; // it authenticated the connection; that was its job
      this.inFlight.set(conn, (this.inFlight.get(conn) ?? 0) + 1);
      // serve() answers every failure to the peer itself; it never rejects.
      void this.serve(conn, frame, relay).finally(() => {
        const n = this.inFlight.get(conn)! - 1;
        if (n > 0) this.inFlight.set(conn, n);
        else this.inFlight.delete(conn);
      });
    };
  }

  private unauthenticatedFrom(ip: string): number {
    let n = 0;
    for (const c of this.conns) if (!c.authenticated && c.socket.remoteAddress === ip) n++;
    return n;
  }

  /** Closes the oldest connection that has not authenticated; false when there is none. */
  private evictUnauthenticated(): boolean {
    let oldest: FrameConnection | undefined;
    for (const c of this.conns) if (!c.authenticated && (!oldest || c.openedAt < oldest.openedAt)) oldest = c;
    if (!oldest) return false;
    this.opts.ctx.counters.connectionsEvicted++;
    this.opts.ctx.log.warn("inbound-evict", { peer: oldest.peer }, `closed a connection from ${oldest.peer} that had not authenticated, to make room: the inbound connection limit was reached`);
    oldest.close("evicted: the inbound connection limit was reached before it authenticated");
    this.conns.delete(oldest);
    return true;
  }

  /** Closes the authenticated connection idle the longest, if it has nothing in flight and was idle minIdleToEvictMs; false when there is none. */
  private evictIdle(): boolean {
    const cutoff = performance.now() - this.opts.minIdleToEvictMs;
    let idlest: FrameConnection | undefined;
    for (const c of this.conns) if (c.authenticated && c.lastActiveAt <= cutoff && !this.inFlight.has(c) && (!idlest || c.lastActiveAt < idlest.lastActiveAt)) idlest = c;
    if (!idlest) return false;
    this.opts.ctx.counters.idleConnectionsEvicted++;
    idlest.close(`evicted: idle, and the inbound connection limit (${this.opts.maxInboundConnections}) was reached`);
    this.conns.delete(idlest);
    this.inFlight.delete(idlest);
    return true;
  }

  /** Closes connections that did not authenticate, or whose frame in progress did not arrive, within frameTimeoutMs. */
  private sweep(): void {
    const { ctx, frameTimeoutMs } = this.opts;
    if (this.conns.size === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
      return;
    }
    const now = performance.now();
    for (const c of this.conns) {
      let why: string | null = null;
      if (c.frameStartedAt !== null && now - c.frameStartedAt > frameTimeoutMs) {
        why = `a frame took longer than ${frameTimeoutMs} ms to arrive (${c.pendingBytes} bytes of it so far)`;
      } else if (!c.authenticated && now - c.openedAt > frameTimeoutMs) {
        why = `no frame from it opened within ${frameTimeoutMs} ms of connecting`;
      }
      if (!why) continue;
      ctx.counters.frameTimeouts++;
      ctx.log.warn("frame-timeout", { peer: c.peer, pendingBytes: c.pendingBytes }, `closed the connection from ${c.peer}: ${why}`);
      c.close(why);
      this.conns.delete(c);
    }
  }

  private async serve(conn: FrameConnection, frame: pb.Frame, relay: Relay | undefined): Promise<void> {
    const { ctx, handlers } = this.opts;
    if (frame.oneWay) return this.consume(conn, frame, relay);
    ctx.counters.requestsIn++;
    const requestId = frame.requestId;
    const handler = handlers.get(frame.channel as Channel);
    let body: Uint8Array;
    try {
      if (!handler) throw new Error(`no handler for channel ${frame.channel} on this node`);
      body = await handler(frame.body, frame.from || conn.peer);
    } catch (err) {
      conn.send({ requestId, isReply: true, error: err instanceof Error ? err.message : String(err) });
      return;
    }
    if (conn.closed) return;
    const queue = this.ready.get(conn);
    if (queue) queue.push({ requestId, body });
    else this.ready.set(conn, [{ requestId, body }]);
    if (!this.flushArmed) {
      this.flushArmed = true;
      setImmediate(() => this.flushReplies());
    }
  }

  /**
   * Sends the replies that became ready during this event-loop turn. Equal
   * replies to several requests of one connection go out as one frame
   * (Frame.also_request_ids): the origin releases its acknowledgements of
   * results in rounds (src/gossip/acks.ts), so a node that sent results for
   * several batches gets them all acknowledged by one frame, sealed and
   * opened once.
   */
  private flushReplies(): void {
    this.flushArmed = false;
    const ready = this.ready;
    this.ready = new Map();
    for (const [conn, replies] of ready) {
      if (conn.closed) continue;
      for (const group of groupEqualBodies(replies)) this.sendReply(conn, group.body, group.ids);
    }
  }

  private sendReply(conn: FrameConnection, body: Uint8Array, ids: number[]): void {
    const { ctx } = this.opts;
    const [requestId, ...alsoRequestIds] = ids as [number, ...number[]];
    ctx.counters.coalescedReplies += alsoRequestIds.length;
    const payload = encodeFrame(ctx, { requestId, alsoRequestIds, isReply: true, body });
    if (payload.length > ctx.maxFrameBytes) {
      ctx.counters.oversizeFrames++;
      const error = `reply of ${payload.length} bytes exceeds this node's maximum frame size of ${ctx.maxFrameBytes} bytes (raise -max-frame-size)`;
      ctx.log.warn("oversize-reply", { peer: conn.peer, frameBytes: payload.length }, `could not answer ${conn.peer}: ${error}`);
      for (const id of ids) conn.send({ requestId: id, isReply: true, error, rejectedFrameBytes: payload.length });
      return;
    }
    conn.write(payload);
  }

  /** A one-way message: the handler runs, nothing goes back; a failure is counted and logged here. */
  private async consume(conn: FrameConnection, frame: pb.Frame, relay: Relay | undefined): Promise<void> {
    const { ctx, handlers } = this.opts;
    ctx.counters.oneWayIn++;
    try {
      const handler = handlers.get(frame.channel as Channel);
      if (!handler) throw new Error(`no handler for channel ${frame.channel} on this node`);
      await handler(frame.body, frame.from || conn.peer, relay);
    } catch (err) {
      ctx.counters.oneWayErrors++;
      const error = err instanceof Error ? err.message : String(err);
      ctx.log.warn("one-way-failed", { peer: conn.peer, channel: frame.channel, error }, `a message from ${conn.peer} failed here: ${error}`);
    }
  }
}

/**
 * Replies grouped by equal body, in order of first appearance. Only small
 * bodies are compared (acknowledgements are a few bytes); a large one always
 * goes in a frame of its own.
 */
function groupEqualBodies(replies: readonly ReadyReply[]): { body: Uint8Array; ids: number[] }[] {
  const groups: { body: Uint8Array; ids: number[] }[] = [];
  const small = new Map<string, { body: Uint8Array; ids: number[] }>();
  for (const r of replies) {
    if (r.body.length > MAX_COALESCED_BODY_BYTES) {
      groups.push({ body: r.body, ids: [r.requestId] });
      continue;
    }
    const key = Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength).toString("latin1");
    const same = small.get(key);
    if (same) {
      same.ids.push(r.requestId);
      continue;
    }
    const group = { body: r.body, ids: [r.requestId] };
    small.set(key, group);
    groups.push(group);
  }
  return groups;
}

/** Reply bodies up to this size (bytes) are compared for coalescing. */
const MAX_COALESCED_BODY_BYTES = 256;
