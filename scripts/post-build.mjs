#!/usr/bin/env node
// tsc does not copy plain .js: put the generated protobuf module next to the
// compiled code, and mark the two CLI entry points executable.
import { chmodSync, copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
mkdirSync(join(root, "dist/src/proto"), { recursive: true });
copyFileSync(join(root, "src/proto/wire.js"), join(root, "dist/src/proto/wire.js"));
for (const bin of ["dist/src/daemon/main.js", "dist/src/cli/main.js"]) {
  const p = join(root, bin);
  if (existsSync(p)) chmodSync(p, 0o755);
}
