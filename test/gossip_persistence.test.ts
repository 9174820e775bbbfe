import { after, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pb } from "../src/proto/index.js";
import { VirtualClock } from "../src/base/clock.js";
import { nullLogger, type Logger } from "../src/base/logger.js";
import { idToHex } from "../src/gossip/envelope.js";
import { HISTORY_NEW_REASON, LEGACY_SEEN_FILE_NAME, loadLegacySeenFile, loadSeenFile, openSeenState, SEEN_FILE_NAME, SeenLog } from "../src/gossip/seen_file.js";
import { SeenHistory, type SeenRecord } from "../src/gossip/history.js";
import { defaultGossipConfig } from "../src/gossip/config.js";
import type { Publication } from "../src/gossip/publication.js";
import { batchPayload, GossipSim, type SimNode } from "./support/gossip_sim.js";

const root = mkdtempSync(join(tmpdir(), "gossip-persist-"));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${++dirs}`);

function recordingLogger(): Logger & { lines: { level: string; obj: Record<string, unknown>; msg: string }[] } {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg = "") =>
      void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

async function until(sim: GossipSim, cond: () => boolean, what: string, maxMs = 5000): Promise<void> {
  assert.notEqual(await sim.clock.runUntil(cond, maxMs, 5), -1, `timed out waiting for ${what}`);
}

function publish(origin: SimNode, expected?: string[]): Publication {
  const res = origin.gossip.publish(pb.EnvelopeKind.CHECK_BATCH, batchPayload(), { expected });
  assert.ok(res.ok, res.ok ? "" : res.error);
  return res.publication;
}

/** The header of a version 1 log (still read: a history kept since before starts were recorded). */
const HEADER_V1 = "gossipcheck-seen-log 1\n";
const HEADER = "gossipcheck-seen-log 2\nbegan 1234\n";
const idN = (n: number) => n.toString(16).padStart(32, "0");

it("the state log round-trips with the time its history began, is compacted atomically, and a missing file is no history", async () => {
  const dir = freshDir();
  const clock = new VirtualClock();
  mkdirSync(dir);
  const path = join(dir, SEEN_FILE_NAME);
  assert.deepEqual(loadSeenFile(path), { ok: true, records: [], beganMs: null });
  const records = [
    { id: "ab".repeat(16), retainUntilMs: 5 },
    { id: "cd".repeat(16), retainUntilMs: 9 },
  ];
  const log = SeenLog.create(path, 1234, records, clock, 100, nullLogger);
  assert.deepEqual(loadSeenFile(path), { ok: true, records, beganMs: 1234 });
  assert.deepEqual(readdirSync(dir), [SEEN_FILE_NAME], "no temporary file is left behind");
  log.close();
});

it("an appended ID is in the file as soon as append() returns, with no sync or close", async () => {
  const dir = freshDir();
  mkdirSync(dir);
  const clock = new VirtualClock();
  const path = join(dir, SEEN_FILE_NAME);
  const log = SeenLog.create(path, 7, [], clock, 100, nullLogger);
  const all: SeenRecord[] = [];
  for (let i = 0; i < 3; i++) {
    all.push({ id: idN(i), retainUntilMs: 1000 + i });
    log.append(all[i]!, all.length, () => all);
    assert.deepEqual(loadSeenFile(path), { ok: true, records: all, beganMs: 7 }, `after append ${i}`);
  }
  await clock.advance(100); // the background fdatasync
  log.close();
  assert.throws(() => log.append({ id: idN(9), retainUntilMs: 1 }, 1, () => []), /closed/);
});

it("the log is compacted to the live IDs once it has grown past twice their number plus a margin", () => {
  const dir = freshDir();
  mkdirSync(dir);
  const path = join(dir, SEEN_FILE_NAME);
  const log = SeenLog.create(path, 7, [], new VirtualClock(), 100, nullLogger);
  // Only the two newest IDs are live at each step, as if older ones expired.
  let live: SeenRecord[] = [];
  let longest = 0;
  for (let i = 0; i < 2000; i++) {
    const r = { id: idN(i), retainUntilMs: i };
    live = [...live.slice(-1), r];
    log.append(r, live.length, () => live);
    const loaded = loadSeenFile(path);
    assert.ok(loaded.ok);
    longest = Math.max(longest, loaded.records.length);
    assert.deepEqual(loaded.records.at(-1), r, "the newest ID is always in the log");
    assert.equal(loaded.beganMs, 7, "compaction keeps when the history began");
  }
  assert.ok(longest <= 2 * 2 + 256 + 1, `the log stayed bounded (longest ${longest} lines)`);
  assert.deepEqual(readdirSync(dir), [SEEN_FILE_NAME]);
  log.close();
});

it("a torn last line is ignored; other damage is reported as an error saying what is wrong", () => {
  const dir = freshDir();
  mkdirSync(dir);
  const path = join(dir, SEEN_FILE_NAME);
  const good = `${idN(1)} 5\n`;
  const intact: [string, number, number][] = [
    [HEADER + good + idN(2).slice(0, 7), 1, 1234],
    [HEADER + good + `${idN(2)} 6`, 1, 1234],
    // Version 1 logs (no "began" line) are read as a history kept since before starts were recorded.
    [HEADER_V1 + good, 1, 0],
  ];
  for (const [text, n, began] of intact) {
    writeFileSync(path, text);
    const r = loadSeenFile(path);
    assert.ok(r.ok, text);
    assert.equal(r.records.length, n, text);
    assert.equal(r.beganMs, began, text);
  }
  // A log is always written whole (temporary file, rename), so an empty or
  // headless one is damage, not a crash mid-write: the node must not trust it.
  const cases: [string, RegExp][] = [
    ["{not a log", /not a gossipcheck seen-history log/],
    ["", /not a gossipcheck seen-history log/],
    [HEADER_V1.slice(0, 5), /not a gossipcheck seen-history log/],
    ["gossipcheck-seen-log 2\n" + good, /line 2 is not "began <ms>"/],
    [HEADER + "xyz 1\n" + good, /line 3 is not/],
    [HEADER + good + "\0\0\0\n" + good, /line 4 is not/],
    [HEADER_V1 + good + "\0\0\0\n" + good, /line 3 is not/],
  ];
  for (const [text, why] of cases) {
    writeFileSync(path, text);
    const r = loadSeenFile(path);
    assert.equal(r.ok, false, text);
    assert.match(!r.ok ? r.error : "", why);
  }
});

it("corrupt legacy JSON state files are reported as errors, each saying what is wrong", () => {
  const dir = freshDir();
  mkdirSync(dir);
  const path = join(dir, LEGACY_SEEN_FILE_NAME);
  const cases: [string, RegExp][] = [
    ["{not json", /not JSON/],
    ["[]", /not a gossipcheck-seen file/],
    ['{"format":"gossipcheck-seen","version":9,"seen":[]}', /version 9, expected 1/],
    ['{"format":"gossipcheck-seen","version":1,"seen":{}}', /"seen" is not a list/],
    ['{"format":"gossipcheck-seen","version":1,"seen":[["xyz",1]]}', /entry 0 is not/],
  ];
  for (const [text, why] of cases) {
    writeFileSync(path, text);
    const r = loadLegacySeenFile(path);
    assert.equal(r.ok, false, text);
    assert.match(!r.ok ? r.error : "", why);
  }
});

it("a data dir with the JSON state file of earlier versions is migrated: its live IDs are kept, the file removed", async () => {
  const dir = freshDir();
  mkdirSync(dir);
  const clock = new VirtualClock(1000);
  const seen = [
    [idN(1), 500],
    [idN(2), 60_000],
  ];
  writeFileSync(join(dir, LEGACY_SEEN_FILE_NAME), JSON.stringify({ format: "gossipcheck-seen", version: 1, seen }));
  const history = new SeenHistory(0);
  const state = await openSeenState(dir, history, clock, defaultGossipConfig(), nullLogger);
  assert.equal(state.unsafeBeforeMs, -Infinity);
  assert.ok(history.has(idN(2)) && !history.has(idN(1)), "the live ID is kept, the expired one dropped");
  assert.deepEqual(readdirSync(dir), [SEEN_FILE_NAME]);
  assert.deepEqual(loadSeenFile(join(dir, SEEN_FILE_NAME)), { ok: true, records: [{ id: idN(2), retainUntilMs: 60_000 }], beganMs: 0 });
  state.writer.close();
});

it("a newly seen envelope is in the state file before its consumer runs", async () => {
  const seenOnDisk: boolean[] = [];
  const sim = new GossipSim({
    seed: 31,
    onConsume: (node, env) => {
      const text = readFileSync(join(node.dataDir!, SEEN_FILE_NAME), "utf8");
      seenOnDisk.push(text.includes(idToHex(env.id)));
    },
  });
  const nodes: SimNode[] = [];
  for (let i = 0; i < 5; i++) nodes.push(await sim.addNode(`n${i}`, { dataDir: freshDir() }));
  const pub = publish(
    nodes[0]!,
    nodes.map((n) => n.name),
  );
  await until(sim, () => pub.done, "all replies");
  assert.deepEqual(seenOnDisk, [true, true, true, true, true]);
});

it("a node restarted with the same data dir does not consume a live batch again; with a lost data dir it skips it and tells the origin", async () => {
  const sim = new GossipSim({ seed: 32 });
  const nodes = await sim.addNodes(6);
  const dir = freshDir();
  const victim = await sim.addNode("victim", { dataDir: dir });
  const pub = publish(nodes[0]!, [...nodes.map((n) => n.name), "victim"]);
  await until(sim, () => pub.done, "all replies");
  assert.equal(sim.consumedCount("victim", pub.idHex), 1);

  // Graceful restart, same data dir: push-pull and advertisements offer the batch again.
  await sim.stop("victim");
  sim.roster.fail("victim");
  const again = await sim.addNode("victim", { dataDir: dir, pushPull: true });
  await sim.clock.advance(3000);
  assert.equal(sim.consumedCount("victim", pub.idHex), 1, "the restarted node must not run it again");
  assert.equal(again.gossip.counters().wanted, 0, "it never even asked for it");
  assert.ok(sim.net.stats.requests > 0);

  // The same restart with the data dir lost: the offer is real and the node
  // fetches the batch, but it was created before this node's history began,
  // so the node cannot prove it never ran it: it skips it and says why.
  await sim.stop("victim");
  const amnesiac = await sim.addNode("victim", { dataDir: freshDir(), pushPull: true });
  await until(sim, () => amnesiac.gossip.counters().refusedUnsafe === 1, "the amnesiac node to refuse it");
  assert.equal(sim.consumedCount("victim", pub.idHex), 1, "the action ran once in all");
  assert.ok(victim !== again);
});

it("a node with a new data dir skips a live batch created before it started, and runs those created past the skew allowance", async () => {
  const sim = new GossipSim({ seed: 36, config: { historyStartSkewMs: 500 } });
  const nodes = await sim.addNodes(4);
  const before = publish(nodes[0]!);
  await sim.clock.advance(100);
  const newcomer = await sim.addNode("newcomer", { dataDir: freshDir(), pushPull: true });
  await until(sim, () => newcomer.gossip.counters().refusedUnsafe === 1, "the newcomer to skip the older batch");
  assert.equal(sim.consumedCount("newcomer", before.idHex), 0);

  // Within the tolerated skew of its start, still skipped (and the origin told why); past it, run.
  const early = publish(nodes[1]!, ["newcomer"]);
  await until(sim, () => early.done, "the reply to a batch 100 ms after the start");
  const answer = (await collect(early)).get("newcomer")!;
  assert.equal(answer.body, "rejected");
  assert.equal(answer.rejected, HISTORY_NEW_REASON);
  await runsOnceAfter(sim, 500, nodes[2]!, "newcomer");
});

it("a node that crashes right after consuming (no clean stop) does not consume again after restarting", async () => {
  const sim = new GossipSim({ seed: 33 });
  const nodes = await sim.addNodes(4);
  const dir = freshDir();
  const victim = await sim.addNode("victim", { dataDir: dir });
  const pub = publish(nodes[0]!);
  await until(sim, () => sim.consumedCount("victim", pub.idHex) === 1, "the victim to consume");

  // kill -9: no stop(), no final write. Only what was flushed before consuming is on disk.
  sim.kill("victim");
  await victim.transport.close();
  const restarted = await sim.addNode("victim", { dataDir: dir, pushPull: true });
  await sim.clock.advance(3000);
  assert.equal(sim.consumedCount("victim", pub.idHex), 1);
  assert.equal(restarted.gossip.counters().received, 0);
});

it("a corrupt state file: a warning names it, batches from before the restart are refused with a reason, newer ones run", async () => {
  const log = recordingLogger();
  const sim = new GossipSim({ seed: 34, config: { historyStartSkewMs: 500 }, logger: (n) => (n === "victim" ? log : nullLogger) });
  const nodes = await sim.addNodes(4);
  const dir = freshDir();
  const path = join(dir, SEEN_FILE_NAME);
  await sim.addNode("victim", { dataDir: dir });
  await sim.clock.advance(600); // past the first start's own skew allowance
  const before = publish(nodes[0]!, [...nodes.map((n) => n.name), "victim"]);
  await until(sim, () => before.done, "the first batch to complete");

  // The victim goes down (too briefly for the membership to notice); a batch
  // is published meanwhile; its state file is damaged.
  await sim.stop("victim");
  const during = publish(nodes[1]!, ["victim"]);
  await sim.clock.advance(100);
  writeFileSync(path, "\0\0garbage");
  const victim = await sim.addNode("victim", { dataDir: dir, pushPull: true });

  const warning = log.lines.find((l) => l.level === "warn" && l.obj.file === path);
  assert.ok(warning, "a warning names the state file");
  assert.match(warning.msg, /unreadable/);
  assert.ok(existsSync(`${path}.corrupt`), "the corrupt file is kept aside");

  // Both older batches reach it again; neither runs; the waiting origin is told why.
  await until(sim, () => during.done, "the victim's answer to the batch published while it was down");
  const answer = (await collect(during)).get("victim")!;
  assert.equal(answer.body, "rejected");
  assert.match(answer.rejected ?? "", new RegExp(`^skipped: created before this node's history began \\(${path} was unreadable`));
  assert.equal(sim.consumedCount("victim", before.idHex), 1, "the batch it ran before the restart did not run again");
  assert.equal(sim.consumedCount("victim", during.idHex), 0);
  assert.equal(victim.gossip.counters().refusedUnsafe, 2);

  // A batch created after the restart (beyond the tolerated skew) runs normally.
  await runsOnceAfter(sim, 600, nodes[2]!, "victim");
});

it("a data dir that cannot be created stops start() with a message naming it", async () => {
  const file = join(root, "plain-file");
  writeFileSync(file, "x");
  const sim = new GossipSim({ seed: 35 });
  await assert.rejects(sim.addNode("n", { dataDir: join(file, "sub") }), (err: Error) => {
    assert.match(err.message, new RegExp(`cannot create the data dir ${join(file, "sub")}.*pass a writable -data-dir`));
    return true;
  });
});

/** After waitMs, a batch published by origin for `node` runs there exactly once and its result comes back. */
async function runsOnceAfter(sim: GossipSim, waitMs: number, origin: SimNode, node: string): Promise<void> {
  await sim.clock.advance(waitMs);
  const later = publish(origin, [node]);
  await until(sim, () => later.done, `the reply from ${node} to a later batch`);
  assert.equal((await collect(later)).get(node)!.body, "checks");
  assert.equal(sim.consumedCount(node, later.idHex), 1);
}

async function collect(pub: Publication): Promise<Map<string, pb.NodeReply>> {
  const out = new Map<string, pb.NodeReply>();
  for await (const e of pub.events()) if (e.type === "reply") out.set(e.node, e.reply);
  return out;
}
