import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { type ClusterNode, startCluster, stopAll, viewOf } from "../support/daemon_cluster.js";
import { type DaemonProc, rssBytes, runDaemonToExit, spawnDaemon, tempDir, waitFor } from "../support/proc.js";

/*
 * -nodnod-bind on three real daemons, spoken to as a NodNod client does
 * (mohabusama/nodnod client/client.go: ws://HOST:PORT/, JSON
 * {"type": 0|1, "statType": 0}): STAT answers for the node asked, STATALL
 * for every member with figures of this machine; a member killed with
 * SIGKILL is listed with its error set (as NodNod lists a peer it lost),
 * first while the others still wait for it, then once they declare it dead;
 * a client that never reads is dropped and the daemon's memory stays
 * bounded; a token-protected daemon refuses an upgrade without the token;
 * a port in use stops the daemon at start with a line naming the flag.
 */

interface NodnodNode {
  name: string;
  cpuUsed: number;
  diskTotal: number;
  diskUsed: number;
  diskUsedPercent: number;
  memoryTotal: number;
  memoryUsed: number;
  memoryUsedPercent: number;
  error: string;
}
interface NodnodResponse {
  host: string;
  nodes: Record<string, NodnodNode>;
  error: string;
}

const NAMES = ["na", "nb", "nc"];
let nodes: ClusterNode[] = [];
const node = (name: string) => nodes.find((n) => n.name === name)!;
const nodnodOf = (n: ClusterNode | DaemonProc) => String(("proc" in n ? n.proc : n).startup.nodnod);

before(async () => {
  nodes = await startCluster(NAMES, () => ["-nodnod-bind", "127.0.0.1:0"]);
  await waitFor(async () => (await Promise.all(nodes.map(viewOf))).every((v) => v.join() === NAMES.map((n) => `${n}:alive`).join()), 15_000, "three alive members");
});
after(() => stopAll(nodes));

/** Opens a connection, sends one request per type, returns the answers. */
async function ask(address: string, types: number[], headers: Record<string, string> = {}, path = "/"): Promise<NodnodResponse[]> {
  const ws = new WebSocket(`ws://${address}${path}`, { headers });
  const answers: NodnodResponse[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on("open", () => {
      for (const type of types) ws.send(JSON.stringify({ type, statType: 0 }));
    });
    ws.on("message", (d) => {
      answers.push(JSON.parse(d.toString()) as NodnodResponse);
      if (answers.length === types.length) resolve();
    });
    ws.on("error", reject);
    ws.on("close", (code) => reject(new Error(`closed (${code}) after ${answers.length} answers`)));
  });
  ws.removeAllListeners("close");
  ws.close();
  return answers;
}

function assertFigures(n: NodnodNode | undefined, name: string): void {
  assert.ok(n, `${name} is listed`);
  assert.equal(n.name, name);
  assert.equal(n.error, "", `${name}: ${n.error}`);
  assert.ok(n.memoryTotal > 0 && Number.isInteger(n.memoryTotal) && n.memoryUsed > 0 && n.memoryUsed <= n.memoryTotal, JSON.stringify(n));
  assert.ok(n.memoryUsedPercent > 0 && n.memoryUsedPercent <= 100);
  assert.ok(n.diskTotal > 0 && Number.isInteger(n.diskUsed) && n.diskUsedPercent > 0 && n.diskUsedPercent <= 100, JSON.stringify(n));
  assert.ok(n.cpuUsed >= 0 && n.cpuUsed <= 100);
}

describe("NodNod clients on three daemons", () => {
  it("STAT answers for the node asked; STATALL for every member, each with figures of this machine", async () => {
    const [stat] = await ask(nodnodOf(node("nb")), [0]);
    assert.equal(stat!.host, "nb");
    assert.deepEqual(Object.keys(stat!.nodes), ["nb"]);
    assert.equal(stat!.error, "");
    // The first probes of a daemon read the host cold and may miss their deadline: ask until all answer whole.
    let all: NodnodResponse | undefined;
    await waitFor(
      async () => {
        [all] = await ask(nodnodOf(node("na")), [1]);
        return Object.values(all.nodes).every((n) => n.error === "");
      },
      60_000,
      "every member's figures",
    );
    assert.equal(all!.host, "na");
    assert.equal(all!.error, "");
    assert.deepEqual(Object.keys(all!.nodes), NAMES);
    for (const name of NAMES) assertFigures(all!.nodes[name], name);
  });

  it("a client that sends and never reads is dropped, and the daemon's memory stays bounded", async (t) => {
    const daemon = node("na");
    const before = rssBytes(daemon.proc.pid);
    const ws = new WebSocket(`ws://${nodnodOf(daemon)}/`);
    await new Promise((resolve) => ws.once("open", resolve));
    ws.pause();
    let closed = false;
    ws.on("close", () => (closed = true));
    ws.on("error", () => {});
    let sent = 0;
    const pump = setInterval(() => {
      for (let i = 0; i < 500 && ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 1e6; i++, sent++) ws.send('{"type": 0}');
    }, 5);
    try {
      await waitFor(() => closed, 120_000, "the daemon to drop the client");
    } finally {
      clearInterval(pump);
      ws.terminate();
    }
    const after = rssBytes(daemon.proc.pid);
    t.diagnostic(`${sent} STAT requests sent unread; daemon RSS ${(before / 2 ** 20).toFixed(1)} -> ${(after / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(after - before < 64 * 1024 * 1024, `RSS grew from ${before} to ${after} bytes after ${sent} requests`);
    const [again] = await ask(nodnodOf(daemon), [0]);
    assert.equal(again!.host, "na", "the daemon still answers");
  });

  it("a member killed with SIGKILL is listed with its error set, before and after the others declare it dead", async () => {
    await node("nc").proc.kill9();
    // At once: still alive or suspect to the others, so asked and silent (or already dead).
    const [soon] = await ask(nodnodOf(node("na")), [1]);
    assert.match(soon!.nodes["nc"]?.error ?? "", /no answer within 5000 ms|declared dead/);
    assertFigures(soon!.nodes["nb"], "nb");
    await waitFor(async () => (await viewOf(node("na"))).includes("nc:dead"), 30_000, "na to declare nc dead");
    const [late] = await ask(nodnodOf(node("na")), [1]);
    assert.equal(late!.nodes["nc"]?.error, "declared dead by the membership");
    assert.equal(late!.nodes["nc"]?.memoryTotal, 0);
    assert.equal(late!.error, "", "a lost member is not a failed request");
    assertFigures(late!.nodes["na"], "na");
  });
});

describe("-nodnod-bind with the control API's token, and a port in use", () => {
  const t = tempDir();
  let daemon: DaemonProc | undefined;
  after(async () => {
    await daemon?.stop();
    t.cleanup();
  });

  it("refuses an upgrade without the token (401) and answers with it, in the header or in ?token=", async () => {
    const token = "nodnod-test-token-0123456789";
    const tokenFile = join(t.path, "cli.token");
    writeFileSync(tokenFile, token + "\n", { mode: 0o600 });
    daemon = await spawnDaemon(["-name", "guarded", "-profile", "local", "-nodnod-bind", "127.0.0.1:0", "-cli-token-file", tokenFile]);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://${nodnodOf(daemon!)}/`);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
      ws.on("error", () => {});
    });
    assert.equal(status, 401);
    assert.equal((await ask(nodnodOf(daemon), [0], { authorization: `Bearer ${token}` }))[0]!.host, "guarded");
    assert.equal((await ask(nodnodOf(daemon), [0], {}, `/?token=${token}`))[0]!.host, "guarded");
  });

  it("a port in use stops the daemon at start (exit 2) with a line naming -nodnod-bind and its address", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as AddressInfo).port;
    try {
      const r = await runDaemonToExit([
        "-name",
        "busy",
        "-profile",
        "local",
        "-bind",
        "127.0.0.1:0",
        "-cli-bind",
        "127.0.0.1:0",
        "-data-dir",
        join(t.path, "busy"),
        "-nodnod-bind",
        `127.0.0.1:${port}`,
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^gossipcheckd: -nodnod-bind 127\\.0\\.0\\.1:${port}: the port is already in use.*leave -nodnod-bind out`, "m"));
    } finally {
      holder.close();
    }
  });

  it("a non-loopback -nodnod-bind without a token is refused at start, naming the flag", async () => {
    const r = await runDaemonToExit(["-name", "open", "-bind", "127.0.0.1:0", "-cli-bind", "127.0.0.1:0", "-data-dir", join(t.path, "open"), "-nodnod-bind", "0.0.0.0:0"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /-nodnod-bind 0\.0\.0\.0:0 is not a loopback address.*-cli-token-file/);
  });
});
