import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodeCheckBatch, encodeCheckBatch } from "../src/checks/codec.js";
import { HTTP_BODY_LIMIT_BYTES } from "../src/checks/http.js";
import { parseCheckObject } from "../src/checks/index.js";
import type { CheckResult, CheckSpec } from "../src/checks/types.js";
import { checkSpec, runOneCheck } from "./support/checks.js";

/*
 * The `http` check type (src/checks/http.ts) against servers this test
 * starts on loopback: plain HTTP, and HTTPS with a CA and a server
 * certificate made here with openssl (node:crypto cannot issue X.509).
 */

const spec = (fields: Record<string, unknown>): CheckSpec => checkSpec({ type: "http", ...fields });

const run = (fields: Record<string, unknown>): Promise<CheckResult> => runOneCheck(spec(fields));

function routes(req: IncomingMessage, res: ServerResponse): void {
  const seen = `${req.method} ${req.url}`;
  switch (req.url) {
    case "/ok":
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "x-app": "gossip", "x-seen": seen });
      res.end("hello world");
      return;
    case "/missing":
      res.writeHead(404);
      res.end("no such page");
      return;
    case "/redirect":
      res.writeHead(301, { location: "/ok" });
      res.end();
      return;
    case "/endless": {
      // Writes until the client goes away: the check must stop reading.
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(64 * 1024, "x");
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
      return;
    }
    case "/silent":
      return; // never answers
  }
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return (server.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((ok) => s.close(ok));
  return port;
}

describe("http checks", () => {
  const server = createServer(routes);
  let base = "";
  before(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it("pass on 200 by default, saying status, bytes and time; fail on another status", async () => {
    const r = await run({ url: `${base}/ok` });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /^GET http:\/\/127\.0\.0\.1:\d+\/ok: 200 OK, 11 bytes in \d+ ms$/);
    const m = await run({ url: `${base}/missing` });
    assert.equal(m.status, "fail");
    assert.match(m.message, /status 404, expected 200 \(404 Not Found, 12 bytes in \d+ ms\)/);
  });

  it('status takes a number, a class such as "4xx", or a list; redirects are not followed', async () => {
    assert.equal((await run({ url: `${base}/missing`, status: 404 })).status, "pass");
    assert.equal((await run({ url: `${base}/missing`, status: "4xx" })).status, "pass");
    assert.equal((await run({ url: `${base}/missing`, status: [200, 404] })).status, "pass");
    assert.match((await run({ url: `${base}/missing`, status: ["2xx", 301] })).message, /status 404, expected 2xx or 301/);
    assert.equal((await run({ url: `${base}/redirect`, status: 301 })).status, "pass");
  });

  it("method sends that method", async () => {
    const r = await run({ url: `${base}/ok`, method: "HEAD", headers: { "X-Seen": "HEAD /ok" } });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /^HEAD .*: 200 OK, 0 bytes/);
  });

  it("body_contains: every text must be in the body", async () => {
    assert.equal((await run({ url: `${base}/ok`, body_contains: ["hello", "world"] })).status, "pass");
    const r = await run({ url: `${base}/ok`, body_contains: ["hello", "goodbye"] });
    assert.equal(r.status, "fail");
    assert.match(r.message, /body lacks "goodbye" \(200 OK/);
  });

  it('headers: each named header (any case) must contain its text; "" asks only that it be there', async () => {
    assert.equal((await run({ url: `${base}/ok`, headers: { "Content-Type": "text/plain", "x-app": "" } })).status, "pass");
    const r = await run({ url: `${base}/ok`, headers: { "content-type": "json", "x-absent": "" } });
    assert.equal(r.status, "fail");
    assert.match(r.message, /header "content-type" is "text\/plain; charset=utf-8", expected it to contain "json"; no header "x-absent"/);
  });

  it("reads at most the first 1 MiB of the body, and says so", async () => {
    const r = await run({ url: `${base}/endless`, body_contains: "xxxx", request_timeout: "10s" });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, new RegExp(`the first ${HTTP_BODY_LIMIT_BYTES} bytes \\(read no further\\)`));
  });

  it("request_timeout bounds the whole exchange", async () => {
    const started = Date.now();
    const r = await run({ url: `${base}/silent`, request_timeout: "300ms" });
    assert.equal(r.status, "fail");
    assert.match(r.message, /no complete answer within 300 ms/);
    assert.ok(Date.now() - started < 5_000);
  });

  it("a refused connection fails, saying so", async () => {
    const r = await run({ url: `http://127.0.0.1:${await closedPort()}/` });
    assert.equal(r.status, "fail");
    assert.match(r.message, /connection refused \(ECONNREFUSED\)/);
  });

  it("a password in the URL is masked in the message", async () => {
    const r = await run({ url: `http://ops:s3cret@127.0.0.1:${base.split(":")[2]}/ok` });
    assert.equal(r.status, "pass", r.message);
    assert.ok(!r.message.includes("s3cret"), r.message);
    assert.match(r.message, /ops:\*\*\*@/);
  });

  it("its fields cross the wire and are validated again on receipt", () => {
    const c = spec({ url: `${base}/ok`, status: ["2xx", 404], headers: { "x-app": "g" }, insecure: true, request_timeout: "2s", body_contains: "a" });
    const decoded = decodeCheckBatch(encodeCheckBatch({ checks: [c], dryRun: false, targetNodes: [], targetTags: {} }));
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.batch.checks[0], c);
    const forged = decodeCheckBatch(encodeCheckBatch({ checks: [{ ...c, params: { url: "file:///etc/shadow" } }], dryRun: false, targetNodes: [], targetTags: {} }));
    assert.match(forged.ok ? "" : forged.errors.join(), /field "url": "file:\/\/\/etc\/shadow": expected an http:\/\/ or https:\/\/ URL/);
  });

  it("validation names each field and what it expects", () => {
    const p = parseCheckObject(
      {
        a: { type: "http", url: "not a url", method: "get", status: 600, headers: { "x-a": 1 }, request_timeout: "soon" },
        b: { type: "http", url: "https://x/", insecure: true, ca_file: "/ca.pem" },
        c: { type: "http", url: "http://x/", method: "HEAD", body_contains: "x", status: "2xy" },
        d: { type: "http", uri: "http://x/" },
      },
      "f.json",
    );
    const errors = p.ok ? [] : p.errors;
    const has = (re: RegExp) =>
      assert.ok(
        errors.some((e) => re.test(e)),
        `${re} not in:\n${errors.join("\n")}`,
      );
    has(/f\.json: check "a": field "method": expected one of GET, HEAD, .* got the string "get"; did you mean "GET"\?/);
    has(/check "a": field "status": expected a whole number from 100 to 599, a class such as "2xx" or a non-empty list of them .* got number 600/);
    has(/check "a": field "headers": expected an object of names to strings .*\(a name empty or a value not a string\)/);
    has(/check "a": field "request_timeout": expected a duration/);
    has(/check "b": field "ca_file": not used with "insecure": true/);
    has(/check "c": field "status": .*got the string "2xy"/);
    has(/check "d": field "uri" is unknown for type http .*did you mean "url"\?/);
    // Rules across fields run once each field is valid on its own.
    const q = parseCheckObject({ a: { type: "http", url: "not a url" }, c: { type: "http", url: "http://x/", method: "HEAD", body_contains: "x" } }, "f.json");
    const qe = q.ok ? "" : q.errors.join("\n");
    assert.match(qe, /check "a": field "url": "not a url" is not a URL/);
    assert.match(qe, /check "c": field "body_contains": a HEAD request gets no body/);
  });
});

const openssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("http checks over TLS", { skip: openssl ? false : "openssl is not installed" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "gossipcheck-tls-"));
  const f = (n: string) => join(dir, n);
  let url = "";
  let server: Server | undefined;
  before(async () => {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    const ossl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    ossl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=gossipcheck test CA");
    ossl("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
    writeFileSync(f("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf");
    server = createTlsServer({ key: readFileSync(f("server.key")), cert: readFileSync(f("server.pem")) }, routes);
    url = `https://127.0.0.1:${await listen(server)}/ok`;
  });
  after(() => {
    server?.closeAllConnections();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("verifies the certificate: a private CA's server fails against the system's CAs", async () => {
    const r = await run({ url });
    assert.equal(r.status, "fail");
    assert.match(r.message, /TLS certificate not trusted: .*give ca_file for a private CA, or insecure: true/);
  });

  it("ca_file verifies against that CA, and passes", async () => {
    const r = await run({ url, ca_file: f("ca.pem"), body_contains: "hello" });
    assert.equal(r.status, "pass", r.message);
  });

  it("insecure skips verification", async () => {
    assert.equal((await run({ url, insecure: true })).status, "pass");
  });

  it("an unreadable ca_file is an error, not a failure of the server", async () => {
    const r = await run({ url, ca_file: f("absent.pem") });
    assert.equal(r.status, "error");
    assert.match(r.message, /cannot read ca_file ".*absent\.pem": /);
  });
});
