import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { ROOT, tempDir } from "../support/proc.js";

/*
 * The npm package as a user gets it: `npm pack`, then `npm install -g` of the
 * tarball into a temporary prefix, then both installed binaries. A test
 * rather than a step of .ci/run, so that `npm test` on a laptop catches a
 * file left out of "files" too, and the installed binaries run on every Node
 * that .ci/run tests. It packs the dist/ that the test run was built from
 * (--ignore-scripts skips the prepack build, ~20 s, already done); the
 * dependencies come from npm's cache (--prefer-offline), which npm ci filled.
 * Install scripts are skipped (--ignore-scripts): better-sqlite3's would
 * fetch a prebuilt addon from GitHub or compile SQLite (60-100 s per Node);
 * the addon this checkout built for this Node is copied in instead, and the
 * installed history store is opened with it.
 */

const run = promisify(execFile);
const npmFound = spawnSync("npm", ["--version"], { encoding: "utf8" });
const skip = npmFound.status === 0 ? false : `npm is not on PATH (${npmFound.error?.message ?? `exit ${npmFound.status}`}): cannot pack and install`;
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

describe("the npm package, installed globally from its tarball", { skip, timeout: 180_000 }, () => {
  const t = tempDir("gc-pkg-");
  const prefix = join(t.path, "prefix");
  let files: string[] = [];
  let installOutput = "";

  before(async () => {
    const npm = (args: string[], cwd: string) => run("npm", [...args, "--no-audit", "--no-fund", "--no-update-notifier"], { cwd, encoding: "utf8", timeout: 150_000 });
    const packed = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", t.path], ROOT);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    files = info!.files.map((f) => f.path);
    const installed = await npm(["install", "-g", "--prefer-offline", "--ignore-scripts", "--prefix", prefix, join(t.path, info!.filename)], t.path);
    installOutput = installed.stdout + installed.stderr;
  });
  after(() => t.cleanup());

  it("ships the license and the built code, and no source maps pointing at sources it does not ship", () => {
    assert.ok(files.includes("LICENSE"), "LICENSE is packed");
    for (const f of [
      "dist/src/daemon/bin.js",
      "dist/src/daemon/main.js",
      "dist/src/daemon/main.bundle.js",
      "dist/src/cli/program.bundle.js",
      "dist/src/daemon/help.txt",
      "dist/src/cli/main.js",
      "dist/src/cli/gcheck.cjs",
      "dist/src/proto/wire.js",
    ])
      assert.ok(files.includes(f), `${f} is packed`);
    assert.deepEqual(
      // Type declarations (.d.ts) are shipped for gossipcheck/client; sources are not.
      files.filter((f) => f.endsWith(".map") || (f.endsWith(".ts") && !f.endsWith(".d.ts"))),
      [],
    );
  });

  it("installs without a warning (no install-time scripts to allow)", () => {
    assert.doesNotMatch(installOutput, /warn/i, installOutput);
  });

  it("ships better-sqlite3 as a dependency: the installed history store opens a database", async () => {
    const installed = join(prefix, "lib/node_modules/gossipcheck");
    const release = join(installed, "node_modules/better-sqlite3/build/Release");
    mkdirSync(release, { recursive: true });
    copyFileSync(join(ROOT, "node_modules/better-sqlite3/build/Release/better_sqlite3.node"), join(release, "better_sqlite3.node"));
    const dataDir = join(t.path, "data");
    mkdirSync(dataDir);
    const store = pathToFileURL(join(installed, "dist/src/history/store.js")).href;
    const code = `const { openHistory } = await import(${JSON.stringify(store)}); const r = openHistory(${JSON.stringify(dataDir)}, { log: console }); if (!r.ok) throw new Error(r.error); r.value.close(); console.log("opened");`;
    assert.equal((await run(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", timeout: 30_000 })).stdout, "opened\n");
  });

  it("exports the client library as gossipcheck/client, with its type declarations", async () => {
    assert.ok(files.includes("dist/src/client/index.d.ts"), "the client's declarations are packed");
    const lib = join(prefix, "lib");
    const code = `const { connect, ClientError } = await import("gossipcheck/client"); console.log(typeof connect, typeof ClientError);`;
    assert.equal((await run(process.execPath, ["--input-type=module", "-e", code], { cwd: lib, encoding: "utf8", timeout: 30_000 })).stdout, "function function\n");
  });

  it("runs both installed binaries", async () => {
    const bin = (name: string, ...args: string[]) => run(join(prefix, "bin", name), args, { encoding: "utf8", timeout: 30_000 });
    assert.equal((await bin("gossipcheckd", "-version")).stdout, `${VERSION}\n`);
    assert.equal((await bin("gcheck", "-version")).stdout, `${VERSION}\n`);
    assert.match((await bin("gossipcheckd", "-help")).stdout, /^Usage: gossipcheckd \[options\]\n[\s\S]*-log-format/);
    assert.match((await bin("gcheck", "-help")).stdout, /local-check/);
  });
});
