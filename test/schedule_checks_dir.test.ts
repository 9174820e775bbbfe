import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SeededRandom } from "../src/base/random.js";
import { loadChecksDir, MAX_CHECKS_DIR_CHECKS, MAX_CHECKS_DIR_FILE_BYTES } from "../src/schedule/checks_dir.js";
import { DueHeap } from "../src/schedule/due_heap.js";
import { FlapGuard, formatWindow } from "../src/schedule/flap_guard.js";

/*
 * -checks-dir: which files are schedules, and how a bad one is reported
 * without keeping the others from loading; and the scheduler's small parts.
 */

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "gossipcheck-checks-dir-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function dirWith(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
  return dir;
}

const scheduled = (name: string, interval = "30s") => JSON.stringify({ [name]: { type: "file_exists", path: "/etc/hostname", interval } });

describe("loadChecksDir", () => {
  it("loads each JSON and YAML file as a schedule named local:FILE, in name order, skipping dotfiles and other files", async () => {
    const dir = await dirWith("good", {
      "b.json": scheduled("b1"),
      "a.yaml": "a1:\n  type: file_exists\n  path: /etc/hostname\n  interval: 1m\n  splay: 10s\n",
      "c.yml": "c1: {type: file_exists, path: /x, interval: 5s}\n",
      ".b.json.swp": "garbage",
      ".hidden.json": scheduled("h"),
      "notes.txt": "not a check file",
    });
    await mkdir(join(dir, "sub.json"));
    await writeFile(join(dir, "sub.json", "x.json"), scheduled("x"));
    const r = await loadChecksDir(dir);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.sets.map((s) => [s.name, s.source, s.checks.map((c) => [c.name, c.intervalMs, c.splayMs])]),
      [
        ["local:a", "local", [["a1", 60_000, 10_000]]],
        ["local:b", "local", [["b1", 30_000, undefined]]],
        ["local:c", "local", [["c1", 5000, undefined]]],
      ],
    );
  });

  it("reports a bad file naming it, and still loads the others", async () => {
    const dir = await dirWith("bad", {
      "good.json": scheduled("ok"),
      "broken.json": '{"x": {"type": "file_exists",}}',
      "once.json": JSON.stringify({ scheduled: { type: "file_exists", path: "/x", interval: "1m" }, once: { type: "file_exists", path: "/y" } }),
      "fast.json": scheduled("fast", "100ms"),
      "dup.json": scheduled("d1"),
      "dup.yaml": "d2: {type: file_exists, path: /x, interval: 1m}\n",
    });
    const r = await loadChecksDir(dir);
    assert.deepEqual(
      r.sets.map((s) => s.name),
      ["local:dup", "local:good"],
    );
    const [dupYaml, fast, once, broken] = [
      r.errors.find((e) => e.includes("dup.yaml")),
      r.errors.find((e) => e.includes("fast.json")),
      r.errors.find((e) => e.includes("once.json")),
      r.errors.find((e) => e.includes("broken.json")),
    ];
    assert.equal(r.errors.length, 4, r.errors.join("\n"));
    assert.match(broken!, /^.*broken\.json:1:\d+: malformed JSON/);
    assert.equal(once, `${join(dir, "once.json")}: check "once": a check in -checks-dir needs an interval (add e.g. "interval": "1m"); this file is not loaded`);
    assert.match(fast!, /fast\.json: check "fast": field "interval": "100ms" is shorter than 1s/);
    assert.equal(dupYaml, `${join(dir, "dup.yaml")}: the schedule "local:dup" comes from dup.json already: rename one of the two files; this one is not loaded`);
  });

  it("names a missing directory and a file that is not one", async () => {
    const missing = join(root, "nope");
    assert.deepEqual(await loadChecksDir(missing), { sets: [], errors: [`${missing}: no such directory: create it or fix -checks-dir`] });
    const file = join(root, "plain-file");
    await writeFile(file, "x");
    assert.deepEqual(await loadChecksDir(file), { sets: [], errors: [`${file}: not a directory: -checks-dir names a directory of check files`] });
  });

  it("bounds a file's size and the checks of the whole directory", async () => {
    const many = (prefix: string, n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, { type: "file_exists", path: "/x", interval: "10s" }])));
    const dir = await dirWith("bounds", { "a.json": many("a", MAX_CHECKS_DIR_CHECKS - 5), "b.json": many("b", 6), "c.json": many("c", 5) });
    await writeFile(join(dir, "huge.json"), "{}");
    await truncate(join(dir, "huge.json"), MAX_CHECKS_DIR_FILE_BYTES + 1);
    const r = await loadChecksDir(dir);
    assert.deepEqual(
      r.sets.map((s) => [s.name, s.checks.length]),
      [
        ["local:a", MAX_CHECKS_DIR_CHECKS - 5],
        ["local:c", 5],
      ],
    );
    assert.deepEqual(r.errors, [
      `${join(dir, "b.json")}: its 6 checks would take -checks-dir past ${MAX_CHECKS_DIR_CHECKS} checks in all: this file is not loaded (split the work across nodes or lengthen intervals)`,
      `${join(dir, "huge.json")}: ${MAX_CHECKS_DIR_FILE_BYTES + 1} bytes, over the ${MAX_CHECKS_DIR_FILE_BYTES}-byte limit of a check file: split it`,
    ]);
  });
});

describe("scheduler parts", () => {
  it("DueHeap pops in due order, with any item removable", () => {
    const random = new SeededRandom(5);
    const heap = new DueHeap<{ dueMs: number; heapIndex: number }>();
    const items = Array.from({ length: 500 }, () => ({ dueMs: random.int(1000), heapIndex: -1 }));
    for (const i of items) heap.push(i);
    const removed = new Set(items.filter((_, n) => n % 3 === 0));
    for (const i of removed) heap.remove(i);
    heap.remove(items[0]!); // twice: a no-op
    const out: number[] = [];
    for (let i = heap.pop(); i; i = heap.pop()) out.push(i.dueMs);
    const expected = items
      .filter((i) => !removed.has(i))
      .map((i) => i.dueMs)
      .sort((a, b) => a - b);
    assert.deepEqual(out, expected);
    assert.ok(items.every((i) => i.heapIndex === -1));
  });

  it("FlapGuard allows maxActionRuns per sliding window", () => {
    const g = new FlapGuard(3, 600_000);
    for (const t of [0, 60_000, 120_000]) {
      assert.ok(g.allows(t));
      g.record(t);
    }
    assert.equal(g.allows(599_999), false);
    assert.equal(g.runsInWindow(599_999), 3);
    assert.ok(g.allows(600_000)); // the run at 0 has left the window
    assert.equal(new FlapGuard(0, 1000).allows(0), false);
    assert.deepEqual([600_000, 90_000, 5_400_000, 500, 3_723_000].map(formatWindow), ["10m", "1m30s", "1h30m", "500ms", "1h2m3s"]);
  });
});
