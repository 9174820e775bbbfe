import type { Server, Socket } from "node:net";
import type { pb } from "../proto/index.js";
import { joinHostPort } from "./address.js";
import { encodeFrame, FrameConnection, type ConnectionContext } from "./connection.js";
import type { Channel, Relay, RequestHandler } from "./transport.js";

/**
 * Accepted TCP connections: each carries requests from one peer, answered
 * concurrently (a slow handler does not hold up the requests behind it on the
 * same connection; replies go back as they are ready, matched by request_id).
 *
 * At most maxInboundConnections are open at once; extra ones are closed on
 * arrival and counted, so a flood of connections cannot exhaust descriptors.
 * Idle connections are closed after twice the requesters' idle timeout, so
 * the requester, who knows when it is done, normally hangs up first and
 * never races a request against our close.
 */

export interface InboundOptions {
  ctx: ConnectionContext;
  maxInboundConnections: number;
  /** The requesters' idle timeout (ms); we wait twice as long. */
  idleTimeoutMs: number;
  handlers: ReadonlyMap<Channel, RequestHandler>;
}

/** A successful reply waiting for the end of the event-loop turn. */
interface ReadyReply {
  requestId: number;
  body: Uint8Array;
}

export class InboundServer {
  private conns = new Set<FrameConnection>();
  /** Replies ready this turn, per connection (see flushReplies). */
  private ready = new Map<FrameConnection, ReadyReply[]>();
  private flushArmed = false;

  constructor(
    server: Server,
    private readonly opts: InboundOptions,
  ) {
    server.on("connection", (socket) => this.accept(socket));
  }

  get openConnections(): number {
    return this.conns.size;
  }

  closeAll(): void {
    this.flushReplies();
    for (const c of this.conns) c.close("transport closed");
    this.conns.clear();
  }

  private accept(socket: Socket): void {
    const { ctx } = this.opts;
    const peer = joinHostPort(socket.remoteAddress ?? "unknown", socket.remotePort ?? 0);
    if (this.conns.size >= this.opts.maxInboundConnections) {
      ctx.counters.connectionsRefused++;
      ctx.log.warn("inbound-limit", { peer, open: this.conns.size },
        `refused a connection from ${peer}: ${this.conns.size} inbound connections are open, the maximum (raise -max-inbound-connections if the cluster needs more)`);
      socket.on("error", () => {});
      socket.destroy();
      return;
    }
    ctx.counters.connectionsAccepted++;
    const conn = new FrameConnection(socket, peer, ctx);
    this.conns.add(conn);
    let inFlight = 0;
    conn.watchIdle(2 * this.opts.idleTimeoutMs, () => {
      if (inFlight > 0) return false;
      conn.close("idle");
      return true;
    });
    conn.onClose = () => this.conns.delete(conn);
    conn.onFrame = (frame, relay) => {
      if (frame.isReply) return; // nothing was asked on an inbound connection
      inFlight++;
      this.serve(conn, frame, relay).finally(() => inFlight--);
    };
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
