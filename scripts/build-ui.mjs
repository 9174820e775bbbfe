#!/usr/bin/env node
// The web view (issue 16): bundles web/src/main.tsx (Preact, TSX) with
// esbuild into dist/ui/app.js, one minified ES2020 module with a linked
// source map beside it, copies the static files of web/, and writes a gzip
// (level 9) next to each so the daemon can send it precompressed. Runs
// offline: esbuild and preact come from node_modules. Fails when anything
// but web/ and preact got bundled: the page imports the daemon's contract
// (src/control) as types only, and a value import would drag daemon code in.
// Usage: node scripts/build-ui.mjs   (npm run build runs it after tsc)
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "web");
const out = join(root, "dist/ui");
const STATIC = ["index.html", "login.html", "app.css", "favicon.svg"];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: ["web/src/main.tsx"],
  outfile: "dist/ui/app.js",
  tsconfig: "web/tsconfig.json",
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  platform: "browser",
  jsx: "automatic",
  jsxImportSource: "preact",
  sourcemap: "linked",
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});

const strays = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith("web/") && !/(^|\/)node_modules\/preact\//.test(f));
if (strays.length) {
  console.error(`build-ui: bundled files from outside web/ and preact (import them with "import type"):\n  ${strays.join("\n  ")}`);
  process.exit(1);
}

for (const f of STATIC) copyFileSync(join(web, f), join(out, f));

const sizes = [];
for (const f of readdirSync(out)) {
  const raw = readFileSync(join(out, f));
  const gz = gzipSync(raw, { level: 9 });
  writeFileSync(join(out, `${f}.gz`), gz);
  sizes.push(`${f} ${raw.length} B (gzip ${gz.length} B)`);
}
const total = statSync(join(out, "app.js")).size;
console.log(`build-ui: dist/ui: ${sizes.join(", ")}; app.js ${(total / 1024).toFixed(1)} KiB`);
