import { type pb } from "../proto/index.js";
import type { Clock } from "../base/clock.js";
import type { Random } from "../base/random.js";
import type { Address } from "../net/transport.js";
import type { GossipConfig } from "./config.js";

/**
 * An envelope: what gossip moves. The payload is opaque here (an encoded
 * CheckBatch for kind CHECK_BATCH); the rest is what dissemination needs to
 * deliver it once, and only while it is live.
 */
export interface Envelope {
  /** 16 random bytes. */
  id: Uint8Array;
  /** Node name of the daemon that published it. */
  origin: string;
  /** Where replies go (host:port). */
  originAddress: Address;
  /** Clock ms (Unix epoch) at the origin when it was published. */
  createdMs: number;
  /** Live from createdMs for this many ms. */
  ttlMs: number;
  kind: pb.EnvelopeKind;
  payload: Uint8Array;
  /** Operator signature (src/gossip/signing.ts); empty when unsigned. */
  signature: Uint8Array;
  /** The signer's raw 32-byte Ed25519 public key; empty when unsigned. */
  signerKey: Uint8Array;
}

export const ENVELOPE_ID_BYTES = 16;

export interface NewEnvelope {
  origin: string;
  originAddress: Address;
  kind: pb.EnvelopeKind;
  payload: Uint8Array;
  ttlMs: number;
}

/** A fresh, unsigned envelope with a random 128-bit ID, created now. */
export function createEnvelope(e: NewEnvelope, clock: Clock, random: Random): Envelope {
  return {
    id: random.bytes(ENVELOPE_ID_BYTES),
    origin: e.origin,
    originAddress: e.originAddress,
    createdMs: clock.now(),
    ttlMs: e.ttlMs,
    kind: e.kind,
    payload: e.payload,
    signature: new Uint8Array(0),
    signerKey: new Uint8Array(0),
  };
}

/** Payloads up to this size are kept in the V8 heap while their envelope is live (see keptEnvelope). */
export const HEAP_PAYLOAD_MAX_BYTES = 64 * 1024;

/**
 * The copy of an envelope the seen-history keeps for its TTL (for
 * anti-entropy), detached from the frame it arrived in. A received
 * envelope's fields are views of its frame, a malloc'd buffer; kept for
 * minutes among short-lived ones, those frames left glibc's heap at its
 * high-water mark after they were freed (heaptrack: 25.7 MiB in use at the
 * peak, 8.5 after the TTL, the heap staying at 28 MiB; docs/BENCHMARKS.md,
 * "The malloc growth, explained"). The copy keeps the ID, signature and key
 * as small typed arrays (V8 keeps those of 64 bytes or less in its own heap)
 * and a payload of up to HEAP_PAYLOAD_MAX_BYTES as a latin1 string, which
 * V8's compacting collector gives back once it dies; `payload` rebuilds the
 * bytes on each read (anti-entropy's Deliver, a relay policy's decode). A
 * bigger payload stays as it came: a big frame is an allocation of its own.
 */
export function keptEnvelope(env: Envelope): Envelope {
  const { payload } = env;
  if (payload.length > HEAP_PAYLOAD_MAX_BYTES) return env;
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("latin1");
  return {
    id: new Uint8Array(env.id),
    origin: env.origin,
    originAddress: env.originAddress,
    createdMs: env.createdMs,
    ttlMs: env.ttlMs,
    kind: env.kind,
    get payload(): Uint8Array {
      const b = Buffer.from(text, "latin1");
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    signature: new Uint8Array(env.signature),
    signerKey: new Uint8Array(env.signerKey),
  };
}

export function idToHex(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString("hex");
}

/** The ID for a 32-digit hex string, or null when it is not one. */
export function hexToId(hex: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return null;
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** Clock ms after which the envelope is expired and must never be consumed. */
export function expiresAtMs(env: Envelope): number {
  return env.createdMs + env.ttlMs;
}

export function isExpired(env: Envelope, nowMs: number): boolean {
  return nowMs > expiresAtMs(env);
}

/**
 * Why an envelope from a peer or a publisher cannot be accepted, or null when
 * it can. Expiry is checked separately (an expired envelope is dropped
 * quietly, not an error).
 */
export function envelopeProblem(env: Envelope, nowMs: number, config: GossipConfig): string | null {
  if (env.id.length !== ENVELOPE_ID_BYTES) return `envelope id has ${env.id.length} bytes, expected ${ENVELOPE_ID_BYTES}`;
  if (!env.origin) return "envelope has no origin node name";
  if (!env.originAddress) return "envelope has no origin address";
  if (!Number.isFinite(env.createdMs)) return "envelope created_ms is not a number";
  if (!(env.ttlMs > 0) || env.ttlMs > config.maxTtlMs) {
    return `envelope ttl_ms ${env.ttlMs} is outside (0, ${config.maxTtlMs}] (maxTtlMs)`;
  }
  if (env.createdMs > nowMs + config.maxClockSkewMs) {
    return `envelope from ${env.origin} was created ${Math.round(env.createdMs - nowMs)} ms in the future: check the clocks (tolerated skew ${config.maxClockSkewMs} ms)`;
  }
  return null;
}
