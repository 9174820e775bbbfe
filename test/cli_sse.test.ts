import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { ControlClient, type HttpStatusError } from "../src/cli/client.js";
import { readEventStream, type SseEvent, type SseMessage, SseParser, SseProtocolError } from "../src/cli/sse.js";

/*
 * gcheck's SSE client (src/cli/sse.ts): the framing whatever the chunk
 * boundaries, comments, CRLF and CR line ends, multi-line data, the bound on
 * one event; and the client against a node:http server on loopback: JSON
 * data, a daemon without /v1/streams (404), a wrong token (401), an answer
 * that is not a stream, data that is not JSON, an oversize event.
 */

/** Feeds chunks one by one; every event completed, or the error. */
function parse(chunks: string[], max?: number): SseMessage[] | string {
  const p = new SseParser(max);
  const out: SseMessage[] = [];
  for (const c of chunks) {
    const r = p.push(c);
    if (!r.ok) return r.error;
    out.push(...r.value);
  }
  return out;
}

const STREAM = 'event: snapshot\ndata: {"node":"a","members":[]}\n\n: keepalive\n\nevent: member\ndata: {"change":"join"}\n\n';
const EXPECTED = [
  { event: "snapshot", data: '{"node":"a","members":[]}' },
  { event: "member", data: '{"change":"join"}' },
];

describe("SseParser", () => {
  it("reads events and skips comments, fed whole", () => {
    assert.deepEqual(parse([STREAM]), EXPECTED);
  });

  it("gives the same events whatever the chunk boundaries, one character at a time included", () => {
    assert.deepEqual(parse([...STREAM]), EXPECTED);
    for (let cut = 1; cut < STREAM.length; cut++) assert.deepEqual(parse([STREAM.slice(0, cut), STREAM.slice(cut)]), EXPECTED, `cut at ${cut}`);
  });

  it("takes CRLF and CR line ends, a CRLF split across chunks too", () => {
    const crlf = STREAM.replace(/\n/g, "\r\n");
    assert.deepEqual(parse([crlf]), EXPECTED);
    for (let cut = 1; cut < crlf.length; cut++) assert.deepEqual(parse([crlf.slice(0, cut), crlf.slice(cut)]), EXPECTED, `cut at ${cut}`);
    assert.deepEqual(parse([STREAM.replace(/\n/g, "\r")]), EXPECTED);
  });

  it("joins multi-line data with newlines, strips one space after the colon, defaults the name to message", () => {
    assert.deepEqual(parse(["data: [1,\ndata:2,\ndata:  3]\n\n"]), [{ event: "message", data: "[1,\n2,\n 3]" }]);
  });

  it("ignores id, retry and unknown fields, and drops an event without data", () => {
    assert.deepEqual(parse(["id: 7\nretry: 100\nfoo: bar\nevent: x\n\nevent: y\ndata: 1\n\n"]), [{ event: "y", data: "1" }]);
  });

  it("holds back an event until its blank line: a stream cut in the middle yields nothing of it", () => {
    assert.deepEqual(parse(["event: a\ndata: 1\n"]), []);
  });

  it("refuses an event over the bound, whether in many data lines or one endless line", () => {
    assert.equal(parse(["data: " + "x".repeat(60) + "\n".repeat(1)], 50), "an event over 50 characters");
    assert.equal(
      parse(
        Array.from({ length: 10 }, () => "data: 123456789\n"),
        50,
      ),
      "an event over 50 characters",
    );
    assert.equal(parse(["data: 12345", "6789".repeat(20)], 50), "an event over 50 characters");
    // Events under the bound one after another never add up.
    assert.equal(
      (
        parse(
          Array.from({ length: 100 }, () => "data: 123456789\n\n"),
          50,
        ) as SseMessage[]
      ).length,
      100,
    );
  });
});

describe("the SSE client against a server", () => {
  let server: Server;
  let address = "";
  const routes = new Map<string, (res: ServerResponse) => void>();
  const sse = (res: ServerResponse, body: string) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.end(body);
  };
  routes.set("/v1/streams/members", (res) => sse(res, STREAM));
  routes.set("/v1/streams/bad-json", (res) => sse(res, "event: member\ndata: {nope\n\n"));
  routes.set("/v1/streams/huge", (res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    const chunk = "data: " + "x".repeat(1024 * 1024) + "\n";
    let sent = 0;
    const more = () => {
      while (sent < 12 && res.write(chunk)) sent++;
      if (sent < 12) res.once("drain", more);
      else res.end("\n");
    };
    more();
  });
  routes.set("/v1/streams/not-sse", (res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<html>");
  });

  before(async () => {
    server = createServer((req, res) => {
      if (req.headers.authorization !== "Bearer good") {
        res.writeHead(401, { "content-type": "application/json" });
        return res.end(JSON.stringify({ error: "missing or wrong token" }));
      }
      const route = routes.get(req.url ?? "");
      if (route) return route(res);
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: `no such endpoint ${req.url} (endpoints: /v1/members)` }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  async function read(path: string, token = "good"): Promise<SseEvent[]> {
    const client = new ControlClient({ server: address, token });
    const events: SseEvent[] = [];
    for await (const e of readEventStream(await client.openEventStream(path), `the test stream of gossipcheckd at ${address}`, 5_000)) events.push(e);
    return events;
  }

  it("yields each event with its data parsed as JSON", async () => {
    assert.deepEqual(await read("/v1/streams/members"), [
      { event: "snapshot", data: { node: "a", members: [] } },
      { event: "member", data: { change: "join" } },
    ]);
  });

  it("says a daemon without /v1/streams is older than gcheck", async () => {
    await assert.rejects(read("/v1/streams/members?x=1"), (e: HttpStatusError) => {
      assert.equal(e.status, 404);
      assert.equal(e.message, `the daemon at ${address} has no /v1/streams (older than this gcheck): upgrade it`);
      return true;
    });
  });

  it("passes on the daemon's refusal of the token with its status", async () => {
    await assert.rejects(read("/v1/streams/members", "bad"), (e: HttpStatusError) => e.status === 401 && /answered 401: missing or wrong token/.test(e.message));
  });

  it("refuses an answer that is not an event stream", async () => {
    await assert.rejects(read("/v1/streams/not-sse"), /answered \/v1\/streams\/not-sse with text\/html, not text\/event-stream/);
  });

  it("names the stream and the event when data is not JSON", async () => {
    await assert.rejects(
      read("/v1/streams/bad-json"),
      (e: Error) => e instanceof SseProtocolError && /the test stream of gossipcheckd at .* sent a "member" event whose data is not JSON \("\{nope"\)/.test(e.message),
    );
  });

  it("refuses one event over 8 MiB, naming the stream", async () => {
    await assert.rejects(read("/v1/streams/huge"), (e: Error) => e instanceof SseProtocolError && /the test stream of gossipcheckd at .* sent an event over 8388608 characters/.test(e.message));
  });
});
