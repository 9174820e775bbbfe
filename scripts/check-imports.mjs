#!/usr/bin/env node
// The import rules of docs/ARCHITECTURE.md, checked on src/: no import
// cycles between files, and every import points down the layers (or stays in
// its own folder). Type-only imports count too: they are dependencies of
// the design even when they vanish from the JavaScript.
// Usage: node scripts/check-imports.mjs   (exit 1 naming each violation)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");

/** Layer of each folder: an import may only go to a lower number, or within one folder. */
const LAYERS = {
  base: 0,
  proto: 0,
  net: 1,
  checks: 1,
  swim: 2,
  cmdline: 2,
  gossip: 3,
  control: 3,
  stack: 4,
  // The always-on units (issue 14): each stands on checks, control and base; the daemon wires them.
  history: 4,
  schedule: 4,
  triggers: 4,
  quorum: 4,
  "daemon/stats": 5,
  "daemon/api": 6,
  "daemon/cluster": 7,
  // NodNod's protocol: stands on the control API's pieces (backend interface, listen, metrics, token).
  "daemon/nodnod": 7,
  daemon: 8,
  // gcheck is one layer: its subfolders (commands, output) are files of it.
  cli: 8,
  // gossipcheck/client (issue 17): the library applications import; control and base only, like gcheck.
  client: 8,
};

function walk(d) {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

function layerOf(file) {
  const dir = relative(src, dirname(file)).split("/");
  for (let i = dir.length; i > 0; i--) {
    const key = dir.slice(0, i).join("/");
    if (key in LAYERS) return key;
  }
  return null;
}

const files = walk(src);
const edges = new Map();
const problems = [];
const spec = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"|import\(\s*"(\.[^"]+)"\s*\)/g;
for (const f of files) {
  const text = readFileSync(f, "utf8");
  const targets = [];
  for (const m of text.matchAll(spec)) {
    const s = m[1] ?? m[2];
    const t = resolve(dirname(f), s).replace(/\.js$/, ".ts");
    targets.push(t);
    const from = layerOf(f);
    const to = layerOf(t);
    if (from === null) problems.push(`${relative(root, f)}: folder has no layer in scripts/check-imports.mjs`);
    else if (from !== to && !(LAYERS[to] < LAYERS[from]))
      problems.push(`${relative(root, f)} imports ${relative(root, t)}: ${from} (layer ${LAYERS[from]}) may not import ${to} (layer ${LAYERS[to]})`);
  }
  edges.set(f, targets);
}

// Cycles: depth-first search over files.
const state = new Map();
const stack = [];
function visit(f) {
  state.set(f, 1);
  stack.push(f);
  for (const t of edges.get(f) ?? []) {
    if (state.get(t) === 1) problems.push(`import cycle: ${[...stack.slice(stack.indexOf(t)), t].map((x) => relative(root, x)).join(" -> ")}`);
    else if (!state.has(t) && edges.has(t)) visit(t);
  }
  stack.pop();
  state.set(f, 2);
}
for (const f of files) if (!state.has(f)) visit(f);

if (problems.length) {
  for (const p of problems) console.error(p);
  console.error(`check-imports: ${problems.length} problem(s) in ${files.length} files`);
  process.exit(1);
}
console.log(`check-imports: ${files.length} files, 0 cycles, 0 upward imports`);
