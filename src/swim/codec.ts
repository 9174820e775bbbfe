import type protobuf from "protobufjs/minimal.js";
import { pb, PROTOCOL_VERSION } from "../proto/index.js";
import { errorMessage } from "../base/result.js";
import type { MemberIdentity } from "./members.js";

/*
 * Wire encoding of the membership layer: UDP packets (SwimPacket) and TCP
 * push-pull (PushPull), through the generated protobuf code. Decoding is a
 * boundary: it never throws, it returns an error value the caller counts.
 */

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: "bad_version" | "undecodable"; detail: string };

/** The probe message a packet carries, if any (gossip packets carry none). */
export type Primary = { ping: pb.Ping.$Properties } | { pingReq: pb.PingReq.$Properties } | { ack: pb.Ack.$Properties } | { nack: pb.Nack.$Properties } | Record<string, never>;

/** Field 10 (`repeated Update updates`), wire type 2 (length-delimited). */
const UPDATES_TAG = (10 << 3) | 2;

export function encodeUpdate(update: pb.Update.$Properties): Uint8Array {
  return pb.Update.encode(update).finish();
}

/** Bytes an encoded update of byteLength adds to a packet: tag, length varint, body. */
export function updateCost(byteLength: number): number {
  return 1 + varintSize(byteLength) + byteLength;
}

/**
 * Starts a packet: version, primary message and member count. Its `len` is
 * the header's size so far; appendUpdates adds pre-encoded updates without
 * re-encoding them (a repeated message field is just its entries one after
 * another, each tagged and length-prefixed).
 */
export function packetWriter(primary: Primary, memberCount: number): protobuf.Writer {
  return pb.SwimPacket.encode({ version: PROTOCOL_VERSION, memberCount, ...primary });
}

export function appendUpdates(w: protobuf.Writer, updates: readonly Uint8Array[]): void {
  for (const u of updates) w.uint32(UPDATES_TAG).bytes(u);
}

export function decodePacket(data: Uint8Array): Decoded<pb.SwimPacket> {
  return decodeVersioned(data, (d) => pb.SwimPacket.decode(d));
}

export function encodePushPull(p: pb.PushPull.$Properties): Uint8Array {
  return pb.PushPull.encode({ ...p, version: PROTOCOL_VERSION }).finish();
}

/** Field 4 of PushPull (`repeated MemberState members`), length-delimited. */
const MEMBERS_TAG = (4 << 3) | 2;
/** Field 6 of MemberState (`double status_age_ms`), 64-bit. */
const STATUS_AGE_TAG = (6 << 3) | 1;

/**
 * A member's encoded fields but the status age, for the incarnation and
 * status it was encoded at. Kept per identity (immutable: a new address or
 * new tags make a new one), so while a member's incarnation and status stay
 * the same, every push-pull after the first copies its bytes instead of
 * encoding its strings and tags again. In a simulation every node's table
 * shares the identities, so one entry serves them all.
 */
const memberFields = new WeakMap<MemberIdentity, { incarnation: number; status: pb.MemberStatus; bytes: Uint8Array }>();

/**
 * Starts a push-pull: every field but the members, which appendMember adds
 * after them (protobuf allows any order; encodePushPull of the same message
 * decodes the same).
 */
export function pushPullWriter(p: Omit<pb.PushPull.$Properties, "members" | "version">): protobuf.Writer {
  return pb.PushPull.encode({ ...p, version: PROTOCOL_VERSION });
}

/** Appends one member entry: its cached fields, then its status age (left out when 0, as the generated code does). */
export function appendMember(w: protobuf.Writer, identity: MemberIdentity, incarnation: number, status: pb.MemberStatus, statusAgeMs: number): void {
  let cached = memberFields.get(identity);
  if (!cached || cached.incarnation !== incarnation || cached.status !== status) {
    const bytes = pb.MemberState.encode({ name: identity.name, address: identity.address, incarnation, status, tags: identity.tags }).finish();
    cached = { incarnation, status, bytes };
    memberFields.set(identity, cached);
  }
  const fields = cached.bytes;
  if (statusAgeMs === 0) w.uint32(MEMBERS_TAG).uint32(fields.length).raw(fields);
  else
    w.uint32(MEMBERS_TAG)
      .uint32(fields.length + 9)
      .raw(fields)
      .uint32(STATUS_AGE_TAG)
      .double(statusAgeMs);
}

export function decodePushPull(data: Uint8Array): Decoded<pb.PushPull> {
  return decodeVersioned(data, (d) => pb.PushPull.decode(d));
}

/** Runs a generated decoder, catching what it throws, then checks the version. */
function decodeVersioned<T extends { version: number }>(data: Uint8Array, decode: (d: Uint8Array) => T): Decoded<T> {
  let value: T;
  try {
    value = decode(data);
  } catch (e) {
    return { ok: false, error: "undecodable", detail: errorMessage(e) };
  }
  if (value.version !== PROTOCOL_VERSION) {
    return { ok: false, error: "bad_version", detail: `protocol version ${value.version}, this node speaks ${PROTOCOL_VERSION}` };
  }
  return { ok: true, value };
}

/**
 * The tags of a member without any: one frozen object shared by every record
 * (an empty object per member record was 56 bytes of each entry of every
 * node's member table). Records are never mutated in place: new tags replace
 * the object.
 */
export const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A copy of decoded tags as a plain object (decoded maps must not be
 * mutated or kept), or NO_TAGS when there are none. intern, when given,
 * shares the keys and values (see base/intern.ts).
 */
export function copyTags(tags: { [k: string]: string } | null | undefined, intern?: (s: string) => string): Readonly<Record<string, string>> {
  if (!tags) return NO_TAGS;
  let out: Record<string, string> | null = null;
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v !== "string") continue;
    out ??= {};
    if (intern) out[intern(k)] = intern(v);
    else out[k] = v;
  }
  return out ?? NO_TAGS;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}
