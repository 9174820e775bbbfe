import type { VirtualClock } from "../base/clock.js";
import type { Random } from "../base/random.js";
import { TransportError, type Address, type Channel, type KnownHandler, type PacketHandler, type RequestHandler, type Transport } from "./transport.js";
import { errorMessage } from "../base/result.js";

/**
 * An in-memory network for simulations (memberlist's MockTransport is the
 * model): every delivery is scheduled on a VirtualClock with a latency, and
 * the network can drop packets and frames at random, partition groups of
 * addresses, and silence nodes (a silenced node neither sends nor receives, as
 * after kill -9). Everything random comes from the injected Random, so a run
 * is repeatable from its seed.
 */
export interface MemoryNetworkOptions {
  clock: VirtualClock;
  random: Random;
  /** One-way latency in ms (default 1). */
  latencyMs?: number;
  /** Extra uniform jitter in ms added to each delivery (default 0). */
  jitterMs?: number;
  /** Probability that a UDP packet is lost (0..1). */
  packetLoss?: number;
  /** Probability that a request (TCP exchange) fails as a broken connection. */
  frameLoss?: number;
  /** Largest request or reply body in bytes (default 16 MiB). */
  maxFrameBytes?: number;
}

export class MemoryNetwork {
  readonly clock: VirtualClock;
  readonly random: Random;
  latencyMs: number;
  jitterMs: number;
  packetLoss: number;
  frameLoss: number;
  maxFrameBytes: number;
  private nodes = new Map<Address, MemoryTransport>();
  private silenced = new Set<Address>();
  /** address -> partition group id; addresses in different groups cannot talk. */
  private groups = new Map<Address, number>();
  readonly stats = { packets: 0, packetsDropped: 0, packetBytes: 0, requests: 0, requestsFailed: 0, messages: 0, messagesLost: 0, frameBytes: 0 };

  constructor(opts: MemoryNetworkOptions) {
    this.clock = opts.clock;
    this.random = opts.random;
    this.latencyMs = opts.latencyMs ?? 1;
    this.jitterMs = opts.jitterMs ?? 0;
    this.packetLoss = opts.packetLoss ?? 0;
    this.frameLoss = opts.frameLoss ?? 0;
    this.maxFrameBytes = opts.maxFrameBytes ?? 16 * 1024 * 1024;
  }

  /** A transport bound at address (replacing a closed one, as after a restart). */
  transport(address: Address): MemoryTransport {
    const existing = this.nodes.get(address);
    if (existing && !existing.closed) throw new Error(`memory network: address ${address} is in use`);
    const t = new MemoryTransport(this, address);
    this.nodes.set(address, t);
    this.silenced.delete(address);
    return t;
  }

  /** The node at address stops sending and receiving (it looks crashed). */
  silence(address: Address): void {
    this.silenced.add(address);
  }

  unsilence(address: Address): void {
    this.silenced.delete(address);
  }

  /** Splits the network: each list is a group; addresses in no list form group 0. */
  partition(...groups: Address[][]): void {
    this.groups.clear();
    groups.forEach((g, i) => g.forEach((a) => this.groups.set(a, i + 1)));
  }

  heal(): void {
    this.groups.clear();
  }

  /** Whether a message from a to b would pass (ignoring random loss). */
  connected(a: Address, b: Address): boolean {
    if (this.silenced.has(a) || this.silenced.has(b)) return false;
    return (this.groups.get(a) ?? 0) === (this.groups.get(b) ?? 0);
  }

  delay(): number {
    return this.latencyMs + (this.jitterMs > 0 ? this.random.float() * this.jitterMs : 0);
  }

  /** @internal */
  deliverPacket(from: Address, to: Address, data: Uint8Array): void {
    this.stats.packets++;
    this.stats.packetBytes += data.length;
    if (!this.connected(from, to) || (this.packetLoss > 0 && this.random.float() < this.packetLoss)) {
      this.stats.packetsDropped++;
      return;
    }
    const copy = data.slice();
    this.clock.setTimeout(() => {
      const dst = this.nodes.get(to);
      if (!dst || dst.closed || !this.connected(from, to)) return;
      dst.receivePacket(copy, from);
    }, this.delay());
  }

  /**
   * @internal A one-way message: resolves at once when it leaves (it may
   * still be lost on the way, as a TCP write into a connection that then
   * breaks); rejects after a round trip when the peer cannot be reached.
   */
  deliverMessage(from: Address, to: Address, channel: Channel, body: Uint8Array, dedupKey?: Uint8Array): Promise<void> {
    this.stats.messages++;
    this.stats.frameBytes += body.length;
    if (body.length > this.maxFrameBytes) {
      this.stats.messagesLost++;
      return Promise.reject(new TransportError("too_large", `frame of ${body.length} bytes to ${to} exceeds the maximum of ${this.maxFrameBytes} bytes`));
    }
    if (!this.connected(from, to)) {
      this.stats.messagesLost++;
      return new Promise((_, reject) => this.clock.setTimeout(() => reject(new TransportError("unreachable", `connection to ${to} failed`)), this.delay()));
    }
    if (this.frameLoss > 0 && this.random.float() < this.frameLoss) {
      this.stats.messagesLost++;
      return Promise.resolve();
    }
    const copy = body.slice();
    this.clock.setTimeout(() => {
      const dst = this.nodes.get(to);
      if (!dst || dst.closed || !this.connected(from, to)) {
        this.stats.messagesLost++;
        return;
      }
      dst.receiveMessage(channel, copy, from, dedupKey).catch(() => undefined);
    }, this.delay());
    return Promise.resolve();
  }

  /** @internal */
  exchange(from: Address, to: Address, channel: Channel, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    this.stats.requests++;
    this.stats.frameBytes += body.length;
    return new Promise<Uint8Array>((resolve, reject) => {
      let settled = false;
      const settle = (err: TransportError | null, reply?: Uint8Array) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        if (err) {
          this.stats.requestsFailed++;
          reject(err);
        } else resolve(reply!);
      };
      const timer = this.clock.setTimeout(() => settle(new TransportError("timeout", `request to ${to} timed out after ${timeoutMs} ms`)), timeoutMs);
      if (body.length > this.maxFrameBytes) {
        settle(new TransportError("too_large", `frame of ${body.length} bytes to ${to} exceeds the maximum of ${this.maxFrameBytes} bytes`));
        return;
      }
      const broken = () => new TransportError("unreachable", `connection to ${to} failed`);
      if (!this.connected(from, to)) {
        // A refused or black-holed connection: fail after one round trip.
        this.clock.setTimeout(() => settle(broken()), this.delay());
        return;
      }
      if (this.frameLoss > 0 && this.random.float() < this.frameLoss) {
        this.clock.setTimeout(() => settle(broken()), this.delay());
        return;
      }
      const copy = body.slice();
      this.clock.setTimeout(() => {
        const dst = this.nodes.get(to);
        if (!dst || dst.closed || !this.connected(from, to)) {
          settle(broken());
          return;
        }
        dst.receiveRequest(channel, copy, from).then(
          (reply) => {
            this.stats.frameBytes += reply.length;
            this.clock.setTimeout(() => {
              if (!this.connected(from, to)) settle(broken());
              else settle(null, reply);
            }, this.delay());
          },
          (err: unknown) => {
            this.clock.setTimeout(() => {
              settle(err instanceof TransportError ? err : new TransportError("remote", `${to}: ${errorMessage(err)}`));
            }, this.delay());
          },
        );
      }, this.delay());
    });
  }
}

export class MemoryTransport implements Transport {
  closed = false;
  private packetHandler: PacketHandler | null = null;
  private requestHandlers = new Map<Channel, RequestHandler>();
  private knownHandlers = new Map<Channel, KnownHandler>();
  private readonly count = { packetsIn: 0, packetsOut: 0, requestsIn: 0, requestsOut: 0, messagesOut: 0, knownSkipped: 0 };

  constructor(
    private readonly net: MemoryNetwork,
    readonly address: Address,
  ) {}

  sendPacket(to: Address, data: Uint8Array): void {
    if (this.closed) return;
    this.count.packetsOut++;
    this.net.deliverPacket(this.address, to, data);
  }

  request(to: Address, channel: Channel, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new TransportError("closed", "transport is closed"));
    this.count.requestsOut++;
    return this.net.exchange(this.address, to, channel, body, timeoutMs);
  }

  send(to: Address, channel: Channel, body: Uint8Array): Promise<void> {
    return this.sendAll([to], channel, body)[0]!;
  }

  sendAll(to: readonly Address[], channel: Channel, body: Uint8Array, dedupKey?: Uint8Array): Promise<void>[] {
    return to.map((addr) => {
      if (this.closed) return Promise.reject(new TransportError("closed", "transport is closed"));
      this.count.messagesOut++;
      return this.net.deliverMessage(this.address, addr, channel, body, dedupKey?.slice());
    });
  }

  onKnown(channel: Channel, known: KnownHandler): void {
    this.knownHandlers.set(channel, known);
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandler = handler;
  }

  onRequest(channel: Channel, handler: RequestHandler): void {
    this.requestHandlers.set(channel, handler);
  }

  counters(): Record<string, number> {
    return { ...this.count };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** @internal */
  receivePacket(data: Uint8Array, from: Address): void {
    this.count.packetsIn++;
    this.packetHandler?.(data, from);
  }

  /** @internal A one-way message: dropped unopened when its dedup key is known here. */
  async receiveMessage(channel: Channel, body: Uint8Array, from: Address, dedupKey: Uint8Array | undefined): Promise<void> {
    if (dedupKey && this.knownHandlers.get(channel)?.(dedupKey)) {
      this.count.knownSkipped++;
      return;
    }
    await this.receiveRequest(channel, body, from);
  }

  /** @internal */
  async receiveRequest(channel: Channel, body: Uint8Array, from: Address): Promise<Uint8Array> {
    this.count.requestsIn++;
    const h = this.requestHandlers.get(channel);
    if (!h) throw new TransportError("remote", `${this.address}: no handler for channel ${channel}`);
    return await h(body, from);
  }
}
