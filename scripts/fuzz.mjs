#!/usr/bin/env node
// The long fuzz run (issue 5, hostile input): every compiled fuzz test file
// (dist/test/**/*fuzz*.test.js) through scripts/run-tests.mjs, with
// FUZZ_RUNS inputs per property (default 100000; each decoder gets at least
// that many random and as many mutated inputs), then a summary: each test
// with its time, totals, and failures first. `npm run fuzz` builds first.
// Usage: node scripts/fuzz.mjs [substring filter...]   (default filter "fuzz";
// FUZZ_RUNS=n to change the count)
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runs = process.env.FUZZ_RUNS ?? "100000";
// run-tests.mjs picks the compiled test files whose path contains a filter.
const filters = process.argv.length > 2 ? process.argv.slice(2) : ["fuzz"];

console.log(`fuzz: FUZZ_RUNS=${runs}, test files matching ${filters.map((f) => JSON.stringify(f)).join(" or ")}\n`);
const started = Date.now();
const child = spawn(process.execPath, [join(root, "scripts/run-tests.mjs"), ...filters], {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...process.env, FUZZ_RUNS: runs },
});
let out = "";
child.stdout.on("data", (b) => {
  process.stdout.write(b);
  out += b.toString();
});
child.on("close", (code) => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  // Spec reporter lines: "✔ name (12.3ms)" for passes, "✖ name (…)" for failures; suites end the same way.
  const results = [];
  for (const line of out.split("\n")) {
    const m = /^(\s*)([✔✖]) (.*) \(([\d.]+)ms\)$/.exec(line);
    if (m) results.push({ depth: m[1].length, ok: m[2] === "✔", name: m[3], ms: Number(m[4]) });
  }
  const count = (label) => Number(new RegExp(`ℹ ${label} (\\d+)`).exec(out)?.[1] ?? 0);
  const failed = results.filter((r) => !r.ok);
  console.log(`\n=== fuzz summary (FUZZ_RUNS=${runs}) ===`);
  for (const r of [...failed, ...results.filter((r) => r.ok)]) {
    console.log(`${r.ok ? "pass" : "FAIL"} ${(r.ms / 1000).toFixed(1).padStart(7)} s  ${"  ".repeat(r.depth / 2)}${r.name}`);
  }
  console.log(`tests: ${count("tests")}, passed: ${count("pass")}, failed: ${count("fail")}, wall time: ${seconds} s`);
  process.exit(code ?? 1);
});
