import { after, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pb } from "../src/proto/index.js";
import { VirtualClock } from "../src/base/clock.js";
import { SeededRandom } from "../src/base/random.js";
import { createEnvelope, type Envelope } from "../src/gossip/envelope.js";
import { generateSigningKeyPair, loadTrustedKeys, parsePrivateKey, parsePublicKey, rawPublicKey, signEnvelope, verifyEnvelope, type TrustedKeys } from "../src/gossip/signing.js";

const root = mkdtempSync(join(tmpdir(), "gossip-signing-"));
after(() => rmSync(root, { recursive: true, force: true }));

const operator = generateSigningKeyPair();
const stranger = generateSigningKeyPair();
const operatorKey = () => {
  const k = parsePrivateKey(operator.privateKey, "operator.key");
  assert.ok(k.ok);
  return k.value;
};

function batch(): Envelope {
  const payload = pb.CheckBatch.encode({
    checks: [{ name: "nginx", type: "process_running", path: "/usr/bin/nginx", action: "service nginx restart" }],
    targetTags: { role: "web" },
  }).finish();
  return createEnvelope({ origin: "alpha", originAddress: "10.0.0.1:2000", kind: pb.EnvelopeKind.CHECK_BATCH, payload, ttlMs: 300_000 }, new VirtualClock(), new SeededRandom(1));
}

async function trusted(...publicKeys: string[]): Promise<TrustedKeys> {
  const dir = mkdtempSync(join(root, "trusted-"));
  publicKeys.forEach((k, i) => writeFileSync(join(dir, `k${i}.pub`), k));
  const loaded = await loadTrustedKeys(dir);
  assert.ok(loaded.ok, loaded.ok ? "" : loaded.error);
  return loaded.value;
}

it("a batch signed by a trusted key verifies, and carries the signer's raw 32-byte key", async () => {
  const signed = signEnvelope(batch(), operatorKey());
  assert.equal(signed.signature.length, 64);
  assert.equal(signed.signerKey.length, 32);
  assert.equal(verifyEnvelope(signed, await trusted(operator.publicKey)), "ok");
});

it("tampering with any signed field makes it a bad signature", async () => {
  const keys = await trusted(operator.publicKey);
  const signed = signEnvelope(batch(), operatorKey());
  const flip = (b: Uint8Array) => {
    const c = Uint8Array.from(b);
    c[c.length - 1]! ^= 1;
    return c;
  };
  const tampered: [string, Envelope][] = [
    ["origin", { ...signed, origin: "mallory" }],
    ["origin address", { ...signed, originAddress: "10.6.6.6:2000" }],
    ["created", { ...signed, createdMs: signed.createdMs + 1 }],
    ["ttl", { ...signed, ttlMs: signed.ttlMs * 10 }],
    ["kind", { ...signed, kind: pb.EnvelopeKind.KEY_OP }],
    ["payload (checks and targeting)", { ...signed, payload: flip(signed.payload) }],
    ["signature", { ...signed, signature: flip(signed.signature) }],
    ["truncated signature", { ...signed, signature: signed.signature.subarray(0, 10) }],
  ];
  for (const [what, env] of tampered) assert.equal(verifyEnvelope(env, keys), "bad signature", what);
});

it("re-wrapping a signed batch under a new ID fails verification (the ID is signed)", async () => {
  const signed = signEnvelope(batch(), operatorKey());
  const rewrapped = { ...signed, id: new SeededRandom(99).bytes(16) };
  assert.equal(verifyEnvelope(rewrapped, await trusted(operator.publicKey)), "bad signature");
});

it("an unsigned batch is unsigned; one signed by an unknown key is untrusted", async () => {
  const keys = await trusted(operator.publicKey);
  assert.equal(verifyEnvelope(batch(), keys), "unsigned");
  const byStranger = parsePrivateKey(stranger.privateKey, "stranger.key");
  assert.ok(byStranger.ok);
  assert.equal(verifyEnvelope(signEnvelope(batch(), byStranger.value), keys), "untrusted key");
  // Swapping in a trusted signer key does not help a stranger's signature.
  const forged = { ...signEnvelope(batch(), byStranger.value), signerKey: signEnvelope(batch(), operatorKey()).signerKey };
  assert.equal(verifyEnvelope(forged, keys), "bad signature");
});

it("trusted keys load from PEM or raw base64 files, several at once", async () => {
  const parsed = parsePublicKey(stranger.publicKey, "s.pub");
  assert.ok(parsed.ok);
  const rawB64 = Buffer.from(rawPublicKey(parsed.value)).toString("base64");
  const keys = await trusted(operator.publicKey, rawB64 + "\n");
  assert.equal(keys.size, 2);
  const byStranger = parsePrivateKey(stranger.privateKey, "stranger.key");
  assert.ok(byStranger.ok);
  assert.equal(verifyEnvelope(signEnvelope(batch(), byStranger.value), keys), "ok");
});

it("loadTrustedKeys says what is wrong and names the dir or file", async () => {
  const missing = await loadTrustedKeys(join(root, "nope"));
  assert.match(!missing.ok ? missing.error : "", /cannot read the trusted keys dir .*nope .*create it/);

  const empty = join(root, "empty");
  mkdirSync(empty);
  writeFileSync(join(empty, "README"), "not a key");
  const none = await loadTrustedKeys(empty);
  assert.match(!none.ok ? none.error : "", /holds no \*\.pub or \*\.pem public key/);

  const bad = join(root, "bad");
  mkdirSync(bad);
  writeFileSync(join(bad, "oops.pub"), "hello");
  const garbage = await loadTrustedKeys(bad);
  assert.match(!garbage.ok ? garbage.error : "", /oops\.pub: neither a PEM public key nor base64/);

  const priv = join(root, "priv");
  mkdirSync(priv);
  writeFileSync(join(priv, "op.pem"), operator.privateKey);
  const leaked = await loadTrustedKeys(priv);
  assert.match(!leaked.ok ? leaked.error : "", /op\.pem holds a private key/);

  const rsa = parsePrivateKey("-----BEGIN PRIVATE KEY-----\nMII=\n-----END PRIVATE KEY-----\n", "rsa.key");
  assert.match(!rsa.ok ? rsa.error : "", /rsa\.key: not a PEM private key/);
});
