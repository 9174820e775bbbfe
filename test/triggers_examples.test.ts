import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { systemClock } from "../src/base/clock.js";
import { nullLogger } from "../src/base/logger.js";
import { TriggerRunner, type TriggerEvent } from "../src/triggers/index.js";
import { waitUntil } from "./support/pids.js";

/*
 * The example trigger scripts of examples/triggers/ run as the README says:
 * one appends the event to a log file, the other posts it to a webhook (a
 * loopback HTTP server here).
 */

const examples = fileURLToPath(new URL("../../examples/triggers/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "gossipcheck-trigger-examples-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const node = { name: "web-01", address: "127.0.0.1:7946" };
const event: TriggerEvent = { event: "member-failed", atMs: 1_700_000_000_000, member: { name: "db-2", address: "10.0.0.2:7946", status: "dead", tags: { role: "db" } } };

function hasCurl(): boolean {
  try {
    execFileSync("curl", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("examples/triggers", () => {
  it("log-event.sh appends each event as one JSON line", async () => {
    const log = join(dir, "logs", "events.log");
    const r = new TriggerRunner({ triggers: [{ event: "member-failed", script: `GOSSIPCHECK_TRIGGER_LOG=${log} ${examples}log-event.sh` }], node, clock: systemClock, log: nullLogger });
    r.fire(event);
    r.fire({ ...event, atMs: event.atMs + 1 });
    await waitUntil("both runs", () => r.counters().ran === 2);
    assert.equal(r.counters().failed, 0);
    const lines = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { atMs: number; node: unknown });
    assert.deepEqual(lines.map((l) => l.atMs).sort(), [event.atMs, event.atMs + 1]);
    assert.deepEqual(lines[0]!.node, node);
    await r.stop();
  });

  it("webhook.sh posts the event with a text line, and does nothing without a URL", { skip: hasCurl() ? false : "no curl on this host" }, async () => {
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (b: Buffer) => (body += b.toString()));
      req.on("end", () => {
        bodies.push(body);
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const r = new TriggerRunner({
        triggers: [
          { event: "member-failed", script: `GOSSIPCHECK_WEBHOOK_URL=${url} ${examples}webhook.sh` },
          { event: "member-failed", script: `GOSSIPCHECK_WEBHOOK_URL= ${examples}webhook.sh` },
        ],
        node,
        clock: systemClock,
        log: nullLogger,
      });
      r.fire(event);
      await waitUntil("both runs", () => r.counters().ran === 2);
      assert.equal(r.counters().failed, 0);
      assert.equal(bodies.length, 1);
      const body = JSON.parse(bodies[0]!) as { event: string; text?: string };
      assert.equal(body.event, "member-failed");
      if (body.text !== undefined) assert.equal(body.text, "web-01: member-failed db-2 (10.0.0.2:7946)");
      await r.stop();
    } finally {
      server.close();
    }
  });
});
