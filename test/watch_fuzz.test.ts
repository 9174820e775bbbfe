import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import { decodeSchedule, encodeSchedule } from "../src/control/schedule_codec.js";
import { ScheduleBook } from "../src/daemon/cluster/schedule_book.js";
import { VirtualClock } from "../src/base/clock.js";
import { nullLogger } from "../src/base/logger.js";
import { pb } from "../src/proto/index.js";

/*
 * What the always-on parts read from the network, fed garbage: a SCHEDULE
 * payload (from a burst, anti-entropy or any push-pull) never throws past
 * decodeSchedule, and the schedule book refuses it as a value, keeping
 * nothing.
 */

// FUZZ_RUNS=100000 for the long fuzz run; npm test uses a smaller count.
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

const good = encodeSchedule({
  name: "web",
  version: 1_700_000_000_000,
  removed: false,
  batch: { checks: [{ name: "up", type: "file_exists", path: "/tmp", intervalMs: 10_000, quorum: "majority" }], dryRun: false, targetNodes: [], targetTags: { role: "web" } },
  submitter: "ops@bastion",
});

const input = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
    const b = Uint8Array.from(good);
    b[at % b.length]! ^= x;
    return b;
  }),
);

it("random and mutated SCHEDULE payloads never throw past decodeSchedule; the book keeps only what decodes and has intervals", () => {
  const book = new ScheduleBook({ dataDir: null, clock: new VirtualClock(), log: nullLogger });
  let id = 0;
  fc.assert(
    fc.property(input, (payload) => {
      const d = decodeSchedule(payload);
      assert.equal(typeof d.ok, "boolean");
      const env = {
        id: new Uint8Array(16).fill(++id % 256),
        origin: "n",
        originAddress: "a:1",
        createdMs: 1,
        ttlMs: 1000,
        kind: pb.EnvelopeKind.SCHEDULE,
        payload,
        signature: new Uint8Array(0),
        signerKey: new Uint8Array(0),
      };
      const r = book.apply(env, false);
      if (r.kind === "newer") assert.ok(d.ok && (d.schedule.removed || d.schedule.batch.checks.every((c) => (c.intervalMs ?? 0) > 0)));
      return true;
    }),
    { numRuns: RUNS, seed: 46 },
  );
  assert.ok(decodeSchedule(good).ok);
});
