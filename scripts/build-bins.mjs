#!/usr/bin/env node
// The daemon and gcheck as one module each (issue 18, targets 3 and 4): esbuild
// links the compiled dist/src/daemon/main.js and dist/src/cli/program.js, with
// everything of ours they import, statically or not, into main.bundle.js and
// program.bundle.js beside them, which the executables (src/daemon/bin.ts,
// src/cli/main.ts) import. Loading ~200 ES modules one by one (resolve, read,
// link, evaluate each) was most of a start; one file is one of each. Packages
// stay outside (imported from node_modules as before): pino, protobufjs and
// the native better-sqlite3 load exactly as they did. A lazily imported module
// of ours is still run only when first imported (esbuild keeps it behind a
// function); only its parse is paid at start.
// import.meta.url is the bundle's in a bundle, so a path built from it
// (new URL("..", import.meta.url)) is right in both only in a module one folder
// below dist/src, like the bundles (src/cmdline/package_dir.ts):
// the build fails when any other bundled module builds one. createRequire(import.meta.url)
// finds packages the same from any folder of the package, and is left alone.
// Usage: node scripts/build-bins.mjs   (npm run build runs it after tsc)
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// One build per executable, so each has its own few chunks (its lazy imports), not the many small ones a shared build cuts.
const BUNDLES = [
  { name: "daemon", out: "daemon/main.bundle", entry: "dist/src/daemon/main.js" },
  { name: "gcheck", out: "cli/program.bundle", entry: "dist/src/cli/program.js" },
];

rmSync(join(root, "dist/src/bundle"), { recursive: true, force: true });
const report = [];
for (const b of BUNDLES) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { [b.out]: b.entry },
    outdir: "dist/src",
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    // A module the executable imports lazily goes to a chunk of its own (dist/src/bundle/, one folder below
    // dist/src like the entries), loaded when first imported, as before.
    splitting: true,
    chunkNames: `bundle/${b.name}-[name]-[hash]`,
    // Linked to the TypeScript sources through tsc's maps, for --enable-source-maps; not packed (package.json "files").
    sourcemap: "linked",
    metafile: true,
    logLevel: "warning",
  });
  const misplaced = Object.keys(result.metafile.inputs).filter((f) => !/^dist\/src\/[^/]+\/[^/]+\.js$/.test(f) && /new URL\([^)]*import\.meta\.url/.test(readFileSync(join(root, f), "utf8")));
  if (misplaced.length) {
    console.error(
      `build-bins: new URL(..., import.meta.url) in bundled modules not one folder below dist/src (the path would be wrong in the bundle: build it from src/cmdline/package_dir.ts):\n  ${misplaced.join("\n  ")}`,
    );
    process.exit(1);
  }
  const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith(".js"));
  const entry = outputs.find(([f]) => f === `dist/src/${b.out}.js`);
  const total = outputs.reduce((sum, [, o]) => sum + o.bytes, 0);
  report.push(
    `${b.name}: ${entry[0]} ${(entry[1].bytes / 1024).toFixed(0)} KiB from ${Object.keys(entry[1].inputs).length} modules, ${outputs.length - 1} lazy chunks, ${(total / 1024).toFixed(0)} KiB in all`,
  );
}
console.log(`build-bins: ${report.join("; ")}`);
