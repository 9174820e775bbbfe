#!/usr/bin/env node
// Generates the static protobuf code (src/proto/wire.js + wire.d.ts) from the
// one .proto with protobufjs-cli's pbjs/pbts. Skips the work when the output is
// newer than the schema. The generated files are build output (gitignored).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const proto = join(root, "src/proto/gossipcheck.proto");
const outJs = join(root, "src/proto/wire.js");
const outDts = join(root, "src/proto/wire.d.ts");
const self = fileURLToPath(import.meta.url);

const newest = Math.max(statSync(proto).mtimeMs, statSync(self).mtimeMs);
if (existsSync(outJs) && existsSync(outDts) && statSync(outJs).mtimeMs > newest && statSync(outDts).mtimeMs > newest) {
  process.exit(0);
}

const require = createRequire(import.meta.url);
const cliDir = dirname(require.resolve("protobufjs-cli/package.json"));
const pbjs = join(cliDir, "bin/pbjs");
const pbts = join(cliDir, "bin/pbts");

// Two passes of pbjs: pbts reads the types from the JSDoc comments, so the
// .d.ts comes from a commented copy, and the wire.js that is loaded has no
// comments. A daemon keeps every loaded script's source in its heap (V8 needs
// it to compile functions lazily): the comments were 245 KB of the 700 KB
// file, 0.24 MiB of every daemon's heap (issue 18, docs/BENCHMARKS.md).
// Both passes take the same options, so the code is the same but for comments.
const PBJS_OPTIONS = ["-t", "static-module", "-w", "es6", "--no-verify", "--force-number", "--no-delimited", "--no-service"];
// protobufjs/minimal is CommonJS without an exports map: under Node's ESM
// resolution it needs the .js extension and a default import.
const fixImport = (file) => writeFileSync(file, readFileSync(file, "utf8").replace(/import \* as \$protobuf from "protobufjs\/minimal";/, 'import $protobuf from "protobufjs/minimal.js";'));
const commentedJs = outJs.replace(/\.js$/, ".commented.js");
execFileSync(process.execPath, [pbjs, ...PBJS_OPTIONS, "-o", commentedJs, proto], { stdio: "inherit" });
fixImport(commentedJs);
execFileSync(process.execPath, [pbts, "-o", outDts, commentedJs], { stdio: "inherit" });
rmSync(commentedJs);
execFileSync(process.execPath, [pbjs, ...PBJS_OPTIONS, "--no-comments", "-o", outJs, proto], { stdio: "inherit" });
fixImport(outJs);
let dts = readFileSync(outDts, "utf8");
// No int64 fields, so Long is never used; its CommonJS-style import does not
// compile as an ES module.
dts = dts.replace(/^import Long = require\("long"\);$/m, "");
writeFileSync(outDts, dts);
