/**
 * A live stream's memory is bounded whoever reads it: a client that never
 * reads is dropped once the bytes waiting for it pass the limit, and the
 * stream says so (send returns false, the drop is counted once).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { SseStream } from "../src/daemon/api/streams/sse.js";

test("a client that never reads is dropped at the buffer limit, not buffered without bound", async () => {
  let dropped = 0;
  let sent = 0;
  const result = new Promise<boolean>((resolve) => {
    const server = createServer((_req, res) => {
      const s = new SseStream(res, { keepaliveMs: 60_000, maxBufferedBytes: 64 * 1024 }, () => dropped++);
      const payload = { text: "x".repeat(1000) };
      // Bounded: 200,000 events of 1 KB (200 MB) is far past any socket buffer.
      const pump = () => {
        for (let i = 0; i < 1000; i++) {
          if (!s.send("stats", payload)) {
            server.close();
            return resolve(true);
          }
          sent++;
        }
        if (sent >= 200_000) return resolve(false);
        setImmediate(pump);
      };
      pump();
    });
    server.listen(0, "127.0.0.1", () => {
      const sock = connect((server.address() as AddressInfo).port, "127.0.0.1", () => {
        sock.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n");
        // Never reads a byte.
        sock.pause();
      });
      sock.on("error", () => {});
    });
  });
  assert.equal(await result, true, "the stream ends the client");
  assert.equal(dropped, 1);
  // What was written before the drop fits in the kernel's socket buffers plus the limit (bytes, generously).
  assert.ok(sent * 1030 < 64 * 1024 * 1024, `${sent} events were accepted before the drop`);
});

test("a stream that the client closes reports closed and sends nothing more", async () => {
  const done = new Promise<{ before: boolean; after: boolean }>((resolve) => {
    const server = createServer((_req, res) => {
      const s = new SseStream(res);
      const before = s.send("snapshot", { a: 1 });
      void s.closed.then(() => {
        resolve({ before, after: s.send("member", { b: 2 }) });
        server.close();
      });
    });
    server.listen(0, "127.0.0.1", async () => {
      const ac = new AbortController();
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: ac.signal });
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      assert.match(first, /event: snapshot\ndata: \{"a":1\}\n\n/);
      ac.abort();
    });
  });
  assert.deepEqual(await done, { before: true, after: false });
});
