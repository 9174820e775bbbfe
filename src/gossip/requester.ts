import { Channel, TransportError, type Address, type Transport } from "../net/transport.js";
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

  /** A one-way message (a burst push), encoded once for many peers: no reply comes back. */
  send(to: Address, body: Uint8Array): Promise<void> {
    this.counters.bytesSent += body.length;
    return this.transport.send(to, Channel.Gossip, body);
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
