import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import * as nodeModule from "node:module";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runGcheck, spawnDaemon, tempDir } from "../support/proc.js";

/*
 * V8's compile cache (src/cmdline/compile_cache.ts) is an optimisation only:
 * gcheck and gossipcheckd work the same when the cache folder cannot be
 * created, and when NODE_DISABLE_COMPILE_CACHE=1 turns it off. On Node 20
 * (no module.enableCompileCache) the cache assertions are moot and only
 * "still works" is checked; CI's Node 22 and 24 runs check the rest.
 */

const HAS_FLUSH = typeof (nodeModule as unknown as { flushCompileCache?: unknown }).flushCompileCache === "function";
const HAS_CACHE = typeof (nodeModule as unknown as { enableCompileCache?: unknown }).enableCompileCache === "function";
const t = tempDir("gc-compile-cache-");
after(() => t.cleanup());

/** An environment whose every cache location is under dir (TMPDIR is Node's fallback). */
function envUnder(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  mkdirSync(join(dir, "tmp"), { recursive: true });
  return { XDG_CACHE_HOME: join(dir, "xdg"), TMPDIR: join(dir, "tmp"), NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined, ...extra };
}

/** Asserts that gcheck -help, a daemon, and gcheck members against it all work with env. */
async function gcheckAndDaemonWork(env: NodeJS.ProcessEnv): Promise<void> {
  const help = await runGcheck(["-help"], { env });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /members/);
  assert.equal(help.stderr, "");
  const d = await spawnDaemon(["-name", "cc"], { env });
  try {
    const r = await runGcheck(["-server", d.cliAddress!, "members"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^cc\s+127\.0\.0\.1:\d+\s+alive/m);
    assert.equal(r.stderr, "");
  } finally {
    await d.stop();
  }
}

describe("compile cache", () => {
  it("is written under $XDG_CACHE_HOME/gossipcheck where Node has it", async () => {
    const dir = join(t.path, "ok");
    await gcheckAndDaemonWork(envUnder(dir));
    const cache = join(dir, "xdg/gossipcheck/node-compile-cache");
    assert.equal(existsSync(cache), HAS_CACHE);
    if (HAS_CACHE) assert.ok(readdirSync(cache).length > 0, "one folder per Node version");
  });

  it("falls back to Node's default under TMPDIR when the folder cannot be created, and nothing breaks", async () => {
    const dir = join(t.path, "blocked");
    const env = envUnder(dir);
    // A file where the cache folder's parent should be: mkdir fails even for root.
    const file = join(dir, "a-file");
    writeFileSync(file, "not a directory\n");
    await gcheckAndDaemonWork({ ...env, XDG_CACHE_HOME: file });
    assert.equal(existsSync(join(dir, "tmp/node-compile-cache")), HAS_CACHE);
  });

  it("is written once the daemon serves, so a daemon killed with SIGKILL leaves it for the next start", async () => {
    const dir = join(t.path, "killed");
    const env = envUnder(dir);
    const cache = join(dir, "xdg/gossipcheck/node-compile-cache");
    const d = await spawnDaemon(["-name", "kk"], { env });
    let files: string[] = [];
    try {
      // The flush runs just after the daemon starts serving: wait for it (bounded), then kill without a clean exit.
      const deadline = Date.now() + 10_000;
      while (HAS_FLUSH && Date.now() < deadline && (files = cacheFiles(cache)).length === 0) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await d.stop("SIGKILL");
    }
    files = cacheFiles(cache);
    if (HAS_FLUSH) assert.ok(files.length > 0, `a cache file under ${cache} before the kill`);
    else if (!HAS_CACHE) assert.deepEqual(files, []);
  });

  it("works with NODE_DISABLE_COMPILE_CACHE=1 and writes no cache", async () => {
    const dir = join(t.path, "off");
    await gcheckAndDaemonWork(envUnder(dir, { NODE_DISABLE_COMPILE_CACHE: "1" }));
    assert.equal(existsSync(join(dir, "xdg/gossipcheck")), false);
    assert.equal(existsSync(join(dir, "tmp/node-compile-cache")), false);
  });
});

/** Every file under the cache folder (one subfolder per Node version). */
function cacheFiles(cache: string): string[] {
  if (!existsSync(cache)) return [];
  return readdirSync(cache, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}
