import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Envelope } from "./envelope.js";
import { type Result, errorMessage } from "../base/result.js";

/**
 * Operator signatures on envelopes (Ed25519, node:crypto only).
 *
 * Key formats: key pairs are PEM (PKCS#8 private, SPKI public), the format
 * openssl and every ops tool reads; an envelope carries the signer's raw
 * 32-byte public key, and a trusted-keys file may also hold that raw key as
 * one line of base64.
 *
 * What is signed: a canonical byte string built here field by field (not the
 * protobuf encoding, whose byte layout is not a contract): a domain tag, then
 * id, origin, origin address, created ms, TTL ms, kind and payload. The
 * payload of a check batch is the encoded CheckBatch, so targeting, dry-run
 * and every check are covered. Signing the ID is what stops replays: a signed
 * batch re-wrapped under a fresh ID (to slip past the seen-history) no longer
 * verifies.
 */
export interface SigningKeyPair {
  /** SPKI PEM: goes in each daemon's -trusted-keys dir. */
  publicKey: string;
  /** PKCS#8 PEM: stays with the operator (gcheck check -sign-key). */
  privateKey: string;
}

export type Verdict = "ok" | "unsigned" | "bad signature" | "untrusted key";

/** Trusted signer keys by base64 of the raw 32-byte key, with the file each came from. */
export type TrustedKeys = ReadonlyMap<string, { key: KeyObject; file: string }>;

const DOMAIN = "gossipcheck envelope signature v1\n";
const RAW_KEY_BYTES = 32;

export function generateSigningKeyPair(): SigningKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return {
    publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** Parses an Ed25519 private key (PEM); `source` names it in the error (a file path). */
export function parsePrivateKey(pem: string, source: string): Result<KeyObject> {
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== "ed25519") {
      return { ok: false, error: `${source}: a ${key.asymmetricKeyType} key, expected Ed25519 (make one with gcheck keygen -signing)` };
    }
    return { ok: true, value: key };
  } catch (err) {
    return { ok: false, error: `${source}: not a PEM private key (${errorMessage(err)}); make one with gcheck keygen -signing` };
  }
}

/** Parses an Ed25519 public key: SPKI PEM, or one line of base64 of the raw 32 bytes. */
export function parsePublicKey(text: string, source: string): Result<KeyObject> {
  const trimmed = text.trim();
  if (trimmed.includes("PRIVATE KEY")) {
    return { ok: false, error: `${source} holds a private key: put only public keys where public keys are expected` };
  }
  try {
    let key: KeyObject;
    if (trimmed.startsWith("-----BEGIN")) key = createPublicKey(trimmed);
    else {
      const raw = Buffer.from(trimmed, "base64");
      if (raw.length !== RAW_KEY_BYTES || raw.toString("base64") !== trimmed) {
        return { ok: false, error: `${source}: neither a PEM public key nor base64 of a raw ${RAW_KEY_BYTES}-byte Ed25519 key` };
      }
      key = publicKeyFromRaw(raw);
    }
    if (key.asymmetricKeyType !== "ed25519") return { ok: false, error: `${source}: a ${key.asymmetricKeyType} key, expected Ed25519` };
    return { ok: true, value: key };
  } catch (err) {
    return { ok: false, error: `${source}: not a valid public key (${errorMessage(err)})` };
  }
}

/** The raw 32-byte form of an Ed25519 public key (what envelopes carry). */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: "jwk" });
  return new Uint8Array(Buffer.from(jwk.x ?? "", "base64url"));
}

/** The canonical bytes a signature covers (see the module comment). */
export function canonicalEnvelopeBytes(env: Envelope): Uint8Array {
  const parts: Buffer[] = [Buffer.from(DOMAIN, "utf8")];
  const field = (b: Uint8Array) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  };
  const num = (x: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(x);
    parts.push(b);
  };
  field(env.id);
  field(Buffer.from(env.origin, "utf8"));
  field(Buffer.from(env.originAddress, "utf8"));
  num(env.createdMs);
  num(env.ttlMs);
  num(env.kind);
  field(env.payload);
  return Buffer.concat(parts);
}

/** A copy of env signed with privateKey (Ed25519). */
export function signEnvelope(env: Envelope, privateKey: KeyObject): Envelope {
  const signature = new Uint8Array(sign(null, canonicalEnvelopeBytes(env), privateKey));
  return { ...env, signature, signerKey: rawPublicKey(createPublicKey(privateKey)) };
}

export function verifyEnvelope(env: Envelope, trusted: TrustedKeys): Verdict {
  if (env.signature.length === 0 || env.signerKey.length === 0) return "unsigned";
  const entry = trustedEntry(trusted, env.signerKey);
  if (!entry) return "untrusted key";
  try {
    return verify(null, canonicalEnvelopeBytes(env), entry.key, env.signature) ? "ok" : "bad signature";
  } catch {
    return "bad signature";
  }
}

/** The trusted key a raw signer key names, if it is trusted. */
function trustedEntry(trusted: TrustedKeys, signerKey: Uint8Array): { key: KeyObject; file: string } | undefined {
  return trusted.get(Buffer.from(signerKey).toString("base64"));
}

/** Whether a raw 32-byte signer key is one of the trusted keys (no signature is checked). */
export function isTrustedSigner(trusted: TrustedKeys, signerKey: Uint8Array): boolean {
  return trustedEntry(trusted, signerKey) !== undefined;
}

/**
 * Whether env's signature verifies against the key it names (signerKey),
 * trusted or not: what any node can check of a signed envelope, so that an
 * altered copy is recognised as forged even where no key is trusted.
 */
export function verifyOwnSignature(env: Envelope): "ok" | "unsigned" | "bad signature" {
  if (env.signature.length === 0 && env.signerKey.length === 0) return "unsigned";
  if (env.signature.length === 0 || env.signerKey.length !== RAW_KEY_BYTES) return "bad signature";
  try {
    return verify(null, canonicalEnvelopeBytes(env), publicKeyFromRaw(env.signerKey), env.signature) ? "ok" : "bad signature";
  } catch {
    return "bad signature";
  }
}

/** Whether env carries a signature at all (a signature, or a signer key). */
export function isSigned(env: Envelope): boolean {
  return env.signature.length > 0 || env.signerKey.length > 0;
}

/**
 * Reads every *.pub and *.pem file in dir as a trusted public key. Errors name
 * the directory or file and say what to do; a dir with no key is an error
 * (a daemon told to trust keys but given none would refuse every batch).
 */
export async function loadTrustedKeys(dir: string): Promise<Result<TrustedKeys>> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    return { ok: false, error: `cannot read the trusted keys dir ${dir} (${errorMessage(err)}): create it and put operator public keys (*.pub) in it` };
  }
  const keys = new Map<string, { key: KeyObject; file: string }>();
  for (const name of names) {
    if (!name.endsWith(".pub") && !name.endsWith(".pem")) continue;
    const file = join(dir, name);
    let text: string;
    try {
      if (!(await stat(file)).isFile()) continue;
      text = await readFile(file, "utf8");
    } catch (err) {
      return { ok: false, error: `cannot read trusted key ${file} (${errorMessage(err)})` };
    }
    const parsed = parsePublicKey(text, file);
    if (!parsed.ok) return parsed;
    keys.set(Buffer.from(rawPublicKey(parsed.value)).toString("base64"), { key: parsed.value, file });
  }
  if (keys.size === 0) {
    return { ok: false, error: `the trusted keys dir ${dir} holds no *.pub or *.pem public key: add one (gcheck keygen -signing makes a pair)` };
  }
  return { ok: true, value: keys };
}

function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") }, format: "jwk" });
}
