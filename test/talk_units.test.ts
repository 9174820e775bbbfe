import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { systemClock } from "../src/base/clock.js";
import { nullLogger } from "../src/base/logger.js";
import { QUERY_OUTPUT_MAX_BYTES } from "../src/control/talk_types.js";
import { EVENT_PAYLOAD_MAX_BYTES } from "../src/control/talk_rules.js";
import { validateEventBody, validateQueryBody } from "../src/daemon/api/validate_talk.js";
import { parseTriggerSpec, triggerEnv, triggerStdin, TriggerRunner } from "../src/triggers/index.js";

/*
 * The pieces of user events and queries (issue 17) without a cluster: the
 * -on user:NAME / query:NAME values, what a handler is told (raw payload on
 * standard input, the GOSSIPCHECK_EVENT_* variables), the runner's
 * fireAndFollow with real shells (exits, a query's stdout bound, a dropped
 * run), and the API bodies' validation.
 */

const node = { name: "web-01", address: "127.0.0.1:7946" };

describe("-on user:NAME and query:NAME", () => {
  it("takes a prefix and a name by the event name rule", () => {
    assert.deepEqual(parseTriggerSpec("user:deploy=/bin/true"), { ok: true, value: { event: "user:deploy", script: "/bin/true" } });
    assert.deepEqual(parseTriggerSpec("query:a.b:c_d-e=cat"), { ok: true, value: { event: "query:a.b:c_d-e", script: "cat" } });
  });

  it("refuses an empty or bad name and an empty script, naming the flag", () => {
    assert.match((parseTriggerSpec("user:=x") as { error: string }).error, /^-on "user:=x": user:NAME: the name is missing/);
    assert.match((parseTriggerSpec("user:a b=x") as { error: string }).error, /"a b" is not a name: 1 to 128 of A-Z a-z 0-9 \. _ : -/);
    assert.match((parseTriggerSpec(`query:${"n".repeat(129)}=x`) as { error: string }).error, /is not a name/);
    assert.match((parseTriggerSpec("query:load=") as { error: string }).error, /the script is empty; want query:load=SCRIPT/);
  });

  it("tells the handler the event, its name, origin and ID, and hands it the payload's raw bytes", () => {
    const payload = new Uint8Array([0, 1, 255, 10]);
    const e = { event: "user:deploy" as const, atMs: 3, talk: { name: "deploy", id: "ab".repeat(16), origin: "db-1", payload } };
    const env = triggerEnv(e, node);
    assert.equal(env.GOSSIPCHECK_EVENT, "user:deploy");
    assert.equal(env.GOSSIPCHECK_EVENT_NAME, "deploy");
    assert.equal(env.GOSSIPCHECK_EVENT_ORIGIN, "db-1");
    assert.equal(env.GOSSIPCHECK_EVENT_ID, "ab".repeat(16));
    assert.equal(env.GOSSIPCHECK_EVENT_BYTES, "4");
    assert.equal(triggerStdin(e, node), payload);
  });
});

describe("TriggerRunner.fireAndFollow", () => {
  const talk = (name: string, payload: Uint8Array) => ({ name, id: "00".repeat(16), origin: "o", payload });

  it("runs every matching handler with the payload on stdin and reports each exit", async () => {
    const r = new TriggerRunner({
      triggers: [
        { event: "user:deploy", script: "sha256sum | cut -c1-64" },
        { event: "user:deploy", script: "exit 7" },
        { event: "user:other", script: "exit 1" },
      ],
      node,
      clock: systemClock,
      log: nullLogger,
    });
    const payload = new Uint8Array(200_000).map((_, i) => (i * 7) % 256);
    const fired = r.fireAndFollow({ event: "user:deploy", atMs: 1, talk: talk("deploy", payload) }, { stdoutBytes: 1000 });
    assert.equal(fired.handlers, 2);
    const [a, b] = await fired.ended;
    assert.equal(a!.exitCode, 0);
    assert.equal(Buffer.from(a!.output!).toString().trim(), createHash("sha256").update(payload).digest("hex"));
    assert.equal(b!.exitCode, 7);
    await r.stop();
  });

  it("cuts a query handler's stdout at the bound and marks it truncated; stderr is not in the answer", async () => {
    const r = new TriggerRunner({ triggers: [{ event: "query:big", script: "echo oops >&2; head -c 100000 /dev/zero | tr '\\0' x" }], node, clock: systemClock, log: nullLogger });
    const [run] = await r.fireAndFollow({ event: "query:big", atMs: 1, talk: talk("big", new Uint8Array()) }, { stdoutBytes: QUERY_OUTPUT_MAX_BYTES }).ended;
    assert.equal(run!.output!.length, QUERY_OUTPUT_MAX_BYTES);
    assert.ok(Buffer.from(run!.output!).every((c) => c === 0x78));
    assert.equal(run!.truncated, true);
    await r.stop();
  });

  it("a handler past its timeout ends without an exit code, saying so", async () => {
    const r = new TriggerRunner({ triggers: [{ event: "query:slow", script: "sleep 30" }], node, clock: systemClock, log: nullLogger, config: { killGraceMs: 100 } });
    const [run] = await r.fireAndFollow({ event: "query:slow", atMs: 1, talk: talk("slow", new Uint8Array()) }, { timeoutMs: 200, stdoutBytes: 10 }).ended;
    assert.equal(run!.exitCode, null);
    assert.match(run!.signal!, /^timeout after 200 ms/);
    await r.stop();
  });

  it("a run dropped from a full queue ends at once as dropped", async () => {
    const r = new TriggerRunner({ triggers: [{ event: "user:x", script: "sleep 0.3" }], node, clock: systemClock, log: nullLogger, config: { concurrency: 1, queueLimit: 1 } });
    const first = r.fireAndFollow({ event: "user:x", atMs: 1, talk: talk("x", new Uint8Array()) });
    const second = r.fireAndFollow({ event: "user:x", atMs: 2, talk: talk("x", new Uint8Array()) });
    const third = r.fireAndFollow({ event: "user:x", atMs: 3, talk: talk("x", new Uint8Array()) });
    const [dropped] = await Promise.race([first.ended, second.ended, third.ended]);
    assert.match(dropped!.signal!, /^dropped: the trigger queue was full/);
    assert.equal((await third.ended)[0]!.exitCode, 0);
    await r.stop();
  });
});

describe("POST /v1/events and /v1/queries bodies", () => {
  const error = (r: { ok: boolean; error?: string }) => (r.ok ? "" : r.error!);

  it("takes a name, a base64 or text payload, targeting and a timeout, with defaults", () => {
    const ev = validateEventBody({ name: "deploy", payload: Buffer.from("hi").toString("base64"), tags: { role: "web" }, waitHandlers: true });
    assert.ok(ev.ok);
    assert.deepEqual(Buffer.from(ev.value.payload).toString(), "hi");
    assert.equal(ev.value.timeoutMs, 30_000);
    assert.equal(ev.value.waitHandlers, true);
    const q = validateQueryBody({ name: "load", payloadText: "é" });
    assert.ok(q.ok);
    assert.equal(q.value.timeoutMs, 10_000);
    assert.deepEqual([...q.value.payload], [0xc3, 0xa9]);
  });

  it("refuses bad names, bad base64, both payload forms, oversized payloads, unknown fields, each clearly", () => {
    assert.match(error(validateEventBody({})), /field "name": the name is missing/);
    assert.match(error(validateEventBody({ name: "a/b" })), /"a\/b" is not a name/);
    assert.match(error(validateEventBody({ name: "x", payload: "!!!" })), /field "payload" is not base64/);
    assert.match(error(validateEventBody({ name: "x", payload: "abc" })), /is not base64/);
    assert.match(error(validateEventBody({ name: "x", payload: "", payloadText: "" })), /not both/);
    assert.match(error(validateEventBody({ name: "x", payloadText: "x".repeat(EVENT_PAYLOAD_MAX_BYTES + 1) })), /larger than the limit of \d+ bytes/);
    assert.match(error(validateEventBody({ name: "x", payload: "A".repeat(20 * 1024 * 1024) })), /larger than the limit/);
    assert.match(error(validateQueryBody({ name: "x", waitHandlers: true })), /unknown field "waitHandlers"/);
    assert.match(error(validateQueryBody({ name: "x", timeoutMs: 5 })), /field "timeoutMs" must be a number of milliseconds from 100/);
    assert.match(error(validateEventBody({ name: "x", waitHandlers: "yes" })), /"waitHandlers" must be true or false/);
  });
});
