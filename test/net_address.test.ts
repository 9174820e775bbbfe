import assert from "node:assert/strict";
import { isIPv6 } from "node:net";
import { test } from "node:test";
import { isIPv6Literal, joinHostPort, splitHostPort } from "../src/net/address.js";

test("joinHostPort brackets IPv6 literals only, and splitHostPort reads every result back", () => {
  const cases: [string, string][] = [
    ["127.0.0.1", "127.0.0.1:7946"],
    ["10.1.2.3", "10.1.2.3:7946"],
    ["node-a.example.com", "node-a.example.com:7946"],
    ["localhost", "localhost:7946"],
    ["::1", "[::1]:7946"],
    ["::", "[::]:7946"],
    ["fe80::1%eth0", "[fe80::1%eth0]:7946"],
    ["2001:db8::8a2e:370:7334", "[2001:db8::8a2e:370:7334]:7946"],
    ["::ffff:127.0.0.1", "[::ffff:127.0.0.1]:7946"],
  ];
  for (const [host, want] of cases) {
    assert.equal(joinHostPort(host, 7946), want, host);
    assert.deepEqual(splitHostPort(joinHostPort(host, 7946)), { host, port: 7946 }, host);
  }
});

test("isIPv6Literal agrees with net.isIPv6 on every address form a flag accepts", () => {
  for (const host of ["127.0.0.1", "0.0.0.0", "::1", "::", "fe80::1%eth0", "2001:db8::1", "::ffff:10.0.0.1", "host-1", "a.b.example"]) {
    assert.equal(isIPv6Literal(host), isIPv6(host), host);
  }
  // An already bracketed host is left as it is, not bracketed twice.
  assert.equal(isIPv6Literal("[::1]"), false);
});
