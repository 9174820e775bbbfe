#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node:test.
// `node --test` would take every .js under test/ as a test, so the list is
// explicit. The run fails when no test ran at all.
// Usage: node scripts/run-tests.mjs [--unit | --e2e] [--exclude=SUBSTRING...] [substring filter...]
//   --unit  units and in-process simulations (everything but test/e2e/)
//   --e2e   tests that start real gossipcheckd and gcheck processes (test/e2e/)
// A file runs when its path (relative to the repository) contains one of the
// filters (every file without filters) and none of the --exclude substrings;
// .ci/run uses --exclude to run the stress test on one Node version only.
// The daemons and gcheck processes the tests start keep V8's compile cache
// under $XDG_CACHE_HOME (src/cmdline/compile_cache.ts): the run points it at a
// folder of its own, removed at the end, so tests never add to the user's
// ~/.cache (each clone's or package install's paths are new cache entries:
// 60-70 MB per Node version on a machine that ran CI for a few days).
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = join(root, "dist/test");
const args = process.argv.slice(2);
const suite = args.includes("--e2e") ? "e2e" : args.includes("--unit") ? "unit" : "all";
const excludes = args.filter((a) => a.startsWith("--exclude=")).map((a) => a.slice("--exclude=".length));
const filters = args.filter((a) => a !== "--e2e" && a !== "--unit" && !a.startsWith("--exclude="));
const e2eDir = join(dir, "e2e") + "/";

function walk(d) {
  const out = [];
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

let files = [];
try {
  files = walk(dir).sort();
} catch {
  /* no dist/test: zero tests */
}
if (suite === "e2e") files = files.filter((f) => f.startsWith(e2eDir));
if (suite === "unit") files = files.filter((f) => !f.startsWith(e2eDir));
if (filters.length) files = files.filter((f) => filters.some((s) => relative(root, f).includes(s)));
if (excludes.length) files = files.filter((f) => !excludes.some((s) => relative(root, f).includes(s)));
if (files.length === 0) {
  console.error("run-tests: no test files found under dist/test (did the build run?)");
  process.exit(1);
}

const cacheHome = mkdtempSync(join(tmpdir(), "gossipcheck-test-cache-"));
const dropCache = () => rmSync(cacheHome, { recursive: true, force: true });
process.on("exit", dropCache);
// Ctrl-C reaches node --test too (same process group); wait for it to close, then exit (and drop the cache).
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));

const testArgs = ["--test", "--test-reporter=spec", "--test-concurrency=2", ...files];
const child = spawn(process.execPath, testArgs, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, XDG_CACHE_HOME: cacheHome } });
// The summary ("ℹ tests N") is followed by the details of failing tests,
// which can be long: remember the last summary seen anywhere in the output.
let pending = "";
let ran = 0;
child.stdout.on("data", (b) => {
  process.stdout.write(b);
  const lines = (pending + b.toString()).split("\n");
  pending = lines.pop() ?? "";
  for (const line of lines) {
    const m = /^ℹ tests (\d+)/.exec(line);
    if (m) ran = Number(m[1]);
  }
});
child.on("close", (code) => {
  const m = /^ℹ tests (\d+)/.exec(pending);
  if (m) ran = Number(m[1]);
  if (ran === 0) {
    console.error("run-tests: zero tests ran; failing the run");
    process.exit(1);
  }
  process.exit(code ?? 1);
});
