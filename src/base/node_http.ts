/*
 * node:http and node:https without their ES module facade. On Node 22 and
 * later, the first `import ... from "node:http"` builds the facade by reading
 * every export once, and reading http.WebSocket (and its kin) loads undici,
 * Node's fetch: about 50 ms of CPU on this host at every start of gcheck and
 * of the daemon, for nothing either of them uses (docs/BENCHMARKS.md, "Start-up
 * and the CLI"). process.getBuiltinModule (Node >= 20.16) returns the
 * CommonJS exports object, whose lazy getters stay unread. Types still come
 * from `import type ... from "node:http"`, which emits nothing.
 */
import type * as Https from "node:https";

export const http = process.getBuiltinModule("node:http");

/** node:https, loaded on first call: it brings TLS, which only the http check's https URLs need. */
export function https(): typeof Https {
  return process.getBuiltinModule("node:https");
}
