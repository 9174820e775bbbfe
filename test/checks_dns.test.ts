import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { decodeCheckBatch, encodeCheckBatch } from "../src/checks/codec.js";
import { parseCheckObject } from "../src/checks/index.js";
import type { CheckResult, CheckSpec } from "../src/checks/types.js";
import { checkSpec, runOneCheck } from "./support/checks.js";

/*
 * The `dns` check type (src/checks/dns.ts): through the system's lookup
 * (localhost, from /etc/hosts), and through `server`, a tiny DNS responder
 * this test runs on 127.0.0.1 (UDP): svc.test has an A, a TXT (two strings)
 * and an MX record and no AAAA; other names do not exist; silent.test gets
 * no answer at all.
 */

const spec = (fields: Record<string, unknown>): CheckSpec => checkSpec({ type: "dns", ...fields });

const run = (fields: Record<string, unknown>): Promise<CheckResult> => runOneCheck(spec(fields));

const TYPE = { A: 1, MX: 15, TXT: 16 } as const;

function encodeName(name: string): Buffer {
  return Buffer.concat([...name.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
}

/** One resource record, its name a pointer to the question's (offset 12). */
function rr(type: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4); // IN
  head.writeUInt32BE(60, 6); // TTL
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

function txt(...strings: string[]): Buffer {
  return Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)])));
}

/** The answer to one query, or undefined to stay silent. */
function answer(query: Buffer): Buffer | undefined {
  let off = 12;
  const labels: string[] = [];
  while (query[off]! > 0) {
    labels.push(query.subarray(off + 1, off + 1 + query[off]!).toString());
    off += query[off]! + 1;
  }
  const qtype = query.readUInt16BE(off + 1);
  const question = query.subarray(12, off + 5);
  const name = labels.join(".").toLowerCase();
  if (name === "silent.test") return undefined;
  const answers: Buffer[] = [];
  if (name === "svc.test" && qtype === TYPE.A) answers.push(rr(TYPE.A, Buffer.from([192, 0, 2, 7])));
  if (name === "svc.test" && qtype === TYPE.TXT) answers.push(rr(TYPE.TXT, txt("hello ", "world")));
  if (name === "svc.test" && qtype === TYPE.MX) answers.push(rr(TYPE.MX, Buffer.concat([Buffer.from([0, 10]), encodeName("mail.svc.test")])));
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8180 | (name === "svc.test" ? 0 : 3), 2); // response, RD, RA; NXDOMAIN for other names
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, question, ...answers]);
}

describe("dns checks", () => {
  let udp: Socket;
  let server = "";
  before(async () => {
    udp = createSocket("udp4");
    udp.on("message", (msg, from) => {
      const a = answer(msg);
      if (a) udp.send(a, from.port, from.address);
    });
    await new Promise<void>((ok) => udp.bind(0, "127.0.0.1", ok));
    server = `127.0.0.1:${udp.address().port}`;
  });
  after(() => udp.close());

  it("resolves A through the system's lookup (/etc/hosts): localhost is 127.0.0.1", async () => {
    const r = await run({ name: "localhost", addrs: "127.0.0.1" });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /^A localhost \(via the system's lookup\): .*"127\.0\.0\.1".* in \d+ ms$/);
    const w = await run({ name: "localhost", addrs: ["127.0.0.1", "192.0.2.1"] });
    assert.equal(w.status, "fail");
    assert.match(w.message, /lacks "192\.0\.2\.1"; answered .*"127\.0\.0\.1"/);
  });

  // A name /etc/hosts gives ::1 ("localhost", "ip6-localhost"), if any.
  const v6Name = /^\s*::1\s+(\S+)/m.exec(readFileSync("/etc/hosts", "utf8"))?.[1];
  it("record AAAA asks for IPv6 addresses, compared as addresses", { skip: v6Name ? false : "/etc/hosts gives no name ::1" }, async () => {
    const r = await run({ name: v6Name!, record: "AAAA", addrs: "0:0:0:0:0:0:0:1" });
    assert.equal(r.status, "pass", r.message);
  });

  it("a name that does not resolve fails", async () => {
    const r = await run({ name: "no-such-host.invalid" });
    assert.equal(r.status, "fail");
    assert.match(r.message, /^A no-such-host\.invalid \(via the system's lookup\): /);
  });

  it("server asks that DNS server: A and its addrs", async () => {
    const r = await run({ name: "svc.test", server, addrs: "192.0.2.7" });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, new RegExp(`^A svc\\.test \\(via server ${server}\\): "192\\.0\\.2\\.7" in \\d+ ms$`));
    assert.match((await run({ name: "svc.test", server, addrs: "192.0.2.8" })).message, /lacks "192\.0\.2\.8"/);
  });

  it("record TXT: a record's strings joined are its text", async () => {
    assert.equal((await run({ name: "svc.test", server, record: "TXT", addrs: "hello world" })).status, "pass");
    assert.match((await run({ name: "svc.test", server, record: "TXT", addrs: "hello" })).message, /lacks "hello"; answered "hello world"/);
  });

  it("record MX: the exchange alone or with its priority", async () => {
    const r = await run({ name: "svc.test", server, record: "MX", addrs: ["mail.svc.test", "10 MAIL.svc.test."] });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /"10 mail\.svc\.test"/);
  });

  it("no such records, no such name, and no answer all fail, saying which", async () => {
    assert.match((await run({ name: "svc.test", server, record: "AAAA" })).message, /no records of this type \(ENODATA\)/);
    assert.match((await run({ name: "other.test", server })).message, /the name does not exist \(ENOTFOUND\)/);
    const started = Date.now();
    const s = await run({ name: "silent.test", server, query_timeout: "300ms" });
    assert.equal(s.status, "fail");
    assert.match(s.message, /no answer within 300 ms \(ETIMEOUT\)/);
    assert.ok(Date.now() - started < 5_000);
  });

  it("its fields cross the wire and are validated again on receipt", () => {
    const c = spec({ name: "svc.test", record: "MX", addrs: ["mail.svc.test"], server: "[::1]:53", query_timeout: "2s" });
    const decoded = decodeCheckBatch(encodeCheckBatch({ checks: [c], dryRun: false, targetNodes: [], targetTags: {} }));
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.batch.checks[0], c);
  });

  it("validation names each field and what it expects", () => {
    const p = parseCheckObject(
      {
        a: { type: "dns", name: "x", record: "mx" },
        b: { type: "dns", name: "x", addrs: ["10.0.0.1", "::1"], server: "dns.example:53" },
        c: { type: "dns", name: "x", record: "AAAA", addrs: "10.0.0.1" },
        d: { type: "dns", type_: "A" },
      },
      "f.json",
    );
    const errors = p.ok ? [] : p.errors;
    const has = (re: RegExp) =>
      assert.ok(
        errors.some((e) => re.test(e)),
        `${re} not in:\n${errors.join("\n")}`,
      );
    has(/f\.json: check "a": field "record": expected one of A, AAAA, CNAME, MX, NS, PTR, SRV, TXT .*got the string "mx"; did you mean "MX"\?/);
    has(/check "b": field "addrs": "::1" is not an IPv4 address \(expected for A records\)/);
    has(/check "b": field "server": expected an IP address, IP:PORT or \[IPv6\]:PORT .*got "dns\.example:53"/);
    has(/check "c": field "addrs": "10\.0\.0\.1" is not an IPv6 address/);
    has(/check "d": field "name" is missing/);
    has(/check "d": field "type_" is unknown for type dns/);
  });
});
