#!/usr/bin/env node
// Generates the static protobuf code (src/proto/wire.js + wire.d.ts) from the
// one .proto with protobufjs-cli's pbjs/pbts. Skips the work when the output is
// newer than the schema. The generated files are build output (gitignored).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
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

execFileSync(process.execPath, [pbjs, "-t", "static-module", "-w", "es6", "--no-verify", "--force-number", "--no-delimited", "--no-service", "-o", outJs, proto], { stdio: "inherit" });
// protobufjs/minimal is CommonJS without an exports map: under Node's ESM
// resolution it needs the .js extension and a default import.
let js = readFileSync(outJs, "utf8");
js = js.replace(/import \* as \$protobuf from "protobufjs\/minimal";/, 'import $protobuf from "protobufjs/minimal.js";');
writeFileSync(outJs, js);
execFileSync(process.execPath, [pbts, "-o", outDts, outJs], { stdio: "inherit" });
let dts = readFileSync(outDts, "utf8");
// No int64 fields, so Long is never used; its CommonJS-style import does not
// compile as an ES module.
dts = dts.replace(/^import Long = require\("long"\);$/m, "");
writeFileSync(outDts, dts);
