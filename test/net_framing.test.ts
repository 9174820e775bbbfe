import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { FrameDecoder, lengthPrefix } from "../src/net/framing.js";

const framed = (...payloads: Buffer[]) => Buffer.concat(payloads.flatMap((p) => [lengthPrefix(p.length), p]));

describe("TCP framing", () => {
  it("decodes a frame however the stream cuts it, down to one byte per chunk", () => {
    const payload = Buffer.from("a frame payload of some length");
    const stream = framed(payload);
    for (let cut = 1; cut < stream.length; cut++) {
      const d = new FrameDecoder(1024);
      const first = d.push(stream.subarray(0, cut));
      const second = d.push(stream.subarray(cut));
      assert.deepEqual([...first.frames, ...second.frames], [payload], `cut at ${cut}`);
      assert.equal(d.pendingBytes, 0);
    }
    const d = new FrameDecoder(1024);
    const out = [...stream].flatMap((byte) => d.push(Buffer.from([byte])).frames);
    assert.deepEqual(out, [payload]);
  });

  it("splits frames that arrive glued together in one chunk, including empty ones", () => {
    const ps = [Buffer.from("one"), Buffer.alloc(0), Buffer.from("three"), randomBytes(300)];
    const r = new FrameDecoder(1024).push(framed(...ps));
    assert.deepEqual(r.frames, ps);
    assert.equal(r.oversize, undefined);
  });

  it("never hands out a frame that keeps the rest of its chunk alive (a kept envelope would hold the whole chunk)", () => {
    const ps = [Buffer.from("one"), randomBytes(300), Buffer.from("last")];
    // Each chunk in its own ArrayBuffer, like a socket read (Buffer.from of a small buffer would take a slice of Node's pool).
    const own = (b: Buffer) => {
      const o = Buffer.allocUnsafeSlow(b.length);
      b.copy(o);
      return o;
    };
    const chunk = own(framed(...ps));
    const frames = new FrameDecoder(1024).push(chunk).frames;
    assert.deepEqual(frames, ps);
    for (const f of frames) assert.ok(f.buffer.byteLength <= f.length + 64, `a ${f.length}-byte frame holds a ${f.buffer.byteLength}-byte buffer`);
    const alone = own(framed(ps[1]!));
    const [only] = new FrameDecoder(1024).push(alone).frames;
    assert.equal(only!.buffer, alone.buffer, "a chunk that is one frame is handed on without a copy");
  });

  it("reports a declared length over the maximum as soon as the prefix is in, and stops", () => {
    const d = new FrameDecoder(100);
    const ok = Buffer.alloc(100, 7);
    const r = d.push(Buffer.concat([framed(ok), lengthPrefix(101)]));
    assert.deepEqual(r.frames, [ok], "the frame before the oversize one is still delivered");
    assert.equal(r.oversize, 101);
    assert.equal(d.pendingBytes, 0, "nothing of the refused frame is held");
    assert.deepEqual(d.push(framed(Buffer.from("late"))).frames, [], "a failed decoder yields nothing more");
  });

  it("reassembles a 10 MB frame from 64 KiB chunks", () => {
    const big = randomBytes(10 * 1024 * 1024);
    const stream = framed(big);
    const d = new FrameDecoder(16 * 1024 * 1024);
    const frames: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 65536) frames.push(...d.push(stream.subarray(i, i + 65536)).frames);
    assert.equal(frames.length, 1);
    assert.ok(frames[0]!.equals(big));
  });

  it("yields the frames that were sent for any payloads and any chunking (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }), (payloads, cuts) => {
        const ps = payloads.map((p) => Buffer.from(p));
        const stream = framed(...ps);
        const d = new FrameDecoder(200);
        const out: Buffer[] = [];
        let at = 0;
        for (let i = 0; at < stream.length; i++) {
          const n = cuts[i % cuts.length]!;
          out.push(...d.push(stream.subarray(at, at + n)).frames);
          at += n;
        }
        assert.deepEqual(out, ps);
      }),
      { numRuns: 300 },
    );
  });
});
