import type { RemoteInfo, Socket as UdpSocket } from "node:dgram";
import type { Server } from "node:net";
import { firstExternalIPv4, isWildcardHost, joinHostPort, splitHostPort } from "./address.js";
import { systemClock, type Clock } from "../base/clock.js";
import type { ConnectionContext } from "./connection.js";
import { zeroCounters, type NetCounters } from "./counters.js";
import { PayloadGuard } from "./guard.js";
import { InboundServer, MIN_IDLE_TO_EVICT_MS } from "./inbound.js";
import type { Keyring } from "./keyring.js";
import { bindSockets } from "./listen.js";
import { nullLogger, RateLimitedLog, type Logger } from "../base/logger.js";
import { OutboundPool } from "./outbound.js";
import type { Address, Channel, KnownHandler, PacketHandler, Relay, RequestHandler, Transport } from "./transport.js";
import { errorMessage } from "../base/result.js";

/*
 * The real transport: UDP datagrams for SWIM packets and pooled TCP
 * connections for requests (push-pull, gossip), on one port number.
 *
 * With a keyring, every datagram and every frame is sealed with AES-256-GCM
 * (seal.ts); whatever fails to open is dropped and counted, never handed up.
 * Errors from the network are counted and logged at a limited rate (one line
 * per kind every 10 s), never thrown: a hostile peer cannot crash the daemon
 * or flood its log.
 */

/** SWIM's default packet size (bytes): what the layer above keeps its packets under. */
export const DEFAULT_PACKET_PAYLOAD_BYTES = 1400;
/** 16 MiB: room for a 10 MB check batch and its envelope. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_INBOUND_CONNECTIONS = 256;
export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/**
 * memberlist's TCP timeout: an accepted connection must send a frame that
 * opens within it, and every frame must arrive whole within it of its first
 * byte. At 10 s, a 10 MB batch needs a link of at least 1 MB/s; gossip's
 * requestTimeoutMs (the sender's side) is the same 10 s.
 */
export const DEFAULT_FRAME_TIMEOUT_MS = 10_000;
/**
 * Largest frame an accepted connection may declare before one of its frames
 * has opened. The dialler's hello is about 60 bytes sealed; 4 KiB leaves room
 * for any small first request from an older peer.
 */
export const DEFAULT_FIRST_FRAME_BYTES = 4 * 1024;
/**
 * Unauthenticated connections one IP address may hold open at once. All the
 * daemons of a one-host test cluster dial from 127.0.0.1 at the same moment,
 * and a connection is unauthenticated only until its hello is read (well
 * under a millisecond on an idle host), so this is sized for a busy host's
 * backlog of simultaneous dials, not for one peer's single connection.
 */
export const DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS = 64;
/** Bytes of incomplete inbound frames buffered across all connections: at least 64 MiB, and room for four largest frames arriving at once (a burst of a large batch from several peers). */
export function defaultMaxPendingBytes(maxFrameBytes: number): number {
  return Math.max(64 * 1024 * 1024, 4 * maxFrameBytes);
}
const MIN_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** The most a UDP datagram can carry over IPv4. */
const MAX_UDP_PAYLOAD_BYTES = 65_507;

export interface NodeTransportOptions {
  /** Interface to bind ("0.0.0.0" = all). */
  bindHost: string;
  /** TCP and UDP port; 0 = an ephemeral port, the same number for both. */
  port: number;
  /** Host peers reach us at, when it differs from bindHost (NAT, wildcard bind). */
  advertiseHost?: string;
  /**
   * Port peers reach us at, when a port mapping (NAT, container) makes it
   * differ from the bound one; absent or 0 = the bound port.
   */
  advertisePort?: number;
  /** Seals every packet and frame when set; plaintext when null or absent. */
  keyring?: Keyring | null;
  /** Cluster label: bound into every sealed message, or sent as a plaintext header without a key. */
  label?: string;
  /**
   * Largest datagram sent or accepted, in bytes on the wire. Default: 1400
   * plus what sealing (29 bytes) or the label header adds, so SWIM's
   * 1400-byte packets pass. Larger ones are not sent (or dropped on receipt)
   * and counted in oversizePackets.
   */
  maxPacketBytes?: number;
  /** Largest frame payload sent or accepted, in bytes (default 16 MiB). */
  maxFrameBytes?: number;
  /**
   * Bytes that may wait unsent on one connection (the peer is not reading)
   * before it is closed as stalled; default twice maxFrameBytes, at least 4 MiB.
   */
  maxBufferedBytes?: number;
  /**
   * Inbound TCP connections open at once (default 256). At the limit a new
   * one takes the place of one that never authenticated, else of the member
   * connection idle the longest (at least minIdleToEvictMs, nothing in
   * flight); failing both it is closed on arrival.
   */
  maxInboundConnections?: number;
  /** See maxInboundConnections (ms, default MIN_IDLE_TO_EVICT_MS, 1000). */
  minIdleToEvictMs?: number;
  /** Give up dialling a peer after this long (ms, default 3000). */
  connectTimeoutMs?: number;
  /** Close a pooled connection with nothing in flight after this long (ms, default 60 000). */
  idleTimeoutMs?: number;
  /** See DEFAULT_FRAME_TIMEOUT_MS. */
  frameTimeoutMs?: number;
  /** See DEFAULT_FIRST_FRAME_BYTES. */
  firstFrameBytes?: number;
  /** Bytes of incomplete inbound frames across all connections (default: defaultMaxPendingBytes). */
  maxPendingBytes?: number;
  /** See DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS. */
  maxUnauthenticatedPerAddress?: number;
  logger?: Logger;
  clock?: Clock;
}

export class NodeTransport implements Transport {
  readonly address: Address;
  /** The bound port (TCP and UDP). */
  readonly port: number;
  readonly maxPacketBytes: number;
  readonly maxFrameBytes: number;
  private readonly count: NetCounters = zeroCounters();
  private readonly guard: PayloadGuard;
  private readonly log: RateLimitedLog;
  private readonly handlers = new Map<Channel, RequestHandler>();
  private readonly knownChecks = new Map<Channel, KnownHandler>();
  private readonly outbound: OutboundPool;
  private readonly inbound: InboundServer;
  private packetHandler: PacketHandler | null = null;
  private closing: Promise<void> | null = null;

  private constructor(
    opts: NodeTransportOptions,
    private readonly server: Server,
    private readonly udp: UdpSocket,
    port: number,
  ) {
    const clock = opts.clock ?? systemClock;
    this.port = port;
    const host = opts.advertiseHost ?? (isWildcardHost(opts.bindHost) ? firstExternalIPv4() : opts.bindHost);
    this.address = joinHostPort(host, opts.advertisePort || port);
    this.guard = new PayloadGuard(opts.keyring ?? null, opts.label ?? "");
    this.log = new RateLimitedLog(opts.logger ?? nullLogger, () => clock.now());
    this.maxPacketBytes = Math.min(opts.maxPacketBytes ?? DEFAULT_PACKET_PAYLOAD_BYTES + this.guard.overheadBytes, MAX_UDP_PAYLOAD_BYTES);
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    const ctx: ConnectionContext = {
      guard: this.guard,
      maxFrameBytes: this.maxFrameBytes,
      counters: this.count,
      log: this.log,
      known: (channel, key) => this.knownChecks.get(channel as Channel)?.(key) ?? false,
      maxBufferedBytes: opts.maxBufferedBytes ?? Math.max(MIN_MAX_BUFFERED_BYTES, 2 * this.maxFrameBytes),
    };
    const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.outbound = new OutboundPool({
      ctx,
      clock,
      connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      idleTimeoutMs,
      localAddress: this.address,
    });
    this.inbound = new InboundServer(server, {
      ctx,
      maxInboundConnections: opts.maxInboundConnections ?? DEFAULT_MAX_INBOUND_CONNECTIONS,
      minIdleToEvictMs: opts.minIdleToEvictMs ?? MIN_IDLE_TO_EVICT_MS,
      idleTimeoutMs,
      handlers: this.handlers,
      frameTimeoutMs: opts.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS,
      firstFrameBytes: opts.firstFrameBytes ?? DEFAULT_FIRST_FRAME_BYTES,
      maxPendingBytes: opts.maxPendingBytes ?? defaultMaxPendingBytes(this.maxFrameBytes),
      maxUnauthenticatedPerAddress: opts.maxUnauthenticatedPerAddress ?? DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS,
    });
    server.on("error", (err) => this.log.warn("tcp-server", { error: err.message }, `TCP listener error: ${err.message}`));
    udp.on("message", (data, rinfo) => this.receivePacket(data, rinfo));
    udp.on("error", (err) => this.log.warn("udp-socket", { error: err.message }, `UDP socket error: ${err.message}`));
  }

  /**
   * Binds TCP and UDP on bindHost:port. Rejects with a ListenError (listen.ts)
   * whose message is fit for the operator: port in use, address not on this
   * host, permission denied.
   */
  static async listen(opts: NodeTransportOptions): Promise<NodeTransport> {
    const { server, udp, port } = await bindSockets(opts.bindHost, opts.port);
    try {
      return new NodeTransport(opts, server, udp, port);
    } catch (err) {
      server.close();
      udp.close();
      throw err;
    }
  }

  sendPacket(to: Address, data: Uint8Array): void {
    if (this.closing) return;
    const wire = this.guard.wrap(data);
    if (wire.length > this.maxPacketBytes) {
      this.count.oversizePackets++;
      this.log.warn(
        "oversize-packet-out",
        { to, packetBytes: wire.length, maxPacketBytes: this.maxPacketBytes },
        `did not send a packet of ${wire.length} bytes to ${to}: it exceeds the maximum packet size of ${this.maxPacketBytes} bytes`,
      );
      return;
    }
    let host: string;
    let port: number;
    try {
      ({ host, port } = splitHostPort(to));
    } catch (err) {
      this.count.packetSendErrors++;
      this.log.warn("packet-address", { to }, `did not send a packet: ${errorMessage(err)}`);
      return;
    }
    this.count.packetsOut++;
    this.count.packetBytesOut += wire.length;
    this.udp.send(wire, port, host, (err) => {
      if (!err) return;
      this.count.packetSendErrors++;
      this.log.warn("packet-send", { to, error: err.message }, `could not send a packet to ${to}: ${err.message}`);
    });
  }

  request(to: Address, channel: Channel, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return this.outbound.request(to, channel, body, timeoutMs);
  }

  send(to: Address, channel: Channel, body: Uint8Array): Promise<void> {
    return this.outbound.sendAll([to], channel, body)[0]!;
  }

  sendAll(to: readonly Address[], channel: Channel, body: Uint8Array, dedupKey?: Uint8Array, relay?: Relay): Promise<void>[] {
    return this.outbound.sendAll(to, channel, body, dedupKey, relay);
  }

  onKnown(channel: Channel, known: KnownHandler): void {
    this.knownChecks.set(channel, known);
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandler = handler;
  }

  onRequest(channel: Channel, handler: RequestHandler): void {
    this.handlers.set(channel, handler);
  }

  counters(): NetCounters {
    return {
      ...this.count,
      openConnectionsIn: this.inbound.openConnections,
      openConnectionsOut: this.outbound.openConnections,
      pendingRequests: this.outbound.pendingRequests,
      pendingFrameBytesIn: this.inbound.pendingBytes,
    };
  }

  /** Stops listening and closes every connection; requests in flight reject with "closed". */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.outbound.closeAll();
      this.inbound.closeAll();
      let left = 2;
      const done = () => {
        if (--left === 0) resolve();
      };
      this.server.close(() => done());
      this.udp.close(() => done());
    });
    return this.closing;
  }

  private receivePacket(data: Buffer, rinfo: RemoteInfo): void {
    const from = joinHostPort(rinfo.address, rinfo.port);
    this.count.packetsIn++;
    this.count.packetBytesIn += data.length;
    if (data.length > this.maxPacketBytes) {
      this.count.oversizePackets++;
      this.log.warn(
        "oversize-packet-in",
        { from, packetBytes: data.length, maxPacketBytes: this.maxPacketBytes },
        `dropped a packet of ${data.length} bytes from ${from}: it exceeds the maximum packet size of ${this.maxPacketBytes} bytes`,
      );
      return;
    }
    const opened = this.guard.unwrap(data);
    if (!opened.ok) {
      if (opened.failure === "decrypt") this.count.decryptFailures++;
      else if (opened.failure === "label") this.count.labelMismatches++;
      else this.count.undecodable++;
      this.log.warn(`packet-${opened.failure}`, { from }, `dropped a packet from ${from}: it ${opened.reason}`);
      return;
    }
    try {
      this.packetHandler?.(opened.payload, from);
    } catch (err) {
      // A bug above us; one bad packet must not take the daemon down.
      this.count.handlerErrors++;
      this.log.warn("packet-handler", { from, error: String(err) }, `the packet handler threw on a packet from ${from}: ${String((err as Error)?.stack ?? err)}`);
    }
  }
}
