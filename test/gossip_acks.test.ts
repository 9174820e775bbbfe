import { it } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../src/base/clock.js";
import { AckRounds, MAX_ACKS_PER_ROUND } from "../src/gossip/acks.js";

/** Starts n waits on the rounds; returns how many have been released so far. */
function wait(rounds: AckRounds, n: number): () => number {
  let released = 0;
  for (let i = 0; i < n; i++) void rounds.next().then(() => released++);
  return () => released;
}

it("a round ends delayMs after its first acknowledgement and releases all of them together; the next starts afresh", async () => {
  const clock = new VirtualClock();
  const rounds = new AckRounds(clock, 200);
  const first = wait(rounds, 1);
  await clock.advance(150);
  const second = wait(rounds, 2);
  await clock.advance(49);
  assert.equal(first() + second(), 0, "nothing before the round ends");
  assert.equal(rounds.size, 3);
  await clock.advance(1);
  assert.deepEqual([first(), second()], [1, 2], "released together, 200 ms after the first");
  const third = wait(rounds, 1);
  await clock.advance(199);
  assert.equal(third(), 0, "a new round waits its own 200 ms");
  await clock.advance(1);
  assert.equal(third(), 1);
});

it("a full round ends at once, release() ends one early, and a delay of 0 acknowledges at once", async () => {
  const clock = new VirtualClock();
  const rounds = new AckRounds(clock, 60_000);
  const full = wait(rounds, MAX_ACKS_PER_ROUND);
  await clock.advance(0);
  assert.equal(full(), MAX_ACKS_PER_ROUND);
  assert.equal(rounds.size, 0);
  const early = wait(rounds, 3);
  rounds.release();
  await clock.advance(0);
  assert.equal(early(), 3);
  const immediate = wait(new AckRounds(clock, 0), 2);
  await clock.advance(0);
  assert.equal(immediate(), 2);
});
