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
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// One build per executable, so each has its own few chunks (its lazy imports), not the many small ones a shared build cuts.
const BUNDLES = [
  { name: "daemon", out: "daemon/main.bundle", entry: "dist/src/daemon/main.js" },
  { name: "gcheck", out: "cli/program.bundle", entry: "dist/src/cli/program.js" },
];

// Packages inlined into the bundles, with whatever they import: loading pino, protobufjs and commander file by file
// through the CommonJS loader (about 50 files) was about 25 ms of CPU per start. The rest stay in node_modules:
// better-sqlite3 finds its native addon from its own folder, src/daemon/stats/probes.ts looks for
// systeminformation in require's cache, and the others load only when a feature needs them.
// pino's transports (worker threads, found from __dirname) would not work inlined: gossipcheck uses none
// (src/daemon/logging.ts writes synchronously to fd 1, pino-pretty in-process), and __dirname stays
// undefined in the bundle so that one would fail loudly rather than look in the wrong folder.
const INLINED_PACKAGES = new Set(["pino", "protobufjs", "commander"]);

/** The package a bare specifier names: "pino", "@scope/name", "protobufjs" for "protobufjs/minimal.js". */
const packageOf = (spec) =>
  spec
    .split("/")
    .slice(0, spec.startsWith("@") ? 2 : 1)
    .join("/");

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * An ES module standing in for builtin `name`: its exports are the builtin's own data properties (read once, from
 * the CommonJS exports process.getBuiltinModule gives), and its default export is the builtin. Accessors (a
 * builtin's lazy getters, such as http.WebSocket) are left out, so nothing they load is loaded: importing one by
 * name fails the build. One module per builtin, rather than a CommonJS stand-in that esbuild wraps again at every
 * import (__toESM copies every property at each of about 60 import sites: about 5 ms of a daemon's start).
 */
function builtinStandIn(name) {
  const m = process.getBuiltinModule(name);
  const names = Object.entries(Object.getOwnPropertyDescriptors(m))
    .filter(([k, d]) => "value" in d && IDENTIFIER.test(k) && k !== "default")
    .map(([k]) => k);
  return [
    `const m = process.getBuiltinModule(${JSON.stringify(name)});`,
    "export default m;",
    // Pure, so esbuild drops every export nothing imports: only the names in use are read (reading some others
    // would print a deprecation warning on a newer Node, such as fs.F_OK on Node 24).
    ...names.map((k) => `export const ${k} = /* @__PURE__ */ (() => m.${k})();`),
  ].join("\n");
}

/**
 * What the inlined pino needs of three modules it loads at start but that gossipcheck never uses: pino's transports
 * run in worker threads through thread-stream, and gossipcheck uses none (above), so thread-stream stands in as a
 * class that refuses to be made, saying so; without it, pino asks worker_threads only whether it runs on the main
 * thread, which the bundles always do (pino-pretty runs in-process too); and sonic-boom (pino's synchronous
 * destination) uses assert for one check. Loading worker_threads and assert cost about 50 of Node's internal
 * modules at every start.
 */
const PINO_STAND_INS = {
  "thread-stream": `module.exports = class ThreadStream { constructor() { throw new Error("pino transports (worker threads) are not part of gossipcheck's bundle"); } };`,
  worker_threads: "module.exports = { isMainThread: true };",
  assert: `module.exports = function assert(ok, message) { if (!ok) throw new Error(message); };`,
};
/** The packages whose imports PINO_STAND_INS replaces (pino's own and its destination's). */
const PINO_IMPORTERS = /\/node_modules\/(pino|sonic-boom)\//;

const imports = {
  name: "gossipcheck-imports",
  setup(b) {
    b.onResolve({ filter: /^(thread-stream|worker_threads|assert)$/ }, (args) => (PINO_IMPORTERS.test(args.importer) ? { path: args.path, namespace: "pino-stand-in" } : undefined));
    b.onLoad({ filter: /.*/, namespace: "pino-stand-in" }, (args) => ({ contents: PINO_STAND_INS[args.path], loader: "js" }));
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      // Our own import of a builtin: node:http and node:crypto's ES module facades read every export once, which
      // loads what they only offer lazily (undici for http: src/base/node_http.ts). A stand-in instead
      // (builtinStandIn), which reads only the names imported.
      if (isBuiltin(args.path)) return args.importer.includes("/node_modules/") ? { path: args.path, external: true } : { path: args.path, namespace: "builtin" };
      if (INLINED_PACKAGES.has(packageOf(args.path)) || args.importer.includes("/node_modules/")) return undefined;
      return { path: args.path, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => ({ contents: builtinStandIn(args.path), loader: "js" }));
  },
};

rmSync(join(root, "dist/src/bundle"), { recursive: true, force: true });
const report = [];
// Which inlined packages each output file holds (paths from dist/src), for the tests that check that a command
// loads no heavy package it does not need: inlined, a package is loaded with the file, not from node_modules.
const packagesByFile = {};
for (const b of BUNDLES) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { [b.out]: b.entry },
    outdir: "dist/src",
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    plugins: [imports],
    // A named import of a builtin's export that the builtin stand-in does not have (an accessor, or an export this
    // Node lacks) would be undefined at run time: fail the build instead.
    logOverride: { "import-is-undefined": "error" },
    // The inlined packages are CommonJS: their require() of builtins needs a require in an ES module.
    banner: { js: `import { createRequire as __gossipcheckCreateRequire } from "node:module";\nconst require = __gossipcheckCreateRequire(import.meta.url);` },
    // A module the executable imports lazily goes to a chunk of its own (dist/src/bundle/, one folder below
    // dist/src like the entries), loaded when first imported, as before.
    splitting: true,
    chunkNames: `bundle/${b.name}-[name]-[hash]`,
    // Linked to the TypeScript sources through tsc's maps, for --enable-source-maps; not packed (package.json "files").
    sourcemap: "linked",
    metafile: true,
    logLevel: "warning",
  });
  const misplaced = Object.keys(result.metafile.inputs).filter(
    (f) => f.startsWith("dist/") && !/^dist\/src\/[^/]+\/[^/]+\.js$/.test(f) && /new URL\([^)]*import\.meta\.url/.test(readFileSync(join(root, f), "utf8")),
  );
  if (misplaced.length) {
    console.error(
      `build-bins: new URL(..., import.meta.url) in bundled modules not one folder below dist/src (the path would be wrong in the bundle: build it from src/cmdline/package_dir.ts):\n  ${misplaced.join("\n  ")}`,
    );
    process.exit(1);
  }
  const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith(".js"));
  for (const [f, o] of outputs) {
    const packages = new Set(Object.keys(o.inputs).flatMap((i) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(i)?.[1] ?? []));
    if (packages.size) packagesByFile[f.slice("dist/src/".length)] = [...packages].sort();
  }
  const entry = outputs.find(([f]) => f === `dist/src/${b.out}.js`);
  const total = outputs.reduce((sum, [, o]) => sum + o.bytes, 0);
  report.push(
    `${b.name}: ${entry[0]} ${(entry[1].bytes / 1024).toFixed(0)} KiB from ${Object.keys(entry[1].inputs).length} modules, ${outputs.length - 1} lazy chunks, ${(total / 1024).toFixed(0)} KiB in all`,
  );
}
writeFileSync(join(root, "dist/src/bundle/packages.json"), JSON.stringify(packagesByFile, null, 1) + "\n");
console.log(`build-bins: ${report.join("; ")}`);
