import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { encodeCheckBatch, fromWireReport, type CheckBatch } from "../src/checks/codec.js";
import type { CheckSpec } from "../src/checks/types.js";
import { validateKeysBody } from "../src/daemon/api/validate.js";
import { admitEnvelope } from "../src/daemon/cluster/admission.js";
import { type BatchNode, checkBatchHandler, decideBatch } from "../src/daemon/cluster/batch_handler.js";
import { keyFingerprint } from "../src/control/fingerprint.js";
import { loadDaemonKeyring } from "../src/daemon/keys.js";
import { createEnvelope, type Envelope } from "../src/gossip/envelope.js";
import { generateSigningKeyPair, loadTrustedKeys, parsePrivateKey, signEnvelope, type TrustedKeys } from "../src/gossip/signing.js";
import { VirtualClock } from "../src/base/clock.js";
import { decodeKey, generateKey, Keyring } from "../src/net/keyring.js";
import { nullLogger } from "../src/base/logger.js";
import { SeededRandom } from "../src/base/random.js";
import { pb } from "../src/proto/index.js";
import { decodeKeyOp, encodeKeyOp } from "../src/control/key_op.js";
import { applyKeyOp } from "../src/daemon/cluster/key_op_handler.js";

/*
 * What one node decides about a CHECK_BATCH envelope (targeting, operator
 * signatures, -no-actions, dry run) and about a KEY_OP envelope (the keyring
 * it changes and saves), and where its keyring comes from at startup: all
 * without processes or sockets.
 */

const root = mkdtempSync(join(tmpdir(), "daemon-handler-"));
after(() => rmSync(root, { recursive: true, force: true }));

const web: BatchNode = { name: "web1", tags: { role: "web", dc: "east" }, actionsEnabled: true };
const checks: CheckSpec[] = [{ name: "root", type: "file_exists", path: "/" }];

function envelope(batch: Partial<CheckBatch>, payload?: Uint8Array): Envelope {
  const bytes = payload ?? encodeCheckBatch({ checks, dryRun: false, targetNodes: [], targetTags: {}, ...batch });
  return createEnvelope({ origin: "origin", originAddress: "127.0.0.1:1", kind: pb.EnvelopeKind.CHECK_BATCH, payload: bytes, ttlMs: 60_000 }, new VirtualClock(), new SeededRandom(7));
}

const operator = generateSigningKeyPair();
const stranger = generateSigningKeyPair();
const sign = (env: Envelope, pem = operator.privateKey) => {
  const key = parsePrivateKey(pem, "test key");
  assert.ok(key.ok);
  return signEnvelope(env, key.value);
};

async function trusted(): Promise<TrustedKeys> {
  const dir = join(root, "trusted");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "operator.pub"), operator.publicKey);
  const loaded = await loadTrustedKeys(dir);
  assert.ok(loaded.ok);
  return loaded.value;
}

describe("CHECK_BATCH: what a node decides", () => {
  it("targeting: listed node names, and every listed tag exactly; others relay without answering", () => {
    const kinds = (b: Partial<CheckBatch>) => decideBatch(envelope(b), web).kind;
    assert.equal(kinds({}), "run");
    assert.equal(kinds({ targetNodes: ["web1", "db1"] }), "run");
    assert.equal(kinds({ targetNodes: ["db1"] }), "relay");
    assert.equal(kinds({ targetTags: { role: "web" } }), "run");
    assert.equal(kinds({ targetTags: { role: "web", dc: "east" } }), "run");
    assert.equal(kinds({ targetTags: { role: "web", dc: "west" } }), "relay");
    assert.equal(kinds({ targetTags: { role: "we" } }), "relay", "exact match, not a prefix");
    assert.equal(kinds({ targetTags: { toString: "x" } }), "relay", "an inherited property is not a tag");
    assert.equal(kinds({ targetNodes: ["web1"], targetTags: { role: "db" } }), "relay", "both must hold");
  });

  it("actions run only when the node allows them and the batch is not a dry run, and say why not", () => {
    assert.deepEqual(pick(decideBatch(envelope({}), web)), { runActions: true, skipReason: undefined });
    assert.deepEqual(pick(decideBatch(envelope({ dryRun: true }), web)), { runActions: false, skipReason: "dry run" });
    assert.deepEqual(pick(decideBatch(envelope({}), { ...web, actionsEnabled: false })), { runActions: false, skipReason: "actions disabled on this node" });
  });

  it("admission with trusted keys: unsigned, untrusted and tampered batches are refused with the reason; a trusted signature is admitted", async () => {
    const admit = admitEnvelope({ ...web, trustedKeys: await trusted() });
    const signed = sign(envelope({}));
    assert.deepEqual(admit(signed), { ok: true });
    assert.deepEqual(admit(envelope({})), { ok: false, reason: "unsigned", answer: true });
    assert.deepEqual(admit(sign(envelope({}), stranger.privateKey)), { ok: false, reason: "untrusted key", answer: true });
    const tampered = { ...signed, payload: encodeCheckBatch({ checks, dryRun: true, targetNodes: [], targetTags: {} }) };
    assert.deepEqual(admit(tampered), { ok: false, reason: "bad signature", answer: false }, "a forgery gets no answer");
    assert.deepEqual(admit(envelope({ targetNodes: ["db1"] })), { ok: false, reason: "unsigned", answer: false }, "refused, but a batch for other nodes gets no answer from this one");
  });

  it("admission without trusted keys: unsigned batches are admitted, but a signed one must verify against the key it names", () => {
    const admit = admitEnvelope(web);
    assert.deepEqual(admit(envelope({})), { ok: true });
    assert.deepEqual(admit(sign(envelope({}), stranger.privateKey)), { ok: true }, "any valid signature: nothing is trusted or distrusted here");
    const forged = { ...sign(envelope({})), payload: encodeCheckBatch({ checks, dryRun: true, targetNodes: [], targetTags: {} }) };
    assert.deepEqual(admit(forged), { ok: false, reason: "bad signature", answer: false }, "a forgery gets no answer");
  });

  it("admission of key operations: with trusted keys, only list may come unsigned", async () => {
    const admit = admitEnvelope({ ...web, trustedKeys: await trusted() });
    const op = (o: "list" | "install", key?: Uint8Array) => ({ ...envelope({}), kind: pb.EnvelopeKind.KEY_OP, payload: encodeKeyOp(o, key) });
    assert.deepEqual(admit(op("list")), { ok: true });
    assert.deepEqual(admit(op("install", decodeKey(generateKey()))), { ok: false, reason: "unsigned", answer: true });
    assert.deepEqual(admit(sign(op("install", decodeKey(generateKey())))), { ok: true });
  });

  it("an undecodable or invalid batch is refused, naming the problem", () => {
    const garbage = decideBatch(envelope({}, new Uint8Array([0xff, 0xff, 0xff])), web);
    assert.equal(garbage.kind, "reject");
    assert.match((garbage as { reason: string }).reason, /^undecodable batch: check batch: /);
    const bad = decideBatch(envelope({ checks: [{ name: "x", type: "file_contains", path: "/etc/hostname" } as CheckSpec] }), web);
    assert.match((bad as { reason: string }).reason, /"x".*check/);
  });

  it("a report-only node (-no-actions) runs no command check either: an error says why", async () => {
    const marker = join(root, "command-marker");
    const batch = envelope({ checks: [{ name: "cmd", type: "command", params: { command: `touch ${marker}` } }] });
    const reply = await checkBatchHandler({ ...web, actionsEnabled: false }, nullLogger, () => undefined)(batch);
    assert.ok(reply && "checks" in reply);
    const [result] = fromWireReport(reply.checks);
    assert.equal(result?.status, "error");
    assert.match(result!.message, /report-only \(-no-actions\)/);
    assert.equal(existsSync(marker), false);
  });

  it("the handler runs the checks and answers with the report; -no-actions leaves the action unrun", async () => {
    const marker = join(root, "marker");
    const batch = envelope({ checks: [{ name: "needs_marker", type: "file_exists", path: marker, action: `touch ${marker}` }] });
    const seen: string[] = [];
    const off = await checkBatchHandler({ ...web, actionsEnabled: false }, nullLogger, (r) => seen.push(...r.map((x) => x.status)))(batch);
    assert.ok(off && "checks" in off);
    const [result] = fromWireReport(off.checks);
    assert.equal(result?.status, "fail");
    assert.match(result!.message, /action skipped: actions disabled on this node/);
    assert.equal(existsSync(marker), false);
    const on = await checkBatchHandler(web, nullLogger, (r) => seen.push(...r.map((x) => x.status)))(batch);
    assert.ok(on && "checks" in on);
    assert.equal(fromWireReport(on.checks)[0]?.status, "fixed");
    assert.deepEqual(seen, ["fail", "fixed"]);
    assert.equal(await checkBatchHandler(web, nullLogger, () => undefined)(envelope({ targetNodes: ["db1"] })), null);
  });
});

function pick(d: ReturnType<typeof decideBatch>): { runActions: boolean; skipReason: string | undefined } {
  assert.equal(d.kind, "run");
  const r = d as { runActions: boolean; skipReason?: string };
  return { runActions: r.runActions, skipReason: r.skipReason };
}

describe("KEY_OP: a node's keyring", () => {
  const [a, b] = [generateKey(), generateKey()];
  const fp = (k: string) => keyFingerprint(decodeKey(k));

  it("install, use and remove change the keyring in place, report fingerprints (never keys) and save only on change", () => {
    const ring = new Keyring([a]);
    let saves = 0;
    const save = () => void saves++;
    assert.deepEqual(applyKeyOp(ring, "list", new Uint8Array(0), save), { ok: true, error: "", keys: [fp(a)] });
    assert.deepEqual(applyKeyOp(ring, "install", decodeKey(b), save), { ok: true, error: "", keys: [fp(a), fp(b)] });
    assert.deepEqual(applyKeyOp(ring, "install", decodeKey(b), save).keys, [fp(a), fp(b)], "installing twice changes nothing");
    assert.equal(saves, 1);
    assert.deepEqual(applyKeyOp(ring, "use", decodeKey(b), save).keys, [fp(b), fp(a)]);
    assert.equal(ring.list()[0], b, "the transport's keyring object now seals with B");
    assert.deepEqual(applyKeyOp(ring, "remove", decodeKey(a), save).keys, [fp(b)]);
    assert.equal(saves, 3);
    assert.ok(fp(a).length === 8 && !JSON.stringify(applyKeyOp(ring, "list", new Uint8Array(0), save)).includes(b));
  });

  it("refusals come from the keyring, per node: removing the primary, using a key not installed; and without a key at all", () => {
    const ring = new Keyring([a]);
    const save = () => assert.fail("nothing changed, nothing to save");
    const primary = applyKeyOp(ring, "remove", decodeKey(a), save);
    assert.equal(primary.ok, false);
    assert.match(primary.error!, /refusing to remove the primary key/);
    assert.deepEqual(primary.keys, [fp(a)]);
    assert.match(applyKeyOp(ring, "use", decodeKey(b), save).error!, /is not installed: install it first/);
    assert.deepEqual(applyKeyOp(null, "list", new Uint8Array(0), save), { ok: false, error: "this node runs without a cluster key: start it with -key-file (gcheck keygen > key)", keys: [] });
  });

  it("a change that cannot be saved is in effect but reported as failed, saying a restart would lose it", () => {
    const ring = new Keyring([a]);
    const r = applyKeyOp(ring, "install", decodeKey(b), () => {
      throw new Error("EROFS: read-only file system");
    });
    assert.equal(r.ok, false);
    assert.match(r.error!, /in effect but could not be saved \(EROFS.*a restart would lose it/);
    assert.deepEqual(r.keys, [fp(a), fp(b)]);
  });

  it("the KEY_OP payload round-trips; garbage and unknown operations are refused, not thrown", () => {
    const install = decodeKeyOp(encodeKeyOp("install", decodeKey(a)));
    assert.ok(install.ok && install.op === "install" && decodeKey(a).equals(install.key));
    const list = decodeKeyOp(encodeKeyOp("list"));
    assert.ok(list.ok && list.op === "list" && list.key.length === 0);
    assert.equal(decodeKeyOp(new Uint8Array([0x0a, 0xff])).ok, false);
    assert.match((decodeKeyOp(pb.KeyOp.encode({ op: "wipe" }).finish()) as { error: string }).error, /unknown key operation "wipe"/);
    assert.match((decodeKeyOp(pb.KeyOp.encode({ op: "use" }).finish()) as { error: string }).error, /carries no key/);
  });

  it("POST /v1/keys bodies: an operation, a 32-byte base64 key when it takes one, a bounded wait", () => {
    assert.deepEqual(validateKeysBody({ op: "list" }), { ok: true, value: { op: "list", timeoutMs: 30_000 } });
    const use = validateKeysBody({ op: "use", key: a, timeoutMs: 5000 });
    assert.ok(use.ok && use.value.key?.length === 32 && use.value.timeoutMs === 5000);
    const errors = [{ op: "wipe" }, { op: "list", key: a }, { op: "install" }, { op: "install", key: "c2hvcnQ=" }, { op: "list", extra: 1 }, { op: "list", timeoutMs: -1 }].map((body) => {
      const r = validateKeysBody(body);
      assert.equal(r.ok, false, JSON.stringify(body));
      return (r as { error: string }).error;
    });
    assert.match(errors[0]!, /"op" must be one of list, install, use, remove/);
    assert.match(errors[1]!, /op "list" takes no "key"/);
    assert.match(errors[2]!, /needs field "key"/);
    assert.match(errors[3]!, /decodes to 5 bytes/);
    assert.match(errors[4]!, /unknown field "extra"/);
    assert.match(errors[5]!, /"timeoutMs" must be a number of milliseconds/);
  });

  it("POST /v1/keys bodies with a signed operation: op and key come from the signed payload", () => {
    const envelopeFields = (payload: Uint8Array) => ({
      id: "0".repeat(32),
      origin: "n1",
      originAddress: "127.0.0.1:7946",
      createdMs: Date.now(),
      ttlMs: 10_000,
      payload: Buffer.from(payload).toString("base64"),
      signature: Buffer.alloc(64).toString("base64"),
      signerKey: Buffer.alloc(32).toString("base64"),
    });
    const ok = validateKeysBody({ signed: envelopeFields(encodeKeyOp("use", decodeKey(a))), timeoutMs: 5000 });
    assert.ok(ok.ok && ok.value.op === "use" && decodeKey(a).equals(ok.value.key!) && ok.value.signed?.ttlMs === 10_000);
    const errors = [
      { signed: envelopeFields(encodeKeyOp("list")), op: "list" },
      { signed: envelopeFields(new Uint8Array([0x0a, 0xff])) },
      { signed: envelopeFields(encodeKeyOp("install", new Uint8Array(5))) },
      { signed: { ...envelopeFields(encodeKeyOp("list")), signature: "AAAA" } },
    ].map((body) => {
      const r = validateKeysBody(body);
      assert.equal(r.ok, false, JSON.stringify(body));
      return (r as { error: string }).error;
    });
    assert.match(errors[0]!, /with "signed", leave out "op"/);
    assert.match(errors[1]!, /"signed.payload": undecodable key operation/);
    assert.match(errors[2]!, /the key of install has 5 bytes, expected 32/);
    assert.match(errors[3]!, /"signed.signature" must decode to 64 bytes/);
  });
});

describe("the daemon's keyring at startup", () => {
  const [a, b] = [generateKey(), generateKey()];
  const dir = (name: string) => {
    const d = join(root, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const keyFile = join(root, "cluster.key");
  writeFileSync(keyFile, a + "\n", { mode: 0o600 });

  it("without any key: no keyring, and the note says traffic is not encrypted", () => {
    const r = loadDaemonKeyring({ dataDir: dir("none") });
    assert.ok(r.ok);
    assert.equal(r.value.keyring, null);
    assert.match(r.value.note, /not encrypted/);
  });

  it("-key-file until a key operation saves the keyring; from then on the saved keyring wins, and the note says so", () => {
    const dataDir = dir("precedence");
    const first = loadDaemonKeyring({ dataDir, keyFile });
    assert.ok(first.ok);
    assert.deepEqual(first.value.keyring?.list(), [a]);
    assert.match(first.value.note, /from -key-file/);
    const rotated = new Keyring([b]);
    rotated.save(first.value.persistPath);
    assert.equal(statSync(first.value.persistPath).mode & 0o777, 0o600);
    const again = loadDaemonKeyring({ dataDir, keyFile });
    assert.ok(again.ok);
    assert.deepEqual(again.value.keyring?.list(), [b]);
    assert.match(again.value.note, /saved by gcheck keys .*-key-file .* is ignored while it exists/);
    assert.deepEqual(again.value.warnings, []);
    chmodSync(first.value.persistPath, 0o644);
    const loose = loadDaemonKeyring({ dataDir });
    assert.ok(loose.ok);
    assert.match(loose.value.warnings[0] ?? "", /keyring\.json has mode 0644.*chmod 600/);
  });

  it("refuses both key flags, and a corrupt saved keyring, naming the file and what to do", () => {
    const both = loadDaemonKeyring({ dataDir: dir("both"), keyFile, keyringFile: keyFile });
    assert.deepEqual(both, { ok: false, error: "-key-file and -keyring-file are both set: pass one (a keyring file holds several keys, primary first)" });
    const dataDir = dir("corrupt");
    writeFileSync(join(dataDir, "keyring.json"), "[not json");
    const corrupt = loadDaemonKeyring({ dataDir, keyFile });
    assert.equal(corrupt.ok, false);
    assert.match((corrupt as { error: string }).error, /keyring\.json is not valid JSON.*delete it to start from -key-file again/);
    assert.equal(readFileSync(join(dataDir, "keyring.json"), "utf8"), "[not json", "left as it is for the operator");
  });
});
