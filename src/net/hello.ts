import { pb, PROTOCOL_VERSION } from "../proto/index.js";
import { splitHostPort } from "./address.js";
import type { PayloadGuard } from "./guard.js";
import { errorMessage } from "../base/result.js";

/*
 * The discovery hello (zero-config discovery, src/net/discovery.ts): what a
 * node announces to the -discover-group so that nodes of its cluster on the
 * same segment can join it. On the wire it is a DiscoveryHello
 * (gossipcheck.proto) wrapped by the node's PayloadGuard exactly like a SWIM
 * packet: sealed with the primary key and the label bound as authenticated
 * data, or (no key, loopback only) behind the plaintext label header.
 *
 * The seal also binds HELLO_DOMAIN (authenticated, never sent), so a hello
 * cannot be opened as a SWIM packet or a frame, nor one of those as a hello,
 * even though they share the key and label.
 *
 * decodeHello never throws: the bytes come from anyone on the segment.
 */

/** Largest hello accepted or sent, on the wire (bytes). A real one is about 100 bytes sealed. */
export const MAX_HELLO_BYTES = 512;
/** Random bytes of a hello's nonce. */
export const HELLO_NONCE_BYTES = 16;
/** Bound into the seal of every hello (not sent): domain separation from SWIM packets and frames. */
const HELLO_DOMAIN = Buffer.from("gossipcheck discovery hello", "utf8");

export interface Hello {
  label: string;
  /** The sender's node name. */
  node: string;
  /** host:port to join the sender through (its cluster address). */
  address: string;
  nonce: Uint8Array;
  /** When it was sent (ms since the epoch, the sender's clock). */
  sentMs: number;
}

/** Why a datagram was not a hello of our cluster: the counter it goes to. */
export type HelloRefusal = "oversize" | "unopened" | "label" | "malformed" | "version";

export type DecodedHello = { ok: true; hello: Hello } | { ok: false; refusal: HelloRefusal; reason: string };

/** The datagram for a hello; throws (a bug) when it would exceed MAX_HELLO_BYTES. */
export function encodeHello(guard: PayloadGuard, h: Hello): Buffer {
  const payload = pb.DiscoveryHello.encode({ version: PROTOCOL_VERSION, label: h.label, node: h.node, address: h.address, nonce: h.nonce, sentMs: h.sentMs }).finish();
  const wire = guard.wrap(payload, HELLO_DOMAIN);
  if (wire.length > MAX_HELLO_BYTES) throw new Error(`discovery hello of ${wire.length} bytes exceeds ${MAX_HELLO_BYTES}: node name or address too long`);
  return wire;
}

/** Opens and validates a datagram; anything but a well-formed hello of our key and label comes back as a refusal. */
export function decodeHello(guard: PayloadGuard, data: Buffer): DecodedHello {
  if (data.length > MAX_HELLO_BYTES) return refuse("oversize", `${data.length} bytes, more than ${MAX_HELLO_BYTES}`);
  const opened = guard.unwrap(data, HELLO_DOMAIN);
  if (!opened.ok) return refuse(opened.failure === "label" ? "label" : "unopened", opened.reason);
  let m: pb.DiscoveryHello;
  try {
    m = pb.DiscoveryHello.decode(opened.payload);
  } catch (err) {
    return refuse("malformed", `does not decode as a hello (${errorMessage(err)})`);
  }
  if (m.version !== PROTOCOL_VERSION) return refuse("version", `protocol version ${m.version}, this node speaks ${PROTOCOL_VERSION}`);
  // Under a key the seal already bound the label; without one this is the check that counts.
  if (m.label !== guard.label) return refuse("label", `carries cluster label "${m.label.slice(0, 64)}", this node's is "${guard.label}"`);
  if (!/^[\x21-\x7e]+$/.test(m.node)) return refuse("malformed", "no node name, or one with spaces or unprintable characters");
  try {
    const { port } = splitHostPort(m.address);
    if (port === 0) return refuse("malformed", `address ${m.address} has port 0`);
  } catch {
    return refuse("malformed", `address "${m.address.slice(0, 64)}" is not host:port`);
  }
  if (m.nonce.length !== HELLO_NONCE_BYTES) return refuse("malformed", `nonce of ${m.nonce.length} bytes, expected ${HELLO_NONCE_BYTES}`);
  if (!Number.isFinite(m.sentMs)) return refuse("malformed", "no send time");
  return { ok: true, hello: { label: m.label, node: m.node, address: m.address, nonce: m.nonce, sentMs: m.sentMs } };
}

function refuse(refusal: HelloRefusal, reason: string): DecodedHello {
  return { ok: false, refusal, reason };
}
