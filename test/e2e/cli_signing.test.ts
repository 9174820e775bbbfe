import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { encodeCheckBatch } from "../../src/checks/codec.js";
import { ControlClient } from "../../src/cli/client.js";
import { signBatch } from "../../src/cli/signing.js";
import type { BatchEvent } from "../../src/control/api_types.js";
import { type DaemonProc, runGcheck, spawnDaemon, tempDir, waitFor } from "../support/proc.js";
import { encodeKeyOp } from "../../src/control/key_op.js";

/*
 * Signed batches on one node: gcheck keygen -signing makes the pair, gcheck
 * check -sign-key signs, a daemon with -trusted-keys runs only what a
 * trusted key signed and reports everything else as rejected, running no
 * action.
 */

const t = tempDir("gcheck-sign-");
const trusted = join(t.path, "trusted");
let d: DaemonProc;
const gcheck = (...args: string[]) => runGcheck(["-server", d.cliAddress!, ...args]);

/** A check whose action leaves a marker, so "no action ran" is observable. */
function markerFile(name: string): { file: string; marker: string } {
  const marker = join(t.path, `${name}.marker`);
  const file = join(t.path, `${name}.json`);
  writeFileSync(file, JSON.stringify({ needs_marker: { type: "file_exists", path: marker, action: `touch ${marker}` } }));
  return { file, marker };
}

before(async () => {
  mkdirSync(trusted);
  const op = await runGcheck(["keygen", "-signing", "-out", join(t.path, "operator")]);
  assert.equal(op.code, 0, op.stderr);
  writeFileSync(join(trusted, "operator.pub"), readFileSync(join(t.path, "operator.pub")));
  assert.equal((await runGcheck(["keygen", "-signing", "-out", join(t.path, "stranger")])).code, 0);
  d = await spawnDaemon(["-name", "guarded", "-trusted-keys", trusted]);
});
after(async () => {
  await d.stop();
  t.cleanup();
});

describe("gcheck keygen -signing", () => {
  it("writes a private key only its owner can read and a public key, and never overwrites them", async () => {
    assert.equal(statSync(join(t.path, "operator.key")).mode & 0o777, 0o600);
    assert.match(readFileSync(join(t.path, "operator.key"), "utf8"), /^-----BEGIN PRIVATE KEY-----/);
    assert.match(readFileSync(join(t.path, "operator.pub"), "utf8"), /^-----BEGIN PUBLIC KEY-----/);
    const again = await runGcheck(["keygen", "-signing", "-out", join(t.path, "operator")]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /a key file with that name exists/);
  });
});

describe("a daemon with -trusted-keys", () => {
  it("runs a batch signed by a trusted key", async () => {
    const { file, marker } = markerFile("trusted");
    const r = await gcheck("-file", file, "check", "-sign-key", join(t.path, "operator.key"));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^guarded\s+needs_marker\s+FIXED\s/m);
    assert.ok(existsSync(marker));
  });

  it("rejects an unsigned batch and runs nothing", async () => {
    const { file, marker } = markerFile("unsigned");
    const r = await gcheck("-file", file, "check");
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^guarded\s+-\s+REJECTED\s+-\s+unsigned$/m);
    assert.equal(existsSync(marker), false);
  });

  it("refuses, before publishing anything, a batch signed by a key it does not trust (403, exit 2)", async () => {
    const { file, marker } = markerFile("stranger");
    const r = await gcheck("-file", file, "check", "-sign-key", join(t.path, "stranger.key"), "-output", "json");
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /answered 403: the signed batch is signed by a key this node does not trust \(fingerprint [0-9a-f]{8}\)/);
    assert.equal(existsSync(marker), false);
  });

  it("refuses, before publishing anything, a signed batch whose checks were changed after signing (400)", async () => {
    const { marker } = markerFile("tampered");
    const client = new ControlClient({ server: d.cliAddress! });
    const honest = { checks: [{ name: "harmless", type: "file_exists" as const, path: "/" }], dryRun: false, targetNodes: [], targetTags: {} };
    const signed = await signBatch(client, join(t.path, "operator.key"), honest, 60_000);
    const evil = encodeCheckBatch({ ...honest, checks: [{ name: "harmless", type: "file_exists", path: marker, action: `touch ${marker}` }] });
    const stream = async () => {
      for await (const _ of client.stream("/v1/check", { signed: { ...signed, payload: Buffer.from(evil).toString("base64") }, timeoutMs: 5_000 }));
    };
    await assert.rejects(stream, /answered 400: the signed batch does not verify against the key it names \(bad signature\): it was changed after signing/);
    assert.equal(existsSync(marker), false);
  });

  it("refuses to replay a signed batch that has expired", async () => {
    const client = new ControlClient({ server: d.cliAddress! });
    const batch = { checks: [{ name: "x", type: "file_exists" as const, path: "/" }], dryRun: false, targetNodes: [], targetTags: {} };
    const signed = await signBatch(client, join(t.path, "operator.key"), batch, 1_000);
    // Waits for the batch's TTL to run out (a condition on the clock, not a guess).
    await waitFor(() => Date.now() > signed.createdMs + 1_050, 5_000, "the signed batch to expire");
    const events: BatchEvent[] = [];
    for await (const e of client.stream("/v1/check", { signed, timeoutMs: 5_000 })) events.push(e as BatchEvent);
    assert.equal(events[1]?.type, "rejected");
    assert.match((events[1] as { reason: string }).reason, /expired/);
  });
});

describe("key operations on a keyed daemon with -trusted-keys", () => {
  let kd: DaemonProc;
  const kt = tempDir("gcheck-sign-keys-");
  const keys = (...args: string[]) => runGcheck(["-server", kd.cliAddress!, "-output", "json", "keys", ...args]);
  interface KeysDoc {
    exitCode: number;
    nodes: { node: string; state: string; error?: string; keys?: string[] }[];
  }
  const doc = (r: { stdout: string; stderr: string }) => {
    try {
      return JSON.parse(r.stdout) as KeysDoc;
    } catch {
      throw new Error(`gcheck keys printed no JSON:\n${r.stdout}\n${r.stderr}`);
    }
  };
  const newKey = async () => (await runGcheck(["keygen"])).stdout.trim();

  before(async () => {
    writeFileSync(join(kt.path, "cluster.key"), (await newKey()) + "\n", { mode: 0o600 });
    kd = await spawnDaemon(["-name", "keyed-guarded", "-trusted-keys", trusted, "-key-file", join(kt.path, "cluster.key")]);
  });
  after(async () => {
    await kd?.stop();
    kt.cleanup();
  });

  it("lists the keys without a signature, but changes them only on an operator's signature", async () => {
    const listed = doc(await keys("list"));
    assert.deepEqual(
      listed.nodes.map((n) => [n.state, n.keys?.length]),
      [["ok", 1]],
    );

    const fresh = await newKey();
    const unsigned = await keys("install", fresh);
    assert.equal(unsigned.code, 1, unsigned.stderr);
    assert.deepEqual(
      doc(unsigned).nodes.map((n) => [n.state, n.error]),
      [["rejected", "unsigned"]],
    );
    const stranger = await keys("install", fresh, "-sign-key", join(t.path, "stranger.key"));
    assert.equal(stranger.code, 2, stranger.stdout + stranger.stderr);
    assert.match(stranger.stderr, /answered 403: the signed key operation is signed by a key this node does not trust/);
    assert.equal(doc(await keys("list")).nodes[0]!.keys?.length, 1, "the keyring did not change");

    const signed = await keys("install", fresh, "-sign-key", join(t.path, "operator.key"));
    assert.equal(signed.code, 0, signed.stdout + signed.stderr);
    assert.deepEqual(
      doc(signed).nodes.map((n) => [n.state, n.keys?.length]),
      [["ok", 2]],
    );
    const used = await keys("use", fresh, "-sign-key", join(t.path, "operator.key"));
    assert.equal(used.code, 0, used.stdout + used.stderr);
  });

  it("refuses a signed operation whose key was changed after signing (400, nothing published)", async () => {
    const client = new ControlClient({ server: kd.cliAddress! });
    const { signKeyOp } = await import("../../src/cli/signing.js");
    const signed = await signKeyOp(client, join(t.path, "operator.key"), "install", Buffer.from(await newKey(), "base64"), 10_000);
    const swapped = Buffer.from(encodeKeyOp("install", Buffer.from(await newKey(), "base64"))).toString("base64");
    const stream = async () => {
      for await (const _ of client.stream("/v1/keys", { signed: { ...signed, payload: swapped }, timeoutMs: 5_000 }));
    };
    await assert.rejects(stream, /answered 400: the signed key operation does not verify against the key it names \(bad signature\)/);
    assert.equal(doc(await keys("list")).nodes[0]!.keys?.length, 2, "the keyring did not change");
  });
});
