/**
 * Property-based fuzzing of the check-file decoders: the JSON scanner must
 * accept exactly what JSON.parse accepts (it only adds line numbers and
 * duplicate detection), and parseCheckFile / decodeCheckBatch return an error
 * value for anything, never throw.
 * FUZZ_RUNS=100000 for the long fuzz run; npm test uses a smaller count.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeCheckBatch, encodeCheckBatch } from "../src/checks/codec.js";
import { parseCheckFile } from "../src/checks/index.js";
import { scanJson } from "../src/checks/json_scan.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

/** Inserts, deletes or replaces one character of a copy of s. */
const mutation = fc.record({
  kind: fc.constantFrom("insert", "delete", "replace"),
  at: fc.nat(),
  char: fc.constantFrom(..."{}[]:,\"\\ \n\t0-1.eE+/'tfnu\u0000\u001f\u00e9"),
});

function mutate(s: string, m: { kind: string; at: number; char: string }): string {
  const i = s.length === 0 ? 0 : m.at % s.length;
  if (m.kind === "insert") return s.slice(0, i) + m.char + s.slice(i);
  if (m.kind === "delete") return s.slice(0, i) + s.slice(i + 1);
  return s.slice(0, i) + m.char + s.slice(i + 1);
}

function jsonParses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A check-file-like document: mostly the right shape, with wrong values mixed in. */
const checkLike = fc.dictionary(
  fc.string({ maxLength: 8 }),
  fc.oneof(
    fc.record(
      {
        type: fc.constantFrom("file_exists", "file_contains", "process_running", "nope", 3),
        path: fc.oneof(fc.string({ maxLength: 6 }), fc.constant(7)),
        check: fc.oneof(fc.string({ maxLength: 6 }), fc.constant(null)),
        action: fc.string({ maxLength: 6 }),
        timeout: fc.oneof(fc.constantFrom("30s", "0s", "1m30s", "x", "45"), fc.double()),
        description: fc.string({ maxLength: 6 }),
        pth: fc.string({ maxLength: 3 }),
      },
      { requiredKeys: [] },
    ),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  { maxKeys: 4 },
);

describe("fuzz: check files", () => {
  it("the scanner accepts exactly what JSON.parse accepts", () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 3 }), fc.array(mutation, { maxLength: 3 }), (json, ms) => {
        const text = ms.reduce(mutate, json);
        const scan = scanJson(text);
        assert.equal(scan.error === undefined, jsonParses(text), `scanner and JSON.parse disagree on ${JSON.stringify(text)}: ${scan.error?.message}`);
      }),
      { numRuns: RUNS },
    );
  });

  it("parseCheckFile returns errors that name the file, and never throws", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          checkLike.map((d) => JSON.stringify(d)),
          fc.string({ maxLength: 40 }),
        ),
        fc.array(mutation, { maxLength: 2 }),
        (text, ms) => {
          const r = parseCheckFile(ms.reduce(mutate, text), "fuzz.json");
          if (r.ok) assert.ok(r.checks.length > 0);
          else for (const e of r.errors) assert.ok(e.startsWith("fuzz.json"), e);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("decodeCheckBatch never throws on random or mutated bytes", () => {
    const valid = Buffer.from(encodeCheckBatch({ checks: [{ name: "a", type: "file_contains", path: "/x", check: "y", timeoutMs: 5 }], dryRun: true, targetNodes: ["n"], targetTags: { k: "v" } }));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (random, at, value) => {
        decodeCheckBatch(random);
        const c = Buffer.from(valid);
        c[at % c.length] = value;
        const r = decodeCheckBatch(c);
        assert.equal(typeof r.ok, "boolean");
      }),
      { numRuns: RUNS },
    );
  });
});
