import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { encodeCheckBatch } from "../../src/checks/codec.js";
import { ControlClient } from "../../src/cli/client.js";
import { signBatch } from "../../src/cli/signing.js";
import type { BatchEvent } from "../../src/control/api_types.js";
import { encodeGossip } from "../../src/gossip/codec.js";
import { encodeFrame } from "../../src/net/connection.js";
import { lengthPrefix } from "../../src/net/framing.js";
import { PayloadGuard } from "../../src/net/guard.js";
import { Channel } from "../../src/net/transport.js";
import { pb } from "../../src/proto/index.js";
import { type ClusterNode, infoOf, startCluster, stopAll, waitForView } from "../support/daemon_cluster.js";
import { runGcheck, tempDir, waitFor } from "../support/proc.js";
import { helloFrame } from "../net_helpers.js";

/*
 * The censorship from the hardening issue, on real daemons that all have
 * -trusted-keys: a copy of a genuine signed batch's envelope, same ID, other
 * checks, bad signature, reaches every node first (pushed by a cluster
 * member gone rogue). Before, every node recorded the ID as seen and then
 * refused the genuine batch as "already published or seen here".
 */

const t = tempDir("gc-forged-");
let nodes: ClusterNode[] = [];
after(async () => {
  await stopAll(nodes);
  t.cleanup();
});

/** Pushes an envelope to a node's cluster port as a member would (hello, then a one-way gossip push). */
async function push(address: string, env: pb.Envelope.$Properties): Promise<void> {
  const [host, port] = address.split(":");
  const socket = connect({ host: host!, port: Number(port) });
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const payload = encodeFrame({ guard: new PayloadGuard(null, "") }, { channel: Channel.Gossip, oneWay: true, body: encodeGossip({ kind: "push", envelope: env as never }), from: "127.0.0.1:1" });
  await new Promise<void>((resolve) => socket.end(Buffer.concat([helloFrame(), lengthPrefix(payload.length), payload]), resolve));
}

describe("a forged copy of a signed batch, delivered first", () => {
  it("is refused everywhere without consuming the ID, and the genuine batch then runs on every node", async () => {
    const trusted = join(t.path, "trusted");
    mkdirSync(trusted);
    assert.equal((await runGcheck(["keygen", "-signing", "-out", join(t.path, "operator")])).code, 0);
    writeFileSync(join(trusted, "operator.pub"), readFileSync(join(t.path, "operator.pub")));
    const names = ["fa", "fb", "fc"];
    nodes = await startCluster(names, () => ["-trusted-keys", trusted]);
    await waitForView(
      nodes,
      names.map((n) => `${n}:alive`),
    );

    const marker = (what: string) => join(t.path, `${what}-$GOSSIPCHECK_NODE`);
    const genuineBatch = {
      checks: [{ name: "deploy", type: "file_exists" as const, path: join(t.path, "never"), action: `touch ${marker("genuine")}` }],
      dryRun: false,
      targetNodes: [],
      targetTags: {},
    };
    const client = new ControlClient({ server: nodes[0]!.cli });
    const signed = await signBatch(client, join(t.path, "operator.key"), genuineBatch, 60_000);

    // The forgery: the genuine ID, origin and signature, other checks.
    const evil = encodeCheckBatch({ ...genuineBatch, checks: [{ name: "deploy", type: "file_exists", path: join(t.path, "never"), action: `touch ${marker("forged")}` }] });
    const forged = {
      version: 1,
      id: Buffer.from(signed.id, "hex"),
      origin: signed.origin,
      originAddress: signed.originAddress,
      createdMs: signed.createdMs,
      ttlMs: signed.ttlMs,
      kind: pb.EnvelopeKind.CHECK_BATCH,
      payload: evil,
      signature: Buffer.from(signed.signature, "base64"),
      signerKey: Buffer.from(signed.signerKey, "base64"),
    };
    for (const n of nodes) await push(n.address, forged);
    await waitFor(async () => (await Promise.all(nodes.map(infoOf))).every((i) => (i.counters.gossip_refusedAdmission ?? 0) >= 1), 10_000, "every node to refuse the forged copy");

    const events: BatchEvent[] = [];
    for await (const e of client.stream("/v1/check", { signed, timeoutMs: 15_000 })) events.push(e as BatchEvent);
    const results = events
      .filter((e) => e.type === "result")
      .map((e) => (e as { node: string }).node)
      .sort();
    assert.deepEqual(results, names, `every node ran the genuine batch: ${JSON.stringify(events)}`);
    for (const n of names) {
      assert.ok(existsSync(join(t.path, `genuine-${n}`)), `the genuine action ran on ${n}`);
      assert.equal(existsSync(join(t.path, `forged-${n}`)), false, `the forged action never ran on ${n}`);
    }
  });
});
