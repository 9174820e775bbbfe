/**
 * Fuzzing of the daemon's own decoders (issue 5, hostile input): control API
 * request bodies (readJsonBody, then validateLocalCheckBody,
 * validateBatchBody and validateKeysBody, exactly the HTTP path) and KEY_OP
 * envelope payloads from the network (decodeKeyOp). Whatever arrives, an
 * error value or an HttpError comes back, never another exception; nothing
 * buffers beyond the body limit, whatever the Content-Length says.
 * FUZZ_RUNS=100000 in `npm run fuzz`; a small count in `npm test`.
 */
import assert from "node:assert/strict";
import { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { it } from "node:test";
import fc from "fast-check";
import { encodeCheckBatch } from "../src/checks/codec.js";
import { CHECK_TYPES } from "../src/checks/types.js";
import { MAX_CHECKS_PER_BATCH, validateBatchBody, validateKeysBody, validateLocalCheckBody } from "../src/daemon/api/validate.js";
import { HttpError, readJsonBody } from "../src/daemon/api/http_io.js";
import { allocationWatch, FUZZ_RUNS, mutatedFrom, varint } from "./support/fuzz.js";
import { decodeKeyOp, encodeKeyOp } from "../src/control/key_op.js";

const MAX_BODY = 64 * 1024;
const b64 = (n: number, fill: number) => Buffer.alloc(n, fill).toString("base64");
const checks = {
  resolv_has_8888: { type: "file_contains", path: "/etc/resolv.conf", check: "8.8.8.8", action: "echo 8.8.8.8 >> /etc/resolv.conf" },
  syslog_pidfile_exists: { type: "file_exists", path: "/var/run/syslog.pid", action: "shutdown -r now", timeout: "30s" },
  check_nginx_running: { type: "process_running", path: "/usr/bin/nginx", description: "web" },
};
const signedPayload = encodeCheckBatch({
  checks: [{ name: "c", type: "file_exists", path: "/x" }],
  dryRun: true,
  targetNodes: ["a"],
  targetTags: { role: "web" },
});
/** One valid body per shape each route accepts. */
const validBodies = [
  { checks },
  { checks, dryRun: true, nodes: ["web-1", "web-2"], tags: { role: "web" }, ttlMs: 60_000, timeoutMs: 5000 },
  {
    timeoutMs: 2000,
    signed: {
      id: "ab".repeat(16),
      origin: "web-1",
      originAddress: "10.0.0.1:2000",
      createdMs: 1_700_000_000_000,
      ttlMs: 60_000,
      payload: Buffer.from(signedPayload).toString("base64"),
      signature: b64(64, 1),
      signerKey: b64(32, 2),
    },
  },
  { op: "install", key: b64(32, 7), timeoutMs: 1000 },
  { op: "list" },
  {
    timeoutMs: 2000,
    signed: {
      id: "cd".repeat(16),
      origin: "web-1",
      originAddress: "10.0.0.1:2000",
      createdMs: 1_700_000_000_000,
      ttlMs: 10_000,
      payload: Buffer.from(encodeKeyOp("use", Buffer.alloc(32, 7))).toString("base64"),
      signature: b64(64, 1),
      signerKey: b64(32, 2),
    },
  },
];
const validTexts = validBodies.map((b) => new TextEncoder().encode(JSON.stringify(b)));

/** A real IncomingMessage carrying body, with the given Content-Length header (or none). */
function request(body: Uint8Array, contentLength: string | null): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  if (contentLength !== null) req.headers["content-length"] = contentLength;
  if (body.length) req.push(Buffer.from(body));
  req.push(null);
  return req;
}

/** Every validator on one parsed body: a well-formed value or a one-line error, never a throw. */
function validatesSafely(body: unknown): void {
  const local = validateLocalCheckBody(body);
  if (local.ok) checksWellFormed(local.value);
  else errorIsOneLine(local.error);
  const batch = validateBatchBody(body);
  if (batch.ok) {
    checksWellFormed(batch.value.checks);
    assert.ok(Number.isFinite(batch.value.ttlMs) && Number.isFinite(batch.value.timeoutMs));
    assert.ok(batch.value.nodes.every((n) => typeof n === "string"));
    assert.ok(Object.values(batch.value.tags).every((v) => typeof v === "string"));
  } else errorIsOneLine(batch.error);
  const keys = validateKeysBody(body);
  if (keys.ok) assert.ok(keys.value.op === "list" || keys.value.key?.length === 32);
  else errorIsOneLine(keys.error);
}

function checksWellFormed(list: { name: string; type: string }[]): void {
  assert.ok(list.length <= MAX_CHECKS_PER_BATCH);
  for (const c of list) assert.ok(typeof c.name === "string" && (CHECK_TYPES as readonly string[]).includes(c.type));
}

function errorIsOneLine(error: string): void {
  assert.ok(typeof error === "string" && error.length > 0, "an empty error");
  assert.ok(!error.includes("\n"), `a multi-line error: ${JSON.stringify(error.slice(0, 200))}`);
}

/** readJsonBody and the validators, as the API runs them; HttpError 400/413 is the only allowed rejection. */
async function throughHttpPath(bytes: Uint8Array, contentLength: string | null): Promise<void> {
  let parsed: unknown;
  try {
    parsed = await readJsonBody(request(bytes, contentLength), MAX_BODY);
  } catch (err) {
    assert.ok(err instanceof HttpError, `readJsonBody threw ${String(err)}`);
    assert.ok(err.status === 400 || err.status === 413, `status ${err.status}`);
    return;
  }
  validatesSafely(parsed);
}

// A Content-Length header as clients (and attackers) send it: right, wrong, huge, or not a number.
const contentLength = fc.oneof(fc.constant(null), fc.constant("right"), fc.nat({ max: 2 * MAX_BODY }).map(String), fc.constantFrom("18446744073709551616", "-1", "1e9", "abc", ""));
const withLength = (bytes: Uint8Array, cl: string | null) => [bytes, cl === "right" ? String(bytes.length) : cl] as const;

it("fuzz: random bytes through readJsonBody and the body validators end in a value or a 400/413", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), contentLength, (bytes, cl) => throughHttpPath(...withLength(bytes, cl))),
    { numRuns: FUZZ_RUNS, seed: 201 },
  );
});

it("fuzz: mutated valid request bodies through readJsonBody and the body validators never throw", async () => {
  await fc.assert(
    fc.asyncProperty(mutatedFrom(validTexts), contentLength, (bytes, cl) => throughHttpPath(...withLength(bytes, cl))),
    { numRuns: FUZZ_RUNS, seed: 202 },
  );
});

// Bodies of the right outline with values of every kind: reaches the checks
// of each field, beyond what mutated JSON text reaches.
const anyJson = fc.jsonValue({ maxDepth: 2 });
const msValue = fc.oneof(fc.integer({ min: -10, max: 3 * 86_400_000 }), fc.double(), anyJson);
const checkValue = fc.oneof(
  fc.record(
    {
      type: fc.oneof(fc.constantFrom(...CHECK_TYPES, "bogus"), anyJson),
      path: fc.oneof(fc.string({ maxLength: 12 }), anyJson),
      check: fc.oneof(fc.string({ maxLength: 12 }), anyJson),
      action: fc.oneof(fc.string({ maxLength: 12 }), anyJson),
      timeout: fc.oneof(fc.constantFrom("30s", "0s", "1h", "x", "-5s"), anyJson),
      description: fc.oneof(fc.string({ maxLength: 12 }), anyJson),
      extra: anyJson,
    },
    { requiredKeys: [] },
  ),
  anyJson,
);
const base64Of = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString("base64"));
const signedValue = fc.oneof(
  fc.record(
    {
      id: fc.oneof(
        fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString("hex")),
        anyJson,
      ),
      origin: fc.oneof(fc.string({ maxLength: 12 }), anyJson),
      originAddress: fc.oneof(fc.string({ maxLength: 12 }), anyJson),
      createdMs: msValue,
      ttlMs: msValue,
      payload: fc.oneof(fc.constant(Buffer.from(signedPayload).toString("base64")), base64Of(0, 64), anyJson),
      signature: fc.oneof(base64Of(63, 65), anyJson),
      signerKey: fc.oneof(base64Of(31, 33), anyJson),
    },
    { requiredKeys: [] },
  ),
  anyJson,
);
const outlinedBody = fc.oneof(
  fc.record(
    {
      checks: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), checkValue, { maxKeys: 5 }), anyJson),
      dryRun: fc.oneof(fc.boolean(), anyJson),
      nodes: fc.oneof(fc.array(fc.string({ maxLength: 140 }), { maxLength: 4 }), anyJson),
      tags: fc.oneof(fc.dictionary(fc.string({ maxLength: 70 }), fc.oneof(fc.string({ maxLength: 8 }), anyJson), { maxKeys: 3 }), anyJson),
      ttlMs: msValue,
      timeoutMs: msValue,
      signed: signedValue,
      op: fc.oneof(fc.constantFrom("list", "install", "use", "remove", "rotate"), anyJson),
      key: fc.oneof(base64Of(30, 34), fc.string({ maxLength: 50 }), anyJson),
      dry_run: anyJson,
    },
    { requiredKeys: [] },
  ),
  anyJson,
);

it("fuzz: request bodies of the right outline with values of every kind never throw past the validators", () => {
  fc.assert(fc.property(outlinedBody, validatesSafely), { numRuns: FUZZ_RUNS, seed: 203 });
});

it("a huge declared Content-Length is refused before any byte is read; an endless body is cut at the limit", async () => {
  let generated = 0;
  const chunk = Buffer.alloc(16 * 1024, 0x20);
  const endless = (contentLength: string | null) => {
    const req = new IncomingMessage(new Socket());
    if (contentLength !== null) req.headers["content-length"] = contentLength;
    req._read = () => {
      generated += chunk.length;
      req.push(chunk);
    };
    return req;
  };
  for (const declared of [String(2 ** 53), String(MAX_BODY + 1), "1e300"]) {
    generated = 0;
    await assert.rejects(readJsonBody(endless(declared), MAX_BODY), (e: unknown) => e instanceof HttpError && e.status === 413);
    assert.equal(generated, 0, `read ${generated} bytes of a body declared as ${declared} bytes`);
  }
  // A Content-Length that lies low, or none: reading stops just past the limit.
  for (const declared of [null, "10"]) {
    generated = 0;
    await assert.rejects(readJsonBody(endless(declared), MAX_BODY), (e: unknown) => e instanceof HttpError && e.status === 413);
    assert.ok(generated <= MAX_BODY + 4 * chunk.length, `read ${generated} bytes with a limit of ${MAX_BODY}`);
  }
});

// ------------------------------------------------------------ KEY_OP payloads

const validKeyOps = [encodeKeyOp("list"), encodeKeyOp("install", new Uint8Array(32).fill(5)), encodeKeyOp("remove", new Uint8Array(32).fill(6))];

function keyOpDecodesSafely(bytes: Uint8Array): void {
  const r = decodeKeyOp(bytes);
  if (r.ok) assert.ok(r.op === "list" || r.key.length > 0);
  else errorIsOneLine(r.error);
}

it("fuzz: random and mutated KEY_OP payloads never throw past decodeKeyOp", () => {
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 128 }), mutatedFrom(validKeyOps)), keyOpDecodesSafely), { numRuns: FUZZ_RUNS, seed: 204 });
});

it("fuzz: a KEY_OP payload declaring a key of up to 2^53 bytes is refused without allocating it", () => {
  const watch = allocationWatch();
  fc.assert(
    fc.property(fc.constantFrom(...validKeyOps), fc.integer({ min: 1 << 20, max: Number.MAX_SAFE_INTEGER }), fc.uint8Array({ maxLength: 32 }), (valid, declared, tail) => {
      // Field 2 (key), length-delimited, appended after a whole message.
      const bytes = Uint8Array.from([...valid, (2 << 3) | 2, ...varint(declared), ...tail]);
      const r = decodeKeyOp(bytes);
      assert.equal(r.ok, false, "a key declared longer than the payload was accepted");
      watch.check();
    }),
    { numRuns: FUZZ_RUNS, seed: 205 },
  );
  assert.ok(watch.grewBytes() < 64 * 2 ** 20, `array buffers grew by ${watch.grewBytes()} bytes`);
});

it("admission never throws on any envelope, and admits nothing signed that does not verify", async () => {
  const { admitEnvelope } = await import("../src/daemon/cluster/admission.js");
  const { generateSigningKeyPair, parsePrivateKey, signEnvelope, verifyOwnSignature } = await import("../src/gossip/signing.js");
  const { pb } = await import("../src/proto/index.js");
  const pair = generateSigningKeyPair();
  const key = parsePrivateKey(pair.privateKey, "fuzz");
  assert.ok(key.ok);
  const plain = admitEnvelope({ name: "n", tags: {}, actionsEnabled: true });
  const kinds = [pb.EnvelopeKind.CHECK_BATCH, pb.EnvelopeKind.KEY_OP, pb.EnvelopeKind.STATS_REQUEST, 99];
  fc.assert(
    fc.property(
      fc.constantFrom(...kinds),
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 80 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.boolean(),
      (kind, payload, signature, signerKey, signFirst) => {
        const base = { id: new Uint8Array(16), origin: "o", originAddress: "127.0.0.1:1", createdMs: 1, ttlMs: 1000, kind, payload, signature, signerKey };
        // Half the inputs are genuinely signed and then altered: the forgery shape.
        const env = signFirst ? { ...signEnvelope(base, key.value), payload: Uint8Array.from([...payload, 1]) } : base;
        const verdict = plain(env);
        const signed = env.signature.length > 0 || env.signerKey.length > 0;
        if (verdict.ok && signed) assert.equal(verifyOwnSignature(env), "ok", "a signed envelope was admitted without verifying");
        if (!verdict.ok) assert.ok(verdict.reason.length > 0);
      },
    ),
    { numRuns: Math.max(200, FUZZ_RUNS / 10) },
  );
});
