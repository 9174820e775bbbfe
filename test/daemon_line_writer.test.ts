import { it } from "node:test";
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { LineWriter } from "../src/daemon/api/http_io.js";

/** The part of ServerResponse LineWriter uses, recording every write and the end. */
function fakeResponse(onWrite: (n: number) => void = () => {}) {
  const calls: { op: "write" | "end"; text: string; atMs: number }[] = [];
  const res = {
    destroyed: false,
    writableEnded: false,
    writableNeedDrain: false,
    write(text: string) {
      calls.push({ op: "write", text, atMs: performance.now() });
      onWrite(calls.length);
      return true;
    },
    end(text?: string) {
      res.writableEnded = true;
      calls.push({ op: "end", text: text ?? "", atMs: performance.now() });
    },
    on() {},
    off() {},
  };
  return { res: res as unknown as ServerResponse, calls };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

it("lines of one turn leave in one write; lines right after a write wait and leave together; end() sends the rest with the end", async () => {
  let out: LineWriter | null = null;
  const { res, calls } = fakeResponse((n) => {
    if (n !== 1) return;
    // Right after the first write: one line, then (with the loop kept busy,
    // so its cached clock falls behind and a timer armed now fires early)
    // another. Both must wait out the interval and leave together.
    void out!.add({ n: 3 });
    const spinUntil = performance.now() + 3;
    while (performance.now() < spinUntil);
    void out!.add({ n: 4 });
  });
  out = new LineWriter(res);
  await out.add({ n: 1 });
  await out.add({ n: 2 });
  await until(() => calls.length === 1, "the first write");
  assert.deepEqual(calls[0]!.text, '{"n":1}\n{"n":2}\n');

  await until(() => calls.length === 2, "the second write");
  assert.equal(calls[1]!.text, '{"n":3}\n{"n":4}\n', "both lines waited for the interval and left together");
  assert.ok(calls[1]!.atMs - calls[0]!.atMs >= 5, `second write ${calls[1]!.atMs - calls[0]!.atMs} ms after the first`);

  await out.add({ n: 5 });
  out.end();
  assert.equal(calls.length, 3);
  assert.deepEqual({ op: calls[2]!.op, text: calls[2]!.text }, { op: "end", text: '{"n":5}\n' });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(calls.length, 3, "nothing is written after the end");
});
