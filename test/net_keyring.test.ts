import assert from "node:assert/strict";
import { createSecretKey } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { PayloadGuard } from "../src/net/guard.js";
import { decodeKey, generateKey, Keyring, KeyringError, loadKeyFile } from "../src/net/keyring.js";
import { open, seal, sealAad, SEAL_OVERHEAD_BYTES } from "../src/net/seal.js";

const keyObj = (b64: string) => createSecretKey(decodeKey(b64));
const plain = Buffer.from("\x08\x01 a swim packet, say");

describe("sealing (AES-256-GCM)", () => {
  const k1 = keyObj(generateKey());
  const k2 = keyObj(generateKey());

  it("opens what it sealed, adding exactly the scheme overhead, with a fresh nonce each time", () => {
    const a = seal(k1, plain, sealAad(""));
    const b = seal(k1, plain, sealAad(""));
    assert.equal(a.length, plain.length + SEAL_OVERHEAD_BYTES);
    assert.ok(!a.equals(b), "two seals of the same plaintext differ (random nonce)");
    assert.deepEqual(open([k1], a, sealAad("")), plain);
  });

  it("refuses a message sealed under another key, and finds the right key among several", () => {
    const sealed = seal(k1, plain, sealAad(""));
    assert.equal(open([k2], sealed, sealAad("")), null);
    assert.deepEqual(open([k2, k1], sealed, sealAad("")), plain);
  });

  it("refuses a message with any single bit flipped, header, nonce, ciphertext or tag", () => {
    const sealed = seal(k1, plain, sealAad(""));
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i]! ^= 1 << (i % 8);
      assert.equal(open([k1], bad, sealAad("")), null, `bit flipped in byte ${i}`);
    }
  });

  it("refuses a message sealed for another cluster label, and truncated messages", () => {
    const sealed = seal(k1, plain, sealAad("prod"));
    assert.equal(open([k1], sealed, sealAad("staging")), null);
    assert.equal(open([k1], sealed, sealAad("")), null);
    assert.deepEqual(open([k1], sealed, sealAad("prod")), plain);
    for (const n of [0, 1, 13, SEAL_OVERHEAD_BYTES - 1, sealed.length - 1]) {
      assert.equal(open([k1], sealed.subarray(0, n), sealAad("prod")), null, `truncated to ${n} bytes`);
    }
  });
});

describe("payload guard", () => {
  it("says why it refuses: plaintext to a keyed node, sealed to a keyless node, label mismatches", () => {
    const keyed = new PayloadGuard(new Keyring([generateKey()]), "");
    const bare = new PayloadGuard(null, "");
    const prod = new PayloadGuard(null, "prod");
    const r1 = keyed.unwrap(bare.wrap(plain));
    assert.ok(!r1.ok && r1.failure === "decrypt" && /not encrypted/.test(r1.reason));
    const r2 = bare.unwrap(keyed.wrap(plain));
    assert.ok(!r2.ok && r2.failure === "undecodable" && /no cluster key/.test(r2.reason));
    const r3 = new PayloadGuard(null, "staging").unwrap(prod.wrap(plain));
    assert.ok(!r3.ok && r3.failure === "label" && /"prod"/.test(r3.reason) && /"staging"/.test(r3.reason));
    const r4 = bare.unwrap(prod.wrap(plain));
    assert.ok(!r4.ok && r4.failure === "label");
    const r5 = prod.unwrap(bare.wrap(plain));
    assert.ok(!r5.ok && r5.failure === "label");
    const r6 = prod.unwrap(prod.wrap(plain));
    assert.ok(r6.ok && r6.payload.equals(plain));
  });
});

describe("keyring", () => {
  it("generates 32-byte base64 keys and rejects keys of the wrong format or length, without echoing them", () => {
    assert.equal(decodeKey(generateKey()).length, 32);
    assert.throws(
      () => decodeKey("not base64 at all!"),
      (e: Error) => e instanceof KeyringError && /must be base64/.test(e.message) && /gcheck keygen/.test(e.message),
    );
    const short = Buffer.alloc(16, 1).toString("base64");
    assert.throws(
      () => decodeKey(short),
      (e: Error) => /decodes to 16 bytes/.test(e.message) && !e.message.includes(short),
    );
    assert.throws(() => new Keyring([]), /at least one key/);
  });

  it("rotates as memberlist does: install, use (must be installed), remove (never the primary)", () => {
    const [a, b, c] = [generateKey(), generateKey(), generateKey()];
    const ring = new Keyring([a]);
    ring.install(b);
    ring.install(b); // idempotent
    assert.deepEqual(ring.list(), [a, b]);
    assert.throws(
      () => ring.use(c),
      (e: Error) => /not installed/.test(e.message) && /gcheck keys install/.test(e.message),
    );
    ring.use(b);
    assert.deepEqual(ring.list(), [b, a], "primary first");
    assert.throws(
      () => ring.remove(b),
      (e: Error) => /refusing to remove the primary key/.test(e.message),
    );
    assert.equal(ring.remove(a), true);
    assert.equal(ring.remove(c), false);
    assert.deepEqual(ring.list(), [b]);
  });

  it("opens messages sealed with the old primary while a rotation is under way", () => {
    const [a, b] = [generateKey(), generateKey()];
    const sender = new PayloadGuard(new Keyring([a]), "");
    const receiverRing = new Keyring([a]);
    const receiver = new PayloadGuard(receiverRing, "");
    receiverRing.install(b);
    receiverRing.use(b);
    assert.ok(receiver.unwrap(sender.wrap(plain)).ok, "old key still opens after use(new)");
    receiverRing.remove(a);
    assert.ok(!receiver.unwrap(sender.wrap(plain)).ok, "old key no longer opens after remove(old)");
  });
});

describe("key files", () => {
  const dir = mkdtempSync(join(tmpdir(), "gc-keys-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("saves a keyring atomically with mode 0600 and loads it back, primary first", () => {
    const ring = new Keyring([generateKey(), generateKey()]);
    ring.use(ring.list()[1]!);
    const path = join(dir, "state", "keyring.json");
    ring.save(path);
    ring.save(path); // overwrite in place
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, "state")), ["keyring.json"], "no temporary file left behind");
    assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), ring.list());
    const loaded = loadKeyFile(path);
    assert.deepEqual(loaded.keyring.list(), ring.list());
    assert.equal(loaded.warning, undefined);
    assert.deepEqual(Keyring.load(path).list(), ring.list());
  });

  it("loads a single-key file as `gcheck keygen > FILE` writes it, and warns when others can read it", () => {
    const key = generateKey();
    const path = join(dir, "cluster.key");
    writeFileSync(path, key + "\n", { mode: 0o644 });
    chmodSync(path, 0o644);
    const { keyring, warning } = loadKeyFile(path);
    assert.deepEqual(keyring.list(), [key]);
    assert.match(warning ?? "", /mode 0644/);
    assert.match(warning ?? "", new RegExp(`chmod 600 ${path}`));
  });

  it("names the file and says what to do when it is missing, empty, malformed or holds a bad key", () => {
    const missing = join(dir, "nope.key");
    assert.throws(
      () => loadKeyFile(missing),
      (e: Error) => e.message.includes(missing) && /gcheck keygen/.test(e.message),
    );
    const cases: [string, string, RegExp][] = [
      ["empty.key", "\n", /is empty/],
      ["broken.json", '["abc",', /not valid JSON/],
      ["none.json", "[]", /holds no keys/],
      ["num.json", "[42]", /entry 0 is not a string/],
      ["short.json", JSON.stringify([generateKey(), "AAAA"]), /\(entry 1\).*decodes to 3 bytes/],
    ];
    for (const [name, content, re] of cases) {
      const p = join(dir, name);
      writeFileSync(p, content, { mode: 0o600 });
      assert.throws(
        () => loadKeyFile(p),
        (e: Error) => e instanceof KeyringError && e.message.includes(p) && re.test(e.message),
        name,
      );
    }
  });
});
