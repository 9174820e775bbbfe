/*
 * The transport seam. SWIM sends best-effort datagrams (UDP); SWIM push-pull
 * and all of gossip use reliable request/reply messages over pooled
 * connections (TCP). Two implementations run the same protocol code:
 * NodeTransport (real sockets, src/net/node_transport.ts) and
 * MemoryTransport (in-memory, virtual clock, for simulations).
 */

/** "host:port": one port serves both UDP and TCP. */
export type Address = string;

/** Which layer handles a request. Numbers travel in Frame.channel. */
export const Channel = {
  /** The dialler's first frame on a connection (a hello): it proves the key, carries nothing, gets no answer. */
  Hello: 0,
  Swim: 1,
  Gossip: 2,
} as const;
export type Channel = (typeof Channel)[keyof typeof Channel];

export type PacketHandler = (data: Uint8Array, from: Address) => void;
/** Whether this node already has what a one-way message's dedup key names (see Transport.sendAll). */
export type KnownHandler = (dedupKey: Uint8Array) => boolean;
/**
 * A one-way message this node received with a dedup key (a burst push), as
 * it came over the wire, so that it can be forwarded unchanged: sendAll with
 * it writes these bytes instead of encoding and sealing `body` again. The
 * forwarded frame still names the node that sealed it as its sender. Offered
 * only for frames opened with this node's primary key, so everything this
 * node sends is sealed with its primary key.
 */
export interface Relay {
  readonly channel: Channel;
  readonly dedupKey: Uint8Array;
  readonly body: Uint8Array;
  /** The frame payload as received (dedup header and sealed frame). */
  readonly wire: Buffer;
}

/**
 * Handles one request and returns the reply body. `from` is the requester's
 * listening address as it declared it. Throwing (or rejecting) sends an error
 * reply; the requester's promise rejects with a TransportError("remote").
 * `relay` comes with one-way messages that can be forwarded as they came.
 */
export type RequestHandler = (body: Uint8Array, from: Address, relay?: Relay) => Uint8Array | Promise<Uint8Array>;

export type TransportErrorCode =
  | "timeout" // no reply within the deadline
  | "unreachable" // could not connect, or the connection broke
  | "too_large" // the frame exceeds the maximum frame size (either side)
  | "remote" // the receiver answered with an error
  | "closed"; // this transport is closed

export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "TransportError";
  }
}

export interface Transport {
  /** The address other nodes reach us at. */
  readonly address: Address;
  /** Best effort: may be dropped, duplicated or reordered. */
  sendPacket(to: Address, data: Uint8Array): void;
  /**
   * Sends body to the peer's handler for channel and resolves with its reply,
   * or rejects with a TransportError.
   */
  request(to: Address, channel: Channel, body: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /**
   * Sends body to the peer's handler for channel over the same pooled
   * connections, expecting no reply (half the frames of a request). Resolves
   * once the frame is handed to an open connection; rejects with a
   * TransportError when it cannot be (unreachable, too_large, closed). Whether
   * the peer's handler succeeded is not reported back.
   */
  send(to: Address, channel: Channel, body: Uint8Array): Promise<void>;
  /**
   * send() of one body to several peers, encoded and sealed once. With a
   * dedupKey (1 to 64 bytes, sent in the clear but authenticated), a
   * receiver whose onKnown handler for the channel says it already has what
   * the key names drops the message unopened, and its request handler never
   * sees it. One promise per peer, in order. With `relay` (a message this
   * node received whose body is `body`, and the same channel and dedup key),
   * the received bytes go out unchanged: no encoding, no sealing.
   */
  sendAll(to: readonly Address[], channel: Channel, body: Uint8Array, dedupKey?: Uint8Array, relay?: Relay): Promise<void>[];
  onPacket(handler: PacketHandler): void;
  onRequest(channel: Channel, handler: RequestHandler): void;
  /** Registers the check for dedup keys of one-way messages on channel (see sendAll). */
  onKnown(channel: Channel, known: KnownHandler): void;
  /** Counters for the control API and /metrics (packets, frames, drops, bytes). */
  counters(): Record<string, number>;
  close(): Promise<void>;
}
