import type { Clock, Timer } from "../base/clock.js";
import { nullLogger, RateLimitedLog, type Logger } from "../base/logger.js";
import type { Random } from "../base/random.js";
import { errorMessage } from "../base/result.js";
import type { PayloadGuard } from "./guard.js";
import { decodeHello, encodeHello, HELLO_NONCE_BYTES, type HelloRefusal } from "./hello.js";
import type { Address } from "./transport.js";

/*
 * Zero-config discovery (-discover): a node announces itself with hello
 * datagrams (hello.ts) to a multicast group or broadcast address on its
 * segment, and joins, through the normal join path, the nodes of its cluster
 * it hears. Announcements are one-way: a hello is never answered, so a
 * forged or reflected hello costs nothing to amplify, and a node of another
 * cluster (another key or label) learns nothing from ours.
 *
 * Schedule: a hello at start, then every fastIntervalMs for fastPhaseMs and
 * whenever this node is alone; otherwise every slowIntervalMs. Each interval
 * is jittered so nodes started together do not send in lockstep.
 *
 * What a flood of hellos can cost (each bound is a field of DiscoveryConfig):
 * every datagram is opened at most once (bytes capped at MAX_HELLO_BYTES);
 * nonces remembered are capped; a join is attempted at most once per
 * peerRetryMs per address, at most maxPendingJoins at a time, and peers
 * remembered are capped. Whatever is refused is counted by reason.
 *
 * The socket, clock and randomness are injected: the unit tests drive it
 * with a fake socket and a virtual clock; the daemon gives it the UDP socket
 * of discovery_socket.ts.
 */

/** Where hellos go and come from: the group (or broadcast address) socket. */
export interface DiscoverySocket {
  /** Sends one datagram to the group; never throws (errors are the socket's to report). */
  send(data: Buffer): void;
  /** Registers the handler of every datagram received on the group. */
  onMessage(handler: (data: Buffer) => void): void;
  close(): Promise<void>;
}

export interface DiscoveryConfig {
  /** Between hellos while fast (ms): the first fastPhaseMs, and while alone. 5 s finds a new node within seconds at one datagram per 5 s. */
  fastIntervalMs: number;
  /** How long after start hellos stay fast (ms). */
  fastPhaseMs: number;
  /**
   * Between hellos otherwise (ms). A node in a cluster still announces itself
   * at this low rate (one datagram of about 100 bytes a minute), so two halves of a
   * segment that came up apart (a switch restarted, both sides formed their
   * own cluster) find each other within a minute.
   */
  slowIntervalMs: number;
  /** Each interval is multiplied by a random factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
  /** A hello sent more than this far from our clock (ms, either way) is stale and dropped: the bound on how long a captured hello can be replayed. */
  maxSkewMs: number;
  /** Nonces remembered to drop replays within the skew window (oldest forgotten first past the cap). */
  maxNonces: number;
  /** At most one join attempt per address within this (ms). */
  peerRetryMs: number;
  /** Join attempts in flight at once; hellos heard while at the cap are dropped (rate_limited). */
  maxPendingJoins: number;
  /** Addresses whose last join attempt is remembered (for peerRetryMs); past the cap, new addresses are dropped until old ones expire. */
  maxPeers: number;
}

export function defaultDiscoveryConfig(): DiscoveryConfig {
  return {
    fastIntervalMs: 5_000,
    fastPhaseMs: 60_000,
    slowIntervalMs: 60_000,
    jitter: 0.2,
    maxSkewMs: 60_000,
    maxNonces: 4096,
    peerRetryMs: 30_000,
    maxPendingJoins: 4,
    maxPeers: 1024,
  };
}

/** Running totals (src/daemon exposes them as gossipcheck_discovery_* metrics). */
export interface DiscoveryCounters {
  hellosSent: number;
  hellosReceived: number;
  /** Hellos heard and dropped, by reason (HelloRefusal, or what the receiver decided). */
  dropped: Record<HelloDrop, number>;
  joinsStarted: number;
  joinsSucceeded: number;
  joinsFailed: number;
}

/**
 * self: our own hello (multicast loopback); known: from a member already
 * running in our cluster; replayed: a nonce seen within the skew window;
 * stale: sent too far from our clock; rate_limited: a join to that address
 * was attempted recently, or too many are in flight.
 */
export type HelloDrop = HelloRefusal | "self" | "known" | "replayed" | "stale" | "rate_limited";
export const HELLO_DROPS: readonly HelloDrop[] = ["oversize", "unopened", "label", "malformed", "version", "self", "known", "replayed", "stale", "rate_limited"];

export interface DiscoveryDeps {
  socket: DiscoverySocket;
  clock: Clock;
  random: Random;
  /** The node's guard: the same key and label as its SWIM packets. */
  guard: PayloadGuard;
  /** This node: its name and the address others join it through. */
  name: string;
  address: Address;
  config?: DiscoveryConfig;
  /** Whether this node knows no other running member (hellos go fast again). */
  alone: () => boolean;
  /** Whether a member by this name at this address is already running in our member list. */
  known: (name: string, address: Address) => boolean;
  /** The normal join path, one attempt (no retries of its own). */
  join: (address: Address) => Promise<unknown>;
  logger?: Logger;
}

export class Discovery {
  private readonly config: DiscoveryConfig;
  private readonly log: RateLimitedLog;
  private readonly count: DiscoveryCounters = {
    hellosSent: 0,
    hellosReceived: 0,
    dropped: Object.fromEntries(HELLO_DROPS.map((d) => [d, 0])) as Record<HelloDrop, number>,
    joinsStarted: 0,
    joinsSucceeded: 0,
    joinsFailed: 0,
  };
  /** nonce (hex) -> when it may be forgotten (clock ms); inserted in time order with one lifetime, so the oldest is first. */
  private readonly nonces = new Map<string, number>();
  /** address -> when its last join attempt started (clock ms); re-inserted on each attempt, so the oldest is first. */
  private readonly attempts = new Map<Address, number>();
  private pending = 0;
  private startedMs = 0;
  private timer: Timer | null = null;
  private stopped = false;

  constructor(private readonly d: DiscoveryDeps) {
    this.config = d.config ?? defaultDiscoveryConfig();
    this.log = new RateLimitedLog(d.logger ?? nullLogger, () => d.clock.now());
    d.socket.onMessage((data) => this.receive(data));
  }

  /** Sends the first hello now and keeps announcing on the schedule. */
  start(): void {
    this.startedMs = this.d.clock.now();
    this.announce();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.d.socket.close();
  }

  counters(): DiscoveryCounters {
    return { ...this.count, dropped: { ...this.count.dropped } };
  }

  /** The delay before the next hello (ms): fast while young or alone, slow otherwise, jittered. */
  nextIntervalMs(): number {
    const c = this.config;
    const fast = this.d.clock.now() - this.startedMs < c.fastPhaseMs || this.d.alone();
    const base = fast ? c.fastIntervalMs : c.slowIntervalMs;
    return Math.round(base * (1 - c.jitter + 2 * c.jitter * this.d.random.float()));
  }

  private announce(): void {
    if (this.stopped) return;
    const hello = encodeHello(this.d.guard, {
      label: this.d.guard.label,
      node: this.d.name,
      address: this.d.address,
      nonce: this.d.random.bytes(HELLO_NONCE_BYTES),
      sentMs: this.d.clock.now(),
    });
    this.d.socket.send(hello);
    this.count.hellosSent++;
    this.timer = this.d.clock.setTimeout(() => this.announce(), this.nextIntervalMs());
  }

  /** One datagram from the group. Never answers, never throws. */
  receive(data: Buffer): void {
    if (this.stopped) return;
    this.count.hellosReceived++;
    const decoded = decodeHello(this.d.guard, data);
    if (!decoded.ok) {
      this.drop(decoded.refusal);
      // Hellos of other clusters (another key or label) are expected on a shared segment: counted, not logged.
      if (decoded.refusal !== "unopened" && decoded.refusal !== "label") this.log.warn(`hello-${decoded.refusal}`, { reason: decoded.reason }, `discovery: dropped a hello: ${decoded.reason}`);
      return;
    }
    const h = decoded.hello;
    if (h.node === this.d.name || h.address === this.d.address) return this.drop("self");
    const now = this.d.clock.now();
    if (Math.abs(now - h.sentMs) > this.config.maxSkewMs) {
      this.log.warn(
        "hello-stale",
        { peer: h.node, address: h.address, skewMs: Math.round(h.sentMs - now) },
        `discovery: dropped a hello from ${h.node} sent ${Math.round((h.sentMs - now) / 1000)} s from this node's clock (a replay, or clocks out of step)`,
      );
      return this.drop("stale");
    }
    if (!this.rememberNonce(Buffer.from(h.nonce).toString("hex"), now)) return this.drop("replayed");
    if (this.d.known(h.node, h.address)) return this.drop("known");
    if (!this.mayAttempt(h.address, now)) return this.drop("rate_limited");
    this.attemptJoin(h.node, h.address);
  }

  /** False when the nonce was seen within the skew window (a replay). */
  private rememberNonce(nonce: string, now: number): boolean {
    for (const [n, until] of this.nonces) {
      if (until > now) break;
      this.nonces.delete(n);
    }
    if (this.nonces.has(nonce)) return false;
    if (this.nonces.size >= this.config.maxNonces) this.nonces.delete(this.nonces.keys().next().value!);
    // A hello is accepted up to maxSkewMs either side of now: remember its nonce for both halves.
    this.nonces.set(nonce, now + 2 * this.config.maxSkewMs);
    return true;
  }

  private mayAttempt(address: Address, now: number): boolean {
    const { peerRetryMs, maxPendingJoins, maxPeers } = this.config;
    for (const [a, at] of this.attempts) {
      if (now - at < peerRetryMs) break;
      this.attempts.delete(a);
    }
    if (this.attempts.has(address) || this.pending >= maxPendingJoins || this.attempts.size >= maxPeers) return false;
    this.attempts.set(address, now);
    return true;
  }

  private attemptJoin(node: string, address: Address): void {
    this.pending++;
    this.count.joinsStarted++;
    (this.d.logger ?? nullLogger).info({ peer: node, address }, `discovery: heard ${node} at ${address}, joining it`);
    this.d
      .join(address)
      .then(
        () => void this.count.joinsSucceeded++,
        (err: unknown) => {
          this.count.joinsFailed++;
          this.log.warn("join-failed", { peer: node, address, err: errorMessage(err) }, `discovery: joining ${node} at ${address} failed: ${errorMessage(err)}`);
        },
      )
      .finally(() => this.pending--);
  }

  private drop(reason: HelloDrop): void {
    this.count.dropped[reason]++;
  }
}
