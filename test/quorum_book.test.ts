import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { VirtualClock } from "../src/base/clock.js";
import type { CheckStatus } from "../src/checks/types.js";
import { firer, neededVotes, QuorumBook, type Quorum, type VoteIn } from "../src/quorum/index.js";

/*
 * Quorum checks: the votes needed, the verdict from the live voters' latest
 * votes, and the one node that fires each verdict change for the cluster,
 * simulated with ten books fed the same votes.
 */

const names = Array.from({ length: 10 }, (_, i) => `node-${String(i).padStart(2, "0")}`);
const vote = (node: string, status: CheckStatus, atMs: number): VoteIn => ({ node, schedule: "edge", check: "api_up", status, atMs, message: status });

/** One book with the ten voters, `failing` of them voting fail and the rest pass. */
function bookWith(quorum: Quorum, failing: number): QuorumBook {
  const book = new QuorumBook({ self: names[0]!, clock: new VirtualClock() });
  book.setChecks([{ schedule: "edge", check: "api_up", quorum, voters: names }]);
  names.forEach((n, i) => book.apply(vote(n, i < failing ? "fail" : "pass", 1)));
  book.evaluate();
  return book;
}

describe("neededVotes and firer", () => {
  it("a majority is floor(voters/2)+1, K is K", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 9, 10].map((v) => neededVotes("majority", v)),
      [1, 1, 2, 2, 5, 6],
    );
    assert.equal(neededVotes(3, 10), 3);
    assert.equal(neededVotes(12, 10), 12);
  });

  it("the firer is the first live voter in code-unit order", () => {
    assert.equal(firer(["web-2", "Web-9", "db-1"]), "Web-9");
    assert.equal(firer(["b", "a"]), "a");
    assert.equal(firer([]), undefined);
  });
});

describe("QuorumBook verdicts", () => {
  it("3 of 10 failing: failing with K=3, not with K=6 or a majority", () => {
    assert.equal(bookWith(3, 3).verdicts()[0]!.failing, true);
    assert.equal(bookWith(6, 3).verdicts()[0]!.failing, false);
    const majority = bookWith("majority", 3).verdicts()[0]!;
    assert.equal(majority.failing, false);
    assert.equal(majority.needed, 6);
  });

  it("6 of 10 failing: failing with K=3, K=6 and a majority", () => {
    for (const q of [3, 6, "majority"] as const) assert.equal(bookWith(q, 6).verdicts()[0]!.failing, true, String(q));
    assert.equal(bookWith(7, 6).verdicts()[0]!.failing, false);
  });

  it("counts error as failing; warn, fixed and no vote are not", () => {
    const book = new QuorumBook({ self: "a", clock: new VirtualClock() });
    book.setChecks([{ schedule: "edge", check: "api_up", quorum: 2, voters: ["a", "b", "c", "d", "e"] }]);
    book.apply(vote("a", "error", 1));
    book.apply(vote("b", "warn", 1));
    book.apply(vote("c", "fixed", 1));
    book.evaluate();
    assert.equal(book.verdicts()[0]!.failing, false);
    book.apply(vote("d", "fail", 1));
    const { changes } = book.evaluate();
    assert.equal(changes.length, 1);
    assert.deepEqual(changes[0]!.facts, { schedule: "edge", check: "api_up", failing: 2, needed: 2, voters: 5, nodes: ["a", "d"] });
    // e never voted: it counts as a voter, not as a vote.
    assert.deepEqual(
      book.verdicts()[0]!.votes.map((v) => `${v.node}:${v.status}`),
      ["a:error", "b:warn", "c:fixed", "d:fail"],
    );
  });

  it("the latest vote of a node wins, whatever order votes arrive in", () => {
    const book = new QuorumBook({ self: "a", clock: new VirtualClock() });
    book.setChecks([{ schedule: "edge", check: "api_up", quorum: 1, voters: ["a", "b"] }]);
    assert.equal(book.apply(vote("b", "pass", 20)), true);
    assert.equal(book.apply(vote("b", "fail", 10)), false, "an older vote changed the book");
    assert.equal(book.apply(vote("b", "pass", 20)), false, "the same vote again changed the book");
    book.evaluate();
    assert.equal(book.verdicts()[0]!.failing, false);
    assert.equal(book.apply(vote("b", "fail", 30)), true);
    book.evaluate();
    assert.equal(book.verdicts()[0]!.failing, true);
    // Same atMs, two statuses: every node keeps the same one, in either order.
    const kept = (order: CheckStatus[]) => {
      const b = new QuorumBook({ self: "x", clock: new VirtualClock() });
      b.setChecks([{ schedule: "edge", check: "api_up", quorum: 1, voters: ["a"] }]);
      for (const status of order) b.apply(vote("a", status, 5));
      b.evaluate();
      return b.verdicts()[0]!.votes[0]!.status;
    };
    assert.equal(kept(["fail", "pass"]), kept(["pass", "fail"]));
  });

  it("dead voters drop out: their votes stop counting and a majority shrinks with them", () => {
    const clock = new VirtualClock();
    const book = new QuorumBook({ self: names[0]!, clock });
    book.setChecks([{ schedule: "edge", check: "api_up", quorum: "majority", voters: names }]);
    names.forEach((n, i) => book.apply(vote(n, i >= 5 ? "fail" : "pass", 1)));
    book.evaluate();
    assert.equal(book.verdicts()[0]!.failing, false, "5 of 10 is no majority");
    // Two passing voters die: 5 failing of 8 is.
    const live = names.filter((n) => n !== "node-01" && n !== "node-02");
    book.setChecks([{ schedule: "edge", check: "api_up", quorum: "majority", voters: live }]);
    const { changes } = book.evaluate();
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.verdict.failing, true);
    assert.equal(changes[0]!.verdict.needed, 5);
    assert.equal(changes[0]!.verdict.votes.length, 8);
    // The failing voters die: their fail votes are gone with them.
    book.setChecks([{ schedule: "edge", check: "api_up", quorum: "majority", voters: live.filter((n) => n < "node-05") }]);
    assert.equal(book.evaluate().changes[0]?.verdict.failing, false);
    book.forgetNode("node-07");
    assert.equal(book.ownVotes().length, 1);
  });

  it("a K above the live voters can never be reached, and the verdict says so", () => {
    const book = new QuorumBook({ self: "a", clock: new VirtualClock() });
    book.setChecks([{ schedule: "edge", check: "api_up", quorum: 6, voters: ["a", "b", "c", "d"] }]);
    for (const n of ["a", "b", "c", "d"]) book.apply(vote(n, "fail", 1));
    book.evaluate();
    const v = book.verdicts()[0]!;
    assert.equal(v.failing, false);
    assert.equal(v.unreachable, "needs 6 failing votes, 4 voters alive: the verdict cannot fail");
  });

  it("keeps votes that arrive before their check is known, and counts them once it is", () => {
    const book = new QuorumBook({ self: "a", clock: new VirtualClock() });
    book.apply(vote("b", "fail", 1));
    book.apply(vote("c", "fail", 1));
    assert.deepEqual(book.evaluate().changes, []);
    book.setChecks([{ schedule: "edge", check: "api_up", quorum: "majority", voters: ["a", "b", "c"] }]);
    const { changes } = book.evaluate();
    assert.deepEqual(
      changes.map((c) => [c.verdict.failing, c.fire, c.facts.nodes]),
      [[true, true, ["b", "c"]]],
    );
  });

  it("ownVotes are this node's latest votes, to republish", () => {
    const book = new QuorumBook({ self: "a", clock: new VirtualClock() });
    book.apply(vote("a", "fail", 1));
    book.apply(vote("a", "pass", 2));
    book.apply({ ...vote("a", "warn", 3), check: "db_up" });
    book.apply(vote("b", "fail", 4));
    assert.deepEqual(
      book
        .ownVotes()
        .map((v) => `${v.check}:${v.status}`)
        .sort(),
      ["api_up:pass", "db_up:warn"],
    );
  });
});

describe("QuorumBook firer, ten nodes", () => {
  /** Ten books, each fed every vote; `alive` are the live voters every book is told of. */
  function cluster() {
    const clock = new VirtualClock();
    const books = new Map(names.map((n) => [n, new QuorumBook({ self: n, clock })]));
    let alive = [...names];
    const setAlive = (live: string[]) => {
      alive = live;
      for (const n of alive) books.get(n)!.setChecks([{ schedule: "edge", check: "api_up", quorum: "majority", voters: alive }]);
    };
    setAlive(names);
    /** Every live book evaluates; returns who fired what. */
    const evaluate = () => {
      const fired: string[] = [];
      for (const n of alive)
        for (const c of books.get(n)!.evaluate().changes) {
          if (c.fire) fired.push(`${n} ${c.verdict.failing ? "quorum-fail" : "quorum-recover"}`);
        }
      return fired;
    };
    const castAll = (v: VoteIn) => {
      for (const n of alive) books.get(n)!.apply(v);
    };
    return { books, evaluate, castAll, setAlive, clock };
  }

  it("fires each verdict change exactly once in the cluster, from the first voter", () => {
    const c = cluster();
    names.forEach((n) => c.castAll(vote(n, "pass", 1)));
    assert.deepEqual(c.evaluate(), []);
    for (const n of names.slice(0, 3)) c.castAll(vote(n, "fail", 2));
    assert.deepEqual(c.evaluate(), [], "3 of 10 is no majority");
    for (const n of names.slice(3, 6)) c.castAll(vote(n, "fail", 3));
    assert.deepEqual(c.evaluate(), ["node-00 quorum-fail"]);
    assert.deepEqual(c.evaluate(), [], "fired again without a change");
    c.castAll(vote("node-07", "fail", 4));
    assert.deepEqual(c.evaluate(), [], "one more failing vote is no change");
    for (const n of names.slice(0, 4)) c.castAll(vote(n, "pass", 5));
    assert.deepEqual(c.evaluate(), ["node-00 quorum-recover"]);
    for (const b of c.books.values()) assert.equal(b.verdicts()[0]!.firer, "node-00");
  });

  it("hands off to the next voter in order when the firer dies: no repeat of what it fired, the next change fired once", () => {
    const c = cluster();
    names.forEach((n, i) => c.castAll(vote(n, i < 6 ? "fail" : "pass", 1)));
    assert.deepEqual(c.evaluate(), ["node-00 quorum-fail"]);
    // node-00 dies: 5 failing of 9 is still a majority; node-01 takes over and fires nothing old.
    c.setAlive(names.slice(1));
    assert.deepEqual(c.evaluate(), []);
    for (const b of names.slice(1)) assert.equal(c.books.get(b)!.verdicts()[0]!.firer, "node-01");
    for (const n of names.slice(1, 6)) c.castAll(vote(n, "pass", 2));
    assert.deepEqual(c.evaluate(), ["node-01 quorum-recover"]);
  });

  it("a change in the very evaluation where the firer dies is fired by the next one", () => {
    const c = cluster();
    names.forEach((n, i) => c.castAll(vote(n, i >= 4 ? "fail" : "pass", 1)));
    assert.deepEqual(c.evaluate(), ["node-00 quorum-fail"]);
    // node-00 (passing) and node-04..06 (failing) die at once: 3 failing of 6 is no majority.
    c.setAlive(names.filter((n) => !["node-00", "node-04", "node-05", "node-06"].includes(n)));
    assert.deepEqual(c.evaluate(), ["node-01 quorum-recover"]);
  });
});
