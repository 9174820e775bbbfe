import assert from "node:assert/strict";
import { it } from "node:test";
import type { NodeHistoryAnswer, TransitionRecord } from "../src/control/watch_types.js";
import { fitAnswer } from "../src/daemon/cluster/watch.js";

/*
 * A node's answer to a history question is one reply frame, and a whole
 * cluster's answers land on the asking node at once: fitAnswer keeps each
 * under 4 MiB, shedding the oldest rows (and saying so) or long action
 * output, and refuses what still does not fit.
 */

const transition = (i: number): TransitionRecord => ({ node: "n", schedule: "s", check: `c${i}`, from: "pass", to: "fail", atMs: i, message: "m".repeat(5000) });

it("a history answer too large for a reply sheds rows and says it is truncated", () => {
  const answer: NodeHistoryAnswer = { what: "history", batches: [], transitions: Array.from({ length: 1000 }, (_, i) => transition(i)), truncated: false };
  const json = fitAnswer(answer);
  assert.ok(json.length <= 4 * 1024 * 1024, `${json.length} bytes`);
  const back = JSON.parse(json) as Extract<NodeHistoryAnswer, { what: "history" }>;
  assert.equal(back.truncated, true);
  assert.ok(back.transitions.length >= 400 && back.transitions.length < 1000);
  assert.equal(back.transitions[0]!.check, "c0", "the first (newest) rows are kept");
});

it("a batch's results too large keep 1 KiB of each action's output; a small answer is left alone", () => {
  const results = Array.from({ length: 100 }, (_, i) => ({
    name: `c${i}`,
    type: "file_exists" as const,
    status: "fail" as const,
    message: "missing",
    durationMs: 1,
    action: { command: "x", exitCode: 1, signal: null, timedOut: false, output: "o".repeat(64 * 1024), outputTruncated: false, durationMs: 1, leftoversKilled: 0 },
  }));
  const answer: NodeHistoryAnswer = {
    what: "results",
    batch: { batchId: "b", origin: "o", submitter: "", signer: "", createdMs: 1, finishedMs: 2, dryRun: false, schedule: "", counts: { fail: 100 }, results },
  };
  const back = JSON.parse(fitAnswer(answer)) as Extract<NodeHistoryAnswer, { what: "results" }>;
  assert.equal(back.batch!.results![0]!.action!.output.length, 1024);
  assert.equal(back.batch!.results![0]!.action!.outputTruncated, true);
  const small: NodeHistoryAnswer = { what: "status", checks: [], verdicts: [] };
  assert.equal(fitAnswer(small), JSON.stringify(small));
});
