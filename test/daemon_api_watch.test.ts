import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CheckResult, CheckSpec } from "../src/checks/types.js";
import type { BatchEvent, BatchSummary, DaemonInfo } from "../src/control/api_types.js";
import type { HistoryEvent, ScheduleInfo } from "../src/control/watch_types.js";
import { ControlClient } from "../src/cli/client.js";
import { signSchedule } from "../src/cli/signing.js";
import { decodeSchedule } from "../src/control/schedule_codec.js";
import type { ControlBackend, HistoryRequest, HistoryStart, ResultsRequest, ScheduleChange, ScheduleRemoveRequest, ScheduleSetRequest } from "../src/daemon/api/backend.js";
import { type ControlApi, startControlApi } from "../src/daemon/api/server.js";
import { matchPath } from "../src/daemon/api/route_match.js";
import { generateSigningKeyPair, verifyOwnSignature } from "../src/gossip/signing.js";
import { pb } from "../src/proto/index.js";
import { nullLogger } from "../src/base/logger.js";
import type { Member } from "../src/swim/types.js";

/*
 * The always-on routes of the control API against a fake backend:
 * schedules (prefix routes, names by the one rule, signed bodies decoded),
 * past results, history and status streams, the validation errors that name
 * the field, and 501 from a backend without the methods.
 */

const NODE = "fake";

/** The methods every backend has, answering nothing in particular. */
class BareBackend implements ControlBackend {
  info(): Omit<DaemonInfo, "cliAddress"> {
    return {
      name: NODE,
      version: "9.9.9",
      protocolVersion: 1,
      address: "127.0.0.1:3505",
      pid: 1,
      startedMs: 0,
      uptimeMs: 5,
      tags: {},
      actionsEnabled: true,
      members: { alive: 1, suspect: 0, dead: 0, left: 0 },
      counters: {},
    };
  }
  async localCheck(): Promise<CheckResult[]> {
    return [];
  }
  members(): Member[] {
    return [];
  }
  async *submitBatch(): AsyncIterable<BatchEvent> {
    yield { type: "done", elapsedMs: 0, timedOut: false };
  }
  batches(): BatchSummary[] {
    return [];
  }
}

const web: ScheduleInfo = {
  name: "web",
  version: 1_700_000_000_000,
  id: "ab".repeat(16),
  origin: NODE,
  submitter: "ops@laptop",
  signer: "",
  checks: 1,
  nodes: [],
  tags: { role: "web" },
  runsHere: true,
  source: "cluster",
  document: { nginx: { type: "process_running", check: "nginx", interval: "30s" } },
};

/** Records what the API hands it; answers from fixed data. */
class WatchBackend extends BareBackend {
  sets: ScheduleSetRequest[] = [];
  removes: ScheduleRemoveRequest[] = [];
  results: ResultsRequest[] = [];
  questions: { what: string; request: HistoryRequest }[] = [];
  /** The next set answers this refusal instead. */
  refuse?: { status: number; error: string };

  schedules(): ScheduleInfo[] {
    const { document: _doc, ...listed } = web;
    return [listed];
  }
  schedule(name: string): ScheduleInfo | undefined {
    return name === "web" ? web : undefined;
  }
  setSchedule(request: ScheduleSetRequest): ScheduleChange {
    this.sets.push(request);
    if (this.refuse) return { ok: false, ...this.refuse };
    return { ok: true, change: { name: request.name, version: 1_700_000_000_001, id: "cd".repeat(16), removed: false } };
  }
  removeSchedule(request: ScheduleRemoveRequest): ScheduleChange {
    this.removes.push(request);
    if (request.name !== "web") return { ok: false, status: 404, error: `no schedule named ${request.name}` };
    return { ok: true, change: { name: request.name, version: 1_700_000_000_002, id: "ef".repeat(16), removed: true } };
  }
  batchResults(request: ResultsRequest): HistoryStart<BatchEvent> {
    this.results.push(request);
    const events: BatchEvent[] = [
      { type: "accepted", batchId: request.batchId, origin: NODE, createdMs: 1, ttlMs: 0, expected: [{ name: "a", address: "a:1" }] },
      { type: "result", node: "a", address: "a:1", results: [], elapsedMs: 1 },
      { type: "done", elapsedMs: 2, timedOut: false },
    ];
    return { ok: true, events: fromArray(events) };
  }
  clusterHistory(what: "history" | "status", request: HistoryRequest): HistoryStart<HistoryEvent> {
    this.questions.push({ what, request });
    if (request.nodes.includes("busy")) return { ok: false, error: "too many questions in flight" };
    const answer = what === "status" ? { what, checks: [], verdicts: [] } : { what, batches: [], transitions: [], truncated: false };
    const events: HistoryEvent[] = [
      { type: "accepted", id: "01".repeat(16), origin: NODE, createdMs: 1, expected: [{ name: "a", address: "a:1" }] },
      { type: "answer", node: "a", address: "a:1", answer: answer as never, elapsedMs: 1 },
      { type: "done", elapsedMs: 2, timedOut: false },
    ];
    return { ok: true, events: fromArray(events) };
  }
}

async function* fromArray<E>(events: E[]): AsyncIterable<E> {
  yield* events;
}

async function startApi(backend: ControlBackend): Promise<{ api: ControlApi; url: string }> {
  const started = await startControlApi({ bind: { host: "127.0.0.1", port: 0 }, backend, log: nullLogger });
  assert.ok(started.ok);
  return { api: started.api, url: `http://${started.api.address}` };
}

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const res = await fetch(url, { method, ...(body !== undefined && { body: typeof body === "string" ? body : JSON.stringify(body) }) });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text.split("\n")[0]!) as Record<string, unknown>;
  } catch {
    // an NDJSON stream or nothing: the caller reads text
  }
  return { status: res.status, json, text };
}

const lines = (text: string) =>
  text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string });

const scheduled = { nginx: { type: "process_running", check: "nginx", interval: "30s", splay: "5s" }, api: { type: "tcp", address: "127.0.0.1:80", interval: "1m", quorum: "majority" } };

describe("route paths with a named segment", () => {
  it("match one non-empty segment, and only that", () => {
    assert.deepEqual(matchPath("/v1/schedules/:name", "/v1/schedules/web"), { name: "web" });
    assert.deepEqual(matchPath("/v1/schedules/:name", "/v1/schedules/a%20b"), { name: "a%20b" });
    assert.equal(matchPath("/v1/schedules/:name", "/v1/schedules/"), null);
    assert.equal(matchPath("/v1/schedules/:name", "/v1/schedules"), null);
    assert.equal(matchPath("/v1/schedules/:name", "/v1/schedules/a/b"), null);
    assert.equal(matchPath("/v1/schedules/:name", "/v1/other/web"), null);
    assert.deepEqual(matchPath("/v1/info", "/v1/info"), {});
    assert.equal(matchPath("/v1/info", "/v1/info/"), null);
  });
});

describe("control API: schedules, results, history, status", () => {
  let backend: WatchBackend;
  let s: { api: ControlApi; url: string };
  before(async () => {
    backend = new WatchBackend();
    s = await startApi(backend);
  });
  after(() => s.api.close());

  it("GET /v1/schedules lists what the node knows; GET /v1/schedules/NAME adds the document", async () => {
    const list = await call(`${s.url}/v1/schedules`, "GET");
    assert.equal(list.status, 200);
    assert.equal(list.json.node, NODE);
    assert.deepEqual(
      (list.json.schedules as ScheduleInfo[]).map((x) => [x.name, x.document]),
      [["web", undefined]],
    );
    const one = await call(`${s.url}/v1/schedules/web`, "GET");
    assert.equal(one.status, 200);
    assert.deepEqual(one.json, web as unknown as Record<string, unknown>);
  });

  it("GET /v1/schedules/NAME: 404 for an unknown name, 400 for a name outside the rule or a malformed escape, 405 for POST", async () => {
    const unknown = await call(`${s.url}/v1/schedules/db`, "GET");
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.json.error), /no schedule named db on fake/);
    const spaced = await call(`${s.url}/v1/schedules/a%20b`, "GET");
    assert.equal(spaced.status, 400);
    assert.match(String(spaced.json.error), /path \/v1\/schedules\/NAME: "a b" is not a schedule name: use 1 to 128 characters of A-Z/);
    const long = await call(`${s.url}/v1/schedules/${"x".repeat(129)}`, "GET");
    assert.equal(long.status, 400);
    const malformed = await call(`${s.url}/v1/schedules/%zz`, "GET");
    assert.equal(malformed.status, 400);
    assert.match(String(malformed.json.error), /not valid percent-encoding/);
    const post = await fetch(`${s.url}/v1/schedules/web`, { method: "POST", body: "{}" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, DELETE");
  });

  it("POST /v1/schedules validates, then hands the checks, the document as sent, the targeting and the submitter to the backend", async () => {
    const res = await call(`${s.url}/v1/schedules`, "POST", { name: "web.v2:blue-1", checks: scheduled, tags: { role: "web" }, nodes: ["a"], submitter: "ops@laptop" });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { name: "web.v2:blue-1", version: 1_700_000_000_001, id: "cd".repeat(16), removed: false });
    const req = backend.sets.at(-1)!;
    assert.deepEqual(
      req.checks.map((c) => [c.name, c.intervalMs, c.splayMs, c.quorum]),
      [
        ["nginx", 30_000, 5_000, undefined],
        ["api", 60_000, undefined, "majority"],
      ],
    );
    assert.deepEqual([req.document, req.nodes, req.tags, req.submitter, req.signed], [scheduled, ["a"], { role: "web" }, "ops@laptop", undefined]);
  });

  it("POST /v1/schedules: every error names the field, or the check without an interval", async () => {
    const cases: [unknown, RegExp][] = [
      [{ checks: scheduled }, /field "name" is missing/],
      [{ name: "a b", checks: scheduled }, /field "name": "a b" is not a schedule name/],
      [{ name: "web" }, /field "checks" is missing/],
      [{ name: "web", checks: { ...scheduled, once: { type: "file_exists", path: "/x" } } }, /field "checks": check "once" has no "interval": every check of a schedule needs one/],
      [{ name: "web", checks: { x: { type: "file_exists", path: "/x", interval: "10ms" } } }, /check "x".*"interval".*shorter than 1s/],
      [{ name: "web", checks: scheduled, tags: { role: 1 } }, /field "tags"/],
      [{ name: "web", checks: scheduled, submitter: 7 }, /field "submitter" must be a string/],
      [{ name: "web", checks: scheduled, every: "1m" }, /unknown field "every"/],
      [{ name: "web", signed: { id: "00" } }, /with "signed", leave out "name"/],
    ];
    for (const [body, error] of cases) {
      const res = await call(`${s.url}/v1/schedules`, "POST", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(String(res.json.error), error, JSON.stringify(body));
    }
  });

  it("POST /v1/schedules answers the backend's refusal with its status", async () => {
    backend.refuse = { status: 403, error: "this cluster accepts only signed schedules: gcheck schedule set -sign-key F" };
    try {
      const res = await call(`${s.url}/v1/schedules`, "POST", { name: "web", checks: scheduled });
      assert.equal(res.status, 403);
      assert.match(String(res.json.error), /only signed schedules/);
    } finally {
      delete backend.refuse;
    }
  });

  describe("signed schedules (gcheck's signing, decoded by the API)", () => {
    let dir: string;
    let keyFile: string;
    let client: ControlClient;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "gcheck-sched-"));
      keyFile = join(dir, "ops.key");
      await writeFile(keyFile, generateSigningKeyPair().privateKey);
      client = new ControlClient({ server: s.api.address });
    });
    after(() => rm(dir, { recursive: true, force: true }));

    const checks: CheckSpec[] = [{ name: "nginx", type: "process_running", check: "nginx", intervalMs: 30_000 }];

    it("a set: name, checks and targeting come from the payload, and the envelope verifies as a SCHEDULE", async () => {
      const signed = await signSchedule(client, keyFile, {
        name: "web",
        version: 42,
        removed: false,
        batch: { checks, dryRun: false, targetNodes: ["a"], targetTags: { role: "web" } },
        submitter: "ops@laptop",
      });
      const res = await call(`${s.url}/v1/schedules`, "POST", { signed });
      assert.equal(res.status, 200, res.text);
      const req = backend.sets.at(-1)!;
      assert.deepEqual([req.name, req.nodes, req.tags, req.submitter], ["web", ["a"], { role: "web" }, "ops@laptop"]);
      assert.deepEqual(req.checks, checks);
      assert.deepEqual(req.document, { nginx: { type: "process_running", check: "nginx", interval: "30000ms" } });
      const env = { ...req.signed!, kind: pb.EnvelopeKind.SCHEDULE };
      assert.equal(verifyOwnSignature(env), "ok");
      const decoded = decodeSchedule(req.signed!.payload);
      assert.ok(decoded.ok);
      assert.equal(decoded.schedule.version, 42);
    });

    it("a signed schedule without intervals, or a removal sent as a set, is refused naming why", async () => {
      const once = await signSchedule(client, keyFile, {
        name: "web",
        version: 43,
        removed: false,
        batch: { checks: [{ name: "x", type: "file_exists", path: "/x" }], dryRun: false, targetNodes: [], targetTags: {} },
        submitter: "",
      });
      const res = await call(`${s.url}/v1/schedules`, "POST", { signed: once });
      assert.equal(res.status, 400);
      assert.match(String(res.json.error), /field "signed.payload": schedule web: check "x" has no "interval"/);
      const removal = await signSchedule(client, keyFile, { name: "web", version: 44, removed: true, batch: { checks: [], dryRun: false, targetNodes: [], targetTags: {} }, submitter: "" });
      const asSet = await call(`${s.url}/v1/schedules`, "POST", { signed: removal });
      assert.equal(asSet.status, 400);
      assert.match(String(asSet.json.error), /is a removal: send it with DELETE \/v1\/schedules\/web/);
    });

    it("DELETE /v1/schedules/NAME takes a signed removal of that very name only", async () => {
      const removal = await signSchedule(client, keyFile, { name: "web", version: 45, removed: true, batch: { checks: [], dryRun: false, targetNodes: [], targetTags: {} }, submitter: "ops@laptop" });
      const other = await call(`${s.url}/v1/schedules/db`, "DELETE", { signed: removal });
      assert.equal(other.status, 400);
      assert.match(String(other.json.error), /removes schedule web, but the path names db/);
      const res = await call(`${s.url}/v1/schedules/web`, "DELETE", { signed: removal });
      assert.equal(res.status, 200, res.text);
      assert.equal(backend.removes.at(-1)!.submitter, "ops@laptop");
      assert.ok(backend.removes.at(-1)!.signed);
    });
  });

  it("DELETE /v1/schedules/NAME: with no body, with {submitter}, and the backend's 404", async () => {
    const bare = await call(`${s.url}/v1/schedules/web`, "DELETE");
    assert.equal(bare.status, 200, bare.text);
    assert.deepEqual(bare.json, { name: "web", version: 1_700_000_000_002, id: "ef".repeat(16), removed: true });
    assert.deepEqual(backend.removes.at(-1), { name: "web", submitter: "" });
    await call(`${s.url}/v1/schedules/web`, "DELETE", { submitter: "me@here" });
    assert.deepEqual(backend.removes.at(-1), { name: "web", submitter: "me@here" });
    const unknown = await call(`${s.url}/v1/schedules/db`, "DELETE");
    assert.equal(unknown.status, 404);
    const bad = await call(`${s.url}/v1/schedules/web`, "DELETE", { reason: "x" });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.error), /unknown field "reason"/);
  });

  it("POST /v1/results streams the backend's batch events; the batch ID and targeting are validated", async () => {
    const id = "3f".repeat(16);
    const res = await call(`${s.url}/v1/results`, "POST", { batchId: id, tags: { role: "web" } });
    assert.equal(res.status, 200);
    assert.deepEqual(
      lines(res.text).map((e) => e.type),
      ["accepted", "result", "done"],
    );
    assert.deepEqual(backend.results.at(-1), { batchId: id, nodes: [], tags: { role: "web" }, timeoutMs: 10_000 });
    for (const [body, error] of [
      [{}, /field "batchId" must be a batch ID: 32 lowercase hex digits/],
      [{ batchId: id.toUpperCase() }, /field "batchId"/],
      [{ batchId: id, timeoutMs: 5 }, /field "timeoutMs" must be a number of milliseconds from 100/],
      [{ batchId: id, nodes: "a" }, /field "nodes" must be an array/],
    ] as [unknown, RegExp][]) {
      const bad = await call(`${s.url}/v1/results`, "POST", body);
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.match(String(bad.json.error), error);
    }
  });

  it("POST /v1/history and /v1/status stream the node answers; their filters are validated with defaults filled in", async () => {
    const h = await call(`${s.url}/v1/history`, "POST", { check: "nginx", sinceMs: 5, status: "fail", limit: 20 });
    assert.equal(h.status, 200);
    assert.deepEqual(
      lines(h.text).map((e) => e.type),
      ["accepted", "answer", "done"],
    );
    assert.deepEqual(backend.questions.at(-1), { what: "history", request: { nodes: [], tags: {}, check: "nginx", sinceMs: 5, status: "fail", limit: 20, timeoutMs: 10_000 } });
    await call(`${s.url}/v1/history`, "POST", {});
    assert.equal(backend.questions.at(-1)!.request.limit, 100);
    const st = await call(`${s.url}/v1/status`, "POST", { nodes: ["a"], timeoutMs: 2_000 });
    assert.equal(st.status, 200);
    assert.equal(backend.questions.at(-1)!.what, "status");
    assert.deepEqual(backend.questions.at(-1)!.request.nodes, ["a"]);
    for (const [path, body, error] of [
      ["/v1/history", { status: "broken" }, /field "status" must be one of pass, warn, fixed, fail, error/],
      ["/v1/history", { limit: 0 }, /field "limit" must be a whole number from 1 to 10000/],
      ["/v1/history", { sinceMs: -1 }, /field "sinceMs"/],
      ["/v1/history", { check: "" }, /field "check"/],
      ["/v1/status", { check: "nginx" }, /unknown field "check"/],
    ] as [string, unknown, RegExp][]) {
      const bad = await call(`${s.url}${path}`, "POST", body);
      assert.equal(bad.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.match(String(bad.json.error), error);
    }
  });

  it("a question the backend cannot start is a 503, as for stats", async () => {
    const res = await call(`${s.url}/v1/status`, "POST", { nodes: ["busy"] });
    assert.equal(res.status, 503);
    assert.match(String(res.json.error), /too many questions in flight/);
  });

  it("counts requests under the route's pattern, not the name in the path", async () => {
    await call(`${s.url}/v1/schedules/web`, "GET");
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /gossipcheck_control_requests_total\{method="GET",path="\/v1\/schedules\/:name",code="200"\} \d+/);
    assert.doesNotMatch(metrics, /path="\/v1\/schedules\/web"/);
  });
});

describe("control API on a daemon without the always-on parts", () => {
  let s: { api: ControlApi; url: string };
  before(async () => (s = await startApi(new BareBackend())));
  after(() => s.api.close());

  it("answers 501 on every new route, after validating the body", async () => {
    const cases: [string, string, unknown][] = [
      ["GET", "/v1/schedules", undefined],
      ["GET", "/v1/schedules/web", undefined],
      ["POST", "/v1/schedules", { name: "web", checks: scheduled }],
      ["DELETE", "/v1/schedules/web", undefined],
      ["POST", "/v1/results", { batchId: "ab".repeat(16) }],
      ["POST", "/v1/history", {}],
      ["POST", "/v1/status", {}],
    ];
    for (const [method, path, body] of cases) {
      const res = await call(`${s.url}${path}`, method, body);
      assert.equal(res.status, 501, `${method} ${path}: ${res.text}`);
      assert.match(String(res.json.error), /^this daemon /);
    }
  });
});
