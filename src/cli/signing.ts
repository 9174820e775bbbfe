import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { CheckBatch } from "../checks/codec.js";
import { encodeCheckBatch } from "../checks/codec.js";
import type { Envelope } from "../gossip/envelope.js";
import { generateSigningKeyPair, parsePrivateKey, signEnvelope } from "../gossip/signing.js";
import { pb } from "../proto/index.js";
import type { DaemonInfo, KeyOpName, SignedEnvelopeBody } from "../control/api_types.js";
import type { ControlClient } from "./client.js";
import { CliError } from "./errors.js";
import { errorMessage } from "../base/result.js";
import { encodeKeyOp } from "../control/key_op.js";
import { type ScheduleMessage, encodeSchedule } from "../control/schedule_codec.js";

/*
 * Operator signatures on the gcheck side (`check -sign-key F`, `keys ...
 * -sign-key F`, `keygen -signing`). gcheck builds the very envelope the
 * origin daemon will publish (ID, origin, times, encoded batch or key
 * operation) and signs it with src/gossip/signing.ts,
 * so daemons started with -trusted-keys can check who sent it. Loaded only
 * when signing is asked for: it pulls in protobufjs.
 */

export async function signBatch(client: ControlClient, keyFile: string, batch: CheckBatch, ttlMs: number): Promise<SignedEnvelopeBody> {
  return signFor(client, keyFile, pb.EnvelopeKind.CHECK_BATCH, encodeCheckBatch(batch), ttlMs);
}

/** A key operation (gcheck keys -sign-key) as its KEY_OP envelope, signed; it lives as long as the operator waits. */
export async function signKeyOp(client: ControlClient, keyFile: string, op: KeyOpName, key: Uint8Array | undefined, ttlMs: number): Promise<SignedEnvelopeBody> {
  return signFor(client, keyFile, pb.EnvelopeKind.KEY_OP, encodeKeyOp(op, key), ttlMs);
}

/**
 * A schedule set or removed (gcheck schedule set|remove -sign-key) as its
 * SCHEDULE envelope, signed. The envelope stands (it is handed to members
 * that join later); its TTL is the longest the API takes, and which version
 * wins is the payload's version, not the envelope's age.
 */
export async function signSchedule(client: ControlClient, keyFile: string, schedule: ScheduleMessage): Promise<SignedEnvelopeBody> {
  return signFor(client, keyFile, pb.EnvelopeKind.SCHEDULE, encodeSchedule(schedule), SCHEDULE_ENVELOPE_TTL_MS);
}

/** The TTL a signed SCHEDULE envelope carries (ms): a day, the most the control API accepts. */
export const SCHEDULE_ENVELOPE_TTL_MS = 24 * 3_600_000;

/** Builds the envelope the origin daemon will publish (its name and address are part of what is signed) and signs it. */
async function signFor(client: ControlClient, keyFile: string, kind: pb.EnvelopeKind, payload: Uint8Array, ttlMs: number): Promise<SignedEnvelopeBody> {
  let pem: string;
  try {
    pem = await readFile(keyFile, "utf8");
  } catch (e) {
    throw new CliError(`-sign-key ${keyFile}: cannot read it (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}): make a key pair with gcheck keygen -signing -out PREFIX`);
  }
  const key = parsePrivateKey(pem, `-sign-key ${keyFile}`);
  if (!key.ok) throw new CliError(key.error);
  const info = await client.getJson<DaemonInfo>("/v1/info");
  const empty = new Uint8Array(0);
  const env: Envelope = {
    id: new Uint8Array(randomBytes(16)),
    origin: info.name,
    originAddress: info.address,
    createdMs: Date.now(),
    ttlMs,
    kind,
    payload,
    signature: empty,
    signerKey: empty,
  };
  const signed = signEnvelope(env, key.value);
  const b64 = (u: Uint8Array) => Buffer.from(u).toString("base64");
  return {
    id: Buffer.from(signed.id).toString("hex"),
    origin: signed.origin,
    originAddress: signed.originAddress,
    createdMs: signed.createdMs,
    ttlMs: signed.ttlMs,
    payload: b64(signed.payload),
    signature: b64(signed.signature),
    signerKey: b64(signed.signerKey),
  };
}

/** A new Ed25519 pair as PEM: the private key for -sign-key, the public one for each daemon's -trusted-keys dir. */
export function newSigningKeyPair(): { privateKey: string; publicKey: string } {
  return generateSigningKeyPair();
}
