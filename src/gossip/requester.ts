import { Channel, TransportError, type Address, type Relay, type Transport } from "../net/transport.js";
import { decodeGossip, encodeGossip, type GossipMessage } from "./codec.js";
import type { GossipCounters } from "./counters.js";

/**
 * One gossip request to a peer and its decoded reply, counting bytes. Rejects
 * with the transport's TransportError, or with a TransportError("remote")
 * when the reply does not decode.
 */
export class GossipRequester {
  constructor(
    private readonly transport: Transport,
    private readonly timeoutMs: number,
    private readonly counters: GossipCounters,
  ) {}

  request(to: Address, msg: GossipMessage): Promise<GossipMessage> {
    return this.requestEncoded(to, encodeGossip(msg), msg.kind);
  }

  /**
   * One-way messages (burst pushes, advertisements): one body to several
   * peers, sealed once; no reply comes back. With a dedupKey (an envelope ID),
   * a peer that already holds that envelope drops the message unopened.
   * With a relay of this body, the bytes received go out unchanged.
   */
  sendAll(to: readonly Address[], body: Uint8Array, dedupKey?: Uint8Array, relay?: Relay): Promise<void>[] {
    this.counters.bytesSent += body.length * to.length;
    return this.transport.sendAll(to, Channel.Gossip, body, dedupKey, relay);
  }

  /** A request with a body encoded once for many peers. */
  async requestEncoded(to: Address, body: Uint8Array, kind: GossipMessage["kind"]): Promise<GossipMessage> {
    this.counters.bytesSent += body.length;
    const reply = await this.transport.request(to, Channel.Gossip, body, this.timeoutMs);
    this.counters.bytesReceived += reply.length;
    const decoded = decodeGossip(reply);
    if (!decoded.ok) {
      this.counters.decodeErrors++;
      throw new TransportError("remote", `${to} answered a gossip ${kind} with ${decoded.error}`);
    }
    return decoded.value;
  }
}
