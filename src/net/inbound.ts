import type { Server, Socket } from "node:net";
import type { pb } from "../proto/index.js";
import { joinHostPort } from "./address.js";
import { encodeFrame, FrameConnection, type ConnectionContext } from "./connection.js";
import type { Channel, RequestHandler } from "./transport.js";

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

export class InboundServer {
  private conns = new Set<FrameConnection>();

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
    conn.onFrame = (frame) => {
      if (frame.isReply) return; // nothing was asked on an inbound connection
      inFlight++;
      this.serve(conn, frame).finally(() => inFlight--);
    };
  }

  private async serve(conn: FrameConnection, frame: pb.Frame): Promise<void> {
    const { ctx, handlers } = this.opts;
    if (frame.oneWay) return this.consume(conn, frame);
    ctx.counters.requestsIn++;
    const requestId = frame.requestId;
    const handler = handlers.get(frame.channel as Channel);
    let payload: Buffer;
    try {
      if (!handler) throw new Error(`no handler for channel ${frame.channel} on this node`);
      const reply = await handler(frame.body, frame.from || conn.peer);
      payload = encodeFrame(ctx, { requestId, isReply: true, body: reply });
    } catch (err) {
      conn.send({ requestId, isReply: true, error: err instanceof Error ? err.message : String(err) });
      return;
    }
    if (conn.closed) return;
    if (payload.length > ctx.maxFrameBytes) {
      ctx.counters.oversizeFrames++;
      const error = `reply of ${payload.length} bytes exceeds this node's maximum frame size of ${ctx.maxFrameBytes} bytes (raise -max-frame-size)`;
      ctx.log.warn("oversize-reply", { peer: conn.peer, frameBytes: payload.length }, `could not answer ${conn.peer}: ${error}`);
      conn.send({ requestId, isReply: true, error, rejectedFrameBytes: payload.length });
      return;
    }
    conn.write(payload);
  }

  /** A one-way message: the handler runs, nothing goes back; a failure is counted and logged here. */
  private async consume(conn: FrameConnection, frame: pb.Frame): Promise<void> {
    const { ctx, handlers } = this.opts;
    ctx.counters.oneWayIn++;
    try {
      const handler = handlers.get(frame.channel as Channel);
      if (!handler) throw new Error(`no handler for channel ${frame.channel} on this node`);
      await handler(frame.body, frame.from || conn.peer);
    } catch (err) {
      ctx.counters.oneWayErrors++;
      const error = err instanceof Error ? err.message : String(err);
      ctx.log.warn("one-way-failed", { peer: conn.peer, channel: frame.channel, error }, `a message from ${conn.peer} failed here: ${error}`);
    }
  }
}
