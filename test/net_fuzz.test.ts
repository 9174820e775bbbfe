/**
 * Property-based fuzzing of the net layer's decoders: the frame stream
 * decoder, the payload guard (sealed / labelled / plain) and frame reading.
 * Whatever bytes arrive, nothing throws past the boundary, nothing is held
 * beyond the frame limit, and a sealed frame that was altered never opens.
 * FUZZ_RUNS=100000 for the long fuzz run; npm test uses a smaller count.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { pb, PROTOCOL_VERSION } from "../src/proto/index.js";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { nullLogger, RateLimitedLog } from "../src/base/logger.js";
import { encodeFrame, FrameConnection, readFrame, type ConnectionContext, type InboundGate } from "../src/net/connection.js";
import { zeroCounters } from "../src/net/counters.js";
import { FrameDecoder, lengthPrefix } from "../src/net/framing.js";
import { PayloadGuard } from "../src/net/guard.js";
import { generateKey, Keyring } from "../src/net/keyring.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

const ring = new Keyring([generateKey()]);
const guards = {
  keyed: new PayloadGuard(ring, "fuzz"),
  labelled: new PayloadGuard(null, "fuzz"),
  plain: new PayloadGuard(null, ""),
};

/** A real frame as each guard puts it on the wire, to mutate. */
function validFrame(guard: PayloadGuard, body: Uint8Array, requestId: number): Buffer {
  const bytes = pb.Frame.encode({ version: PROTOCOL_VERSION, channel: 2, requestId, body, from: "10.0.0.1:2000" }).finish();
  return guard.wrap(bytes);
}

/** A real one-way frame with a dedup header, as a burst push goes out. */
function dedupFrame(guard: PayloadGuard, body: Uint8Array, key: Uint8Array): Buffer {
  return encodeFrame({ guard } as ConnectionContext, { channel: 2, oneWay: true, body, from: "10.0.0.1:2000" }, key);
}

/** Overwrites, inserts or deletes bytes of a copy of b. */
const mutation = fc.record({
  kind: fc.constantFrom("flip", "set", "insert", "delete", "truncate"),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
});

function mutate(b: Buffer, m: { kind: string; at: number; value: number }): Buffer {
  const i = b.length === 0 ? 0 : m.at % b.length;
  switch (m.kind) {
    case "flip": {
      const c = Buffer.from(b);
      if (c.length) c[i]! ^= 1 << (m.value % 8);
      return c;
    }
    case "set": {
      const c = Buffer.from(b);
      if (c.length) c[i] = m.value === c[i] ? (m.value + 1) & 0xff : m.value;
      return c;
    }
    case "insert":
      return Buffer.concat([b.subarray(0, i), Buffer.from([m.value]), b.subarray(i)]);
    case "delete":
      return Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
    default:
      return b.subarray(0, i);
  }
}

describe("net decoders under fuzzing", () => {
  it("the frame stream decoder never throws and never holds more than one frame of the limit", () => {
    const max = 512;
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 700 }), { maxLength: 8 }), (chunks) => {
        const d = new FrameDecoder(max);
        for (const c of chunks) {
          const r = d.push(Buffer.from(c));
          for (const f of r.frames) assert.ok(f.length <= max);
          assert.ok(d.pendingBytes <= max + 4, `holds ${d.pendingBytes} bytes`);
        }
      }),
      { numRuns: RUNS },
    );
  });

  for (const [mode, guard] of Object.entries(guards)) {
    it(`reading random bytes as a ${mode} frame never throws`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, dedupHeader) => {
          // Half of the inputs start like a dedup header, to reach its parser.
          const input = dedupHeader ? Buffer.concat([Buffer.from([0x03]), bytes]) : Buffer.from(bytes);
          const r = readFrame(guard, input, (_channel, key) => key.length === 16);
          if (!r.ok) assert.ok(r.reason.length > 0);
          else if (r.frame) assert.equal(r.frame.version, PROTOCOL_VERSION);
          else assert.equal(input[0], 0x03, "only a dedup header can make a frame skipped");
        }),
        { numRuns: RUNS },
      );
    });

    it(`reading a mutated ${mode} frame never throws${mode === "keyed" ? ", and a mutated sealed frame never opens" : ""}`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat({ max: 0xffffffff }), fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 })), mutation, (body, id, key, m) => {
          const good = key ? dedupFrame(guard, body, key) : validFrame(guard, body, id);
          const bad = mutate(good, m);
          const r = readFrame(guard, bad);
          if (mode === "keyed" && !bad.equals(good)) assert.equal(r.ok, false, "an altered sealed frame opened");
        }),
        { numRuns: RUNS },
      );
    });
  }

  it("a stream of sealed frames, cut anywhere, yields every frame in order", () => {
    const guard = guards.keyed;
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 60 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 50 }), (bodies, step) => {
        const payloads = bodies.map((b, i) => validFrame(guard, b, i + 1));
        const stream = Buffer.concat(payloads.flatMap((p) => [lengthPrefix(p.length), p]));
        const d = new FrameDecoder(1024);
        const read: number[] = [];
        for (let at = 0; at < stream.length; at += step) {
          for (const f of d.push(stream.subarray(at, at + step)).frames) {
            const r = readFrame(guard, f);
            assert.ok(r.ok && r.frame);
            read.push(r.frame.requestId);
          }
        }
        assert.deepEqual(
          read,
          bodies.map((_, i) => i + 1),
        );
      }),
      { numRuns: Math.max(100, RUNS / 10) },
    );
  });

  it("a connection that has not authenticated, fed any bytes cut anywhere, never throws, holds only what the gate allows, and releases it on close", () => {
    const FIRST = 64;
    const MAX = 4096;
    fc.assert(
      fc.property(
        fc.constantFrom("keyed", "plain"),
        fc.boolean(),
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 200 }),
            fc.nat({ max: 5000 }).map((n) => new Uint8Array(lengthPrefix(n))),
          ),
          { maxLength: 10 },
        ),
        (mode, hello, chunks) => {
          const guard = guards[mode as "keyed" | "plain"];
          const gate: InboundGate = { firstFrameBytes: FIRST, budget: { used: 0, max: 10_000 } };
          const socket = new FakeSocket();
          const ctx: ConnectionContext = { guard, maxFrameBytes: MAX, counters: zeroCounters(), log: new RateLimitedLog(nullLogger, Date.now), known: () => false, maxBufferedBytes: 1 << 20 };
          const conn = new FrameConnection(socket as unknown as Socket, "fuzz:1", ctx, gate);
          let frames = 0;
          conn.onFrame = () => frames++;
          const stream: Uint8Array[] = hello ? [helloBytes(guard)] : [];
          for (const c of [...stream, ...chunks]) {
            socket.emit("data", Buffer.from(c));
            if (!conn.authenticated) assert.ok(conn.pendingBytes <= FIRST + 4 + 200, `unauthenticated, it holds ${conn.pendingBytes} bytes: more than a first frame and one chunk`);
            assert.equal(gate.budget.used, socket.destroyed ? 0 : conn.pendingBytes, "the budget counts exactly what the connection holds");
          }
          if (frames > 0) assert.ok(conn.authenticated, "no frame is handed up before one opened");
          socket.destroy();
          assert.equal(gate.budget.used, 0, "closing releases every byte");
        },
      ),
      { numRuns: Math.max(200, RUNS / 5) },
    );
  });
});

/** The hello a dialler sends first, framed, for a guard. */
function helloBytes(guard: PayloadGuard): Uint8Array {
  const payload = encodeFrame({ guard }, { channel: 0, oneWay: true });
  return Buffer.concat([lengthPrefix(payload.length), payload]);
}

/** Just enough of a socket for FrameConnection: bytes go in by emit("data"); close happens once. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  writableLength = 0;
  setNoDelay(): void {}
  write(): boolean {
    return true;
  }
  cork(): void {}
  uncork(): void {}
  end(): void {
    this.destroy();
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit("close");
  }
}
