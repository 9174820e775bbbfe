import { pb, PROTOCOL_VERSION } from "../proto/index.js";
import type { Envelope } from "./envelope.js";
import { type Result, errorMessage } from "../base/result.js";

/**
 * Wire codec of the gossip channel: the only place that turns GossipMessage
 * and LiveIds into bytes and back. Decoding is a boundary: it returns an
 * error value for garbage, a wrong version or a message without a body, and
 * never throws.
 */
export type GossipMessage =
  | { kind: "push"; envelope: Envelope }
  | { kind: "advertise"; from: string; ids: Uint8Array[]; digest?: LiveDigest; window?: LiveWindow }
  | { kind: "live-ids"; window?: LiveWindow }
  | { kind: "want"; ids: Uint8Array[] }
  | { kind: "deliver"; envelopes: Envelope[] }
  | { kind: "reply"; reply: pb.NodeReply }
  | { kind: "ok" };

/** A digest of a live set (see liveDigest in anti_entropy.ts): the XOR of its IDs, and how many there are. */
export interface LiveDigest {
  xor: Uint8Array;
  count: number;
}

/**
 * Which live envelopes a digest or an ID list covers, by the origins'
 * timestamps (see Advertise in gossipcheck.proto): created at or before
 * createdUntilMs and expiring after expiresAfterMs.
 */
export interface LiveWindow {
  createdUntilMs: number;
  expiresAfterMs: number;
}

export function encodeGossip(m: GossipMessage): Uint8Array {
  const v = { version: PROTOCOL_VERSION };
  switch (m.kind) {
    case "push":
      return pb.GossipMessage.encode({ ...v, push: m.envelope }).finish();
    case "advertise":
      return pb.GossipMessage.encode({ ...v, advertise: { from: m.from, ids: m.ids, digest: m.digest?.xor, count: m.digest?.count, ...windowFields(m.window) } }).finish();
    case "live-ids":
      return pb.GossipMessage.encode({ ...v, liveIds: windowFields(m.window) }).finish();
    case "want":
      return pb.GossipMessage.encode({ ...v, want: { ids: m.ids } }).finish();
    case "deliver":
      return pb.GossipMessage.encode({ ...v, deliver: { envelopes: m.envelopes } }).finish();
    case "reply":
      return pb.GossipMessage.encode({ ...v, reply: m.reply }).finish();
    case "ok":
      return pb.GossipMessage.encode({ ...v, ok: {} }).finish();
  }
}

export function decodeGossip(bytes: Uint8Array): Result<GossipMessage> {
  let msg: pb.GossipMessage;
  try {
    msg = pb.GossipMessage.decode(bytes);
  } catch (err) {
    return { ok: false, error: `undecodable gossip message (${errorMessage(err)})` };
  }
  if (msg.version !== PROTOCOL_VERSION) {
    return {
      ok: false,
      error: `gossip message has protocol version ${msg.version}, this node speaks ${PROTOCOL_VERSION}: run the same gossipcheck version on every node`,
    };
  }
  switch (msg.body) {
    case "push":
      return { ok: true, value: { kind: "push", envelope: toEnvelope(msg.push!) } };
    case "advertise": {
      const a = msg.advertise!;
      const digest = a.digest && a.digest.length > 0 ? { xor: a.digest, count: a.count ?? 0 } : undefined;
      const window = toWindow(a);
      return { ok: true, value: { kind: "advertise", from: a.from ?? "", ids: a.ids ?? [], ...(digest && { digest }), ...(window && { window }) } };
    }
    case "liveIds": {
      const window = toWindow(msg.liveIds!);
      return { ok: true, value: { kind: "live-ids", ...(window && { window }) } };
    }
    case "want":
      return { ok: true, value: { kind: "want", ids: msg.want!.ids ?? [] } };
    case "deliver":
      return { ok: true, value: { kind: "deliver", envelopes: (msg.deliver!.envelopes ?? []).map(toEnvelope) } };
    case "reply":
      return { ok: true, value: { kind: "reply", reply: msg.reply as pb.NodeReply } };
    case "ok":
      return { ok: true, value: { kind: "ok" } };
    default:
      return { ok: false, error: "gossip message has no body" };
  }
}

/** PushPull.user_state: the IDs of this node's live envelopes. */
/** A push-pull state: live envelope IDs, and the standing envelopes handed over whatever their TTL. */
export interface LiveState {
  ids: Uint8Array[];
  standing: Envelope[];
}

export function encodeLiveIds(ids: Uint8Array[], standing: Envelope[] = []): Uint8Array {
  return pb.LiveIds.encode({ ids, standing }).finish();
}

export function decodeLiveIds(bytes: Uint8Array): Result<LiveState> {
  try {
    const m = pb.LiveIds.decode(bytes);
    return { ok: true, value: { ids: m.ids ?? [], standing: (m.standing ?? []).map(toEnvelope) } };
  } catch (err) {
    return { ok: false, error: `undecodable live-ID state (${errorMessage(err)})` };
  }
}

function windowFields(w: LiveWindow | undefined): { windowCreatedUntilMs?: number; windowExpiresAfterMs?: number } {
  return w ? { windowCreatedUntilMs: w.createdUntilMs, windowExpiresAfterMs: w.expiresAfterMs } : {};
}

/** A window from the wire; none when both bounds are 0 (a node from before windows) or either is not a finite number. */
function toWindow(m: { windowCreatedUntilMs?: number | null; windowExpiresAfterMs?: number | null }): LiveWindow | undefined {
  const createdUntilMs = m.windowCreatedUntilMs ?? 0;
  const expiresAfterMs = m.windowExpiresAfterMs ?? 0;
  if ((createdUntilMs === 0 && expiresAfterMs === 0) || !Number.isFinite(createdUntilMs) || !Number.isFinite(expiresAfterMs)) return undefined;
  return { createdUntilMs, expiresAfterMs };
}

/** Encoded size of an envelope alone (bytes), for frame-size limits. */
export function envelopeBytes(env: Envelope): number {
  return pb.Envelope.encode(env).len;
}

// Decoded messages carry proto3 defaults for absent fields; copy them into a
// plain Envelope so callers never see the generated class.
function toEnvelope(e: pb.Envelope.$Properties): Envelope {
  return {
    id: e.id ?? new Uint8Array(0),
    origin: e.origin ?? "",
    originAddress: e.originAddress ?? "",
    createdMs: e.createdMs ?? 0,
    ttlMs: e.ttlMs ?? 0,
    kind: e.kind ?? pb.EnvelopeKind.KIND_UNSPECIFIED,
    payload: e.payload ?? new Uint8Array(0),
    signature: e.signature ?? new Uint8Array(0),
    signerKey: e.signerKey ?? new Uint8Array(0),
  };
}
