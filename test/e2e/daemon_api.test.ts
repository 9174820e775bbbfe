import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { CheckResult, CheckSpec } from "../../src/checks/types.js";
import type { BatchEvent, BatchSummary, DaemonInfo } from "../../src/control/api_types.js";
import { type ControlApi, startControlApi } from "../../src/daemon/api/server.js";
import type { BatchRequest, ControlBackend } from "../../src/daemon/api/backend.js";
import { nullLogger } from "../../src/base/logger.js";
import { LazyMetrics } from "../../src/daemon/api/lazy_metrics.js";
import type { Member } from "../../src/swim/types.js";
import { ndjsonEvents, waitFor } from "../support/proc.js";

/** A backend that records what the API hands it and answers from fixed data. */
class FakeBackend implements ControlBackend {
  localCalls: CheckSpec[][] = [];
  batchCalls: BatchRequest[] = [];
  abortedStreams = 0;
  /** "finish": accepted, result, done. "hang": accepted, then wait for the abort. "throw": accepted, then fail. */
  mode: "finish" | "hang" | "throw" = "finish";

  info(): Omit<DaemonInfo, "cliAddress"> {
    return {
      name: "fake",
      version: "9.9.9",
      protocolVersion: 1,
      address: "127.0.0.1:3505",
      pid: 1,
      startedMs: 0,
      uptimeMs: 5,
      tags: {},
      actionsEnabled: true,
      members: { alive: 2, suspect: 0, dead: 1, left: 0 },
      counters: { decrypt_failures: 3 },
    };
  }
  async localCheck(checks: CheckSpec[]): Promise<CheckResult[]> {
    this.localCalls.push(checks);
    return checks.map((c) => ({ name: c.name, type: c.type, status: "pass", message: "ok", durationMs: 1 }));
  }
  members(): Member[] {
    return [
      { name: "b-node", address: "10.0.0.2:3505", status: "dead", incarnation: 3, tags: { role: "db" }, statusSinceMs: 1_000 },
      { name: "a-node", address: "10.0.0.1:3505", status: "alive", incarnation: 1, tags: {}, statusSinceMs: 2_000 },
    ];
  }
  async *submitBatch(request: BatchRequest, signal: AbortSignal): AsyncIterable<BatchEvent> {
    this.batchCalls.push(request);
    yield { type: "accepted", batchId: "00".repeat(16), origin: "fake", createdMs: 1, ttlMs: request.ttlMs, expected: [{ name: "fake", address: "127.0.0.1:3505" }] };
    if (this.mode === "hang") {
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      this.abortedStreams++;
      return;
    }
    if (this.mode === "throw") throw new Error("disk on fire");
    yield { type: "result", node: "fake", address: "127.0.0.1:3505", results: [], elapsedMs: 2 };
    yield { type: "done", elapsedMs: 3, timedOut: false };
  }
  batches(): BatchSummary[] {
    return [];
  }
}

const goodChecks = { hostname: { type: "file_exists", path: "/etc/hostname" }, slow: { type: "file_exists", path: "/x", action: "true", timeout: "2s" } };

async function startApi(extra: { token?: string; maxBodyBytes?: number } = {}): Promise<{ api: ControlApi; backend: FakeBackend; url: string }> {
  const backend = new FakeBackend();
  // The daemon's metrics hold the backend's families; the API adds its own.
  const metrics = new LazyMetrics();
  metrics.add((f) => f.gauge("fake_metric", "A backend's family.", () => 1));
  const started = await startControlApi({ bind: { host: "127.0.0.1", port: 0 }, backend, log: nullLogger, now: () => 12_000, metrics, ...extra });
  assert.ok(started.ok);
  return { api: started.api, backend, url: `http://${started.api.address}` };
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe("control API routes", () => {
  let s: Awaited<ReturnType<typeof startApi>>;
  before(async () => (s = await startApi({ maxBodyBytes: 64 * 1024 })));
  after(() => s.api.close());

  it("GET /v1/info returns the backend's info plus the address it listens on and the API's own counters", async () => {
    const res = await fetch(`${s.url}/v1/info`);
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.equal(body.name, "fake");
    assert.equal(body.cliAddress, s.api.address);
    const counters = body.counters as Record<string, number>;
    assert.equal(counters.decrypt_failures, 3);
    assert.equal(counters.api_headersTimeouts, 0);
    assert.ok((counters.api_openConnections ?? 0) >= 1, "this request's connection is open");
  });

  it("POST /v1/local-check validates the checks and returns the results", async () => {
    const res = await fetch(`${s.url}/v1/local-check`, { method: "POST", body: JSON.stringify({ checks: goodChecks }) });
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.equal(body.node, "fake");
    assert.deepEqual(
      (body.results as { name: string }[]).map((r) => r.name),
      ["hostname", "slow"],
    );
    assert.equal(s.backend.localCalls.at(-1)![1]!.timeoutMs, 2000, "the check-file timeout is parsed");
  });

  it("POST /v1/check streams NDJSON events with defaults filled in", async () => {
    const res = await fetch(`${s.url}/v1/check`, { method: "POST", body: JSON.stringify({ checks: goodChecks, nodes: ["fake"], tags: { role: "web" } }) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/x-ndjson/);
    const events = await ndjsonEvents<BatchEvent>(res);
    assert.deepEqual(
      events.map((e) => e.type),
      ["accepted", "result", "done"],
    );
    const req = s.backend.batchCalls.at(-1)!;
    assert.deepEqual([req.dryRun, req.nodes, req.tags, req.ttlMs, req.timeoutMs], [false, ["fake"], { role: "web" }, 300_000, 30_000]);
  });

  it("GET /v1/members lists members by name with their age, and filters by status", async () => {
    const all = await json(await fetch(`${s.url}/v1/members`));
    const members = all.members as { name: string; statusAgeMs: number }[];
    assert.deepEqual(
      members.map((m) => m.name),
      ["a-node", "b-node"],
    );
    assert.deepEqual(
      members.map((m) => m.statusAgeMs),
      [10_000, 11_000],
    );
    const dead = await json(await fetch(`${s.url}/v1/members?status=dead`));
    assert.deepEqual(
      (dead.members as { name: string }[]).map((m) => m.name),
      ["b-node"],
    );
    const bad = await fetch(`${s.url}/v1/members?status=zombie`);
    assert.equal(bad.status, 400);
    assert.match(String((await json(bad)).error), /status "zombie" is not a member status/);
  });

  it("GET /v1/batches and GET /metrics answer in their formats", async () => {
    assert.deepEqual(await json(await fetch(`${s.url}/v1/batches`)), { batches: [] });
    const m = await fetch(`${s.url}/metrics`);
    assert.equal(m.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const text = await m.text();
    assert.match(text, /^fake_metric 1$/m);
    assert.match(text, /^gossipcheck_control_requests_total\{method="GET",path="\/v1\/info",code="200"\} \d+$/m);
  });
});

describe("control API refuses bad requests with a JSON error and stays up", () => {
  let s: Awaited<ReturnType<typeof startApi>>;
  before(async () => (s = await startApi({ maxBodyBytes: 64 * 1024 })));
  after(() => s.api.close());

  const post = (path: string, body: string) => fetch(`${s.url}${path}`, { method: "POST", body });
  async function error(res: Response | Promise<Response>, status: number): Promise<string> {
    const r = await res;
    assert.equal(r.status, status);
    const body = await json(r);
    assert.equal(typeof body.error, "string");
    return body.error as string;
  }

  it("404 for an unknown route, 405 with Allow for a wrong method", async () => {
    assert.match(await error(fetch(`${s.url}/v2/nothing`), 404), /no such endpoint \/v2\/nothing \(endpoints: \/v1\/info/);
    const r = await fetch(`${s.url}/v1/check`);
    assert.equal(r.headers.get("allow"), "POST");
    assert.match(await error(r, 405), /GET is not allowed on \/v1\/check: use POST/);
  });

  it("400 for malformed JSON, an empty body, or a body that is not an object", async () => {
    assert.match(await error(post("/v1/check", "{not json"), 400), /request body is not valid JSON/);
    assert.match(await error(post("/v1/check", ""), 400), /request body is empty/);
    assert.match(await error(post("/v1/local-check", "[1,2]"), 400), /request body must be a JSON object, got an array/);
  });

  it("400 naming the check and field for checks that break the check-file rules", async () => {
    const e = await error(post("/v1/check", JSON.stringify({ checks: { web: { type: "process_runing" } } })), 400);
    assert.match(e, /check "web": field "type": unknown type "process_runing".*did you mean "process_running"/);
    assert.match(await error(post("/v1/check", JSON.stringify({ checks: {} })), 400), /contains no checks/);
    assert.match(await error(post("/v1/check", JSON.stringify({ dryRun: true })), 400), /field "checks" is missing/);
  });

  it("400 for unknown or mistyped batch fields, so a typo never runs actions", async () => {
    const base = { checks: goodChecks };
    assert.match(await error(post("/v1/check", JSON.stringify({ ...base, dry_run: true })), 400), /unknown field "dry_run" \(known fields: checks, dryRun/);
    assert.match(await error(post("/v1/check", JSON.stringify({ ...base, dryRun: "yes" })), 400), /"dryRun" must be true or false/);
    assert.match(await error(post("/v1/check", JSON.stringify({ ...base, nodes: "a" })), 400), /"nodes" must be an array/);
    assert.match(await error(post("/v1/check", JSON.stringify({ ...base, tags: { a: 1 } })), 400), /"tags": "a" must map a key/);
    assert.match(await error(post("/v1/check", JSON.stringify({ ...base, ttlMs: -5 })), 400), /"ttlMs" must be a number of milliseconds/);
    assert.match(await error(post("/v1/check", JSON.stringify({ ...base, timeoutMs: 1e12 })), 400), /"timeoutMs"/);
    assert.match(await error(post("/v1/check", JSON.stringify({ ...base, signed: {} })), 400), /with "signed", leave out "checks": a signed batch carries them inside signed\.payload/);
    assert.match(await error(post("/v1/check", JSON.stringify({ signed: { id: "zz" } })), 400), /"signed\.id" must be 32 lowercase hex/);
    const signed = {
      id: "ab".repeat(16),
      origin: "fake",
      originAddress: "127.0.0.1:3505",
      createdMs: 1,
      ttlMs: 60_000,
      signature: Buffer.alloc(64).toString("base64"),
      signerKey: Buffer.alloc(32).toString("base64"),
    };
    assert.match(await error(post("/v1/check", JSON.stringify({ signed: { ...signed, payload: "////" } })), 400), /"signed\.payload": check batch: undecodable payload/);
    assert.equal(s.backend.batchCalls.length, 0, "no invalid body reached the backend");
  });

  it("413 for a body over the limit, declared or streamed", async () => {
    const big = JSON.stringify({ checks: goodChecks, nodes: ["x".repeat(100 * 1024)] });
    assert.match(await error(post("/v1/check", big), 413), /larger than the limit of 65536 bytes/);
    // Chunked, with no Content-Length to reject it up front.
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 100; i++) c.enqueue(new TextEncoder().encode(" ".repeat(1024)));
        c.close();
      },
    });
    const r = await fetch(`${s.url}/v1/check`, { method: "POST", body: stream, duplex: "half" } as RequestInit);
    assert.equal(r.status, 413);
  });

  it("answers malformed HTTP with 400 and keeps serving", async () => {
    const reply = await new Promise<string>((resolve) => {
      const [host, port] = s.api.address.split(":");
      const sock = connect(Number(port), host, () => sock.write("THIS IS NOT HTTP\r\n\r\n"));
      let got = "";
      sock.on("data", (d) => (got += d));
      sock.on("close", () => resolve(got));
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal((await fetch(`${s.url}/v1/info`)).status, 200);
  });
});

describe("control API streams", () => {
  let s: Awaited<ReturnType<typeof startApi>>;
  before(async () => (s = await startApi()));
  after(() => s.api.close());

  it("aborts the backend's wait when the client disconnects", async () => {
    s.backend.mode = "hang";
    const ac = new AbortController();
    const res = await fetch(`${s.url}/v1/check`, { method: "POST", body: JSON.stringify({ checks: goodChecks }), signal: ac.signal });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.equal((JSON.parse(first.split("\n")[0]!) as BatchEvent).type, "accepted");
    ac.abort();
    await waitFor(() => s.backend.abortedStreams === 1, 5_000, "the backend to see the abort");
  });

  it("ends the stream with an error line when the backend fails midway", async () => {
    s.backend.mode = "throw";
    const res = await fetch(`${s.url}/v1/check`, { method: "POST", body: JSON.stringify({ checks: goodChecks }) });
    const events = await ndjsonEvents<BatchEvent>(res);
    assert.deepEqual(
      events.map((e) => e.type),
      ["accepted", "error"],
    );
    assert.match((events[1] as { error: string }).error, /disk on fire/);
    assert.equal((await fetch(`${s.url}/v1/info`)).status, 200, "still serving");
  });
});

describe("control API bearer token", () => {
  let s: Awaited<ReturnType<typeof startApi>>;
  const token = "s3cret-token-0123456789";
  before(async () => (s = await startApi({ token })));
  after(() => s.api.close());

  it("401 with no token or a wrong one, on every route", async () => {
    for (const headers of <Record<string, string>[]>[{}, { authorization: "Bearer wrong-token-0123456789" }, { authorization: token }, { authorization: `Basic ${token}` }]) {
      for (const path of ["/v1/info", "/metrics"]) {
        const r = await fetch(`${s.url}${path}`, { headers });
        assert.equal(r.status, 401, `${path} with ${JSON.stringify(headers)}`);
        assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="gossipcheckd"');
        assert.match(String((await json(r)).error), /missing or wrong token/);
      }
    }
    const r = await fetch(`${s.url}/v1/local-check`, { method: "POST", body: JSON.stringify({ checks: goodChecks }) });
    assert.equal(r.status, 401);
    assert.equal(s.backend.localCalls.length, 0);
  });

  it("serves requests that carry the right token", async () => {
    const r = await fetch(`${s.url}/v1/info`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    assert.equal((await json(r)).name, "fake");
  });
});

describe("control API listening", () => {
  it("reports a port in use as a value, not a crash", async () => {
    const s = await startApi();
    const [host, port] = s.api.address.split(":");
    const second = await startControlApi({ bind: { host: host!, port: Number(port) }, backend: new FakeBackend(), log: nullLogger });
    assert.equal(second.ok, false);
    assert.equal((second as { code: string }).code, "EADDRINUSE");
    assert.match((second as { error: string }).error, /already in use/);
    await s.api.close();
  });
});
