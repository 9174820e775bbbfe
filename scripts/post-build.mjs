#!/usr/bin/env node
// tsc does not copy plain .js: put the generated protobuf module next to the
// compiled code, mark the CLI entry points executable, and write
// gossipcheckd's -help text where src/daemon/bin.ts prints it from without
// loading commander.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
mkdirSync(join(root, "dist/src/proto"), { recursive: true });
copyFileSync(join(root, "src/proto/wire.js"), join(root, "dist/src/proto/wire.js"));
for (const bin of ["dist/src/daemon/bin.js", "dist/src/daemon/main.js", "dist/src/cli/main.js", "dist/src/cli/gcheck.cjs"]) {
  const p = join(root, bin);
  if (existsSync(p)) chmodSync(p, 0o755);
}

// The help exactly as commander prints it to a pipe (80 columns, no colour):
// a child process with its stdout piped, since ours may be a terminal.
const flags = pathToFileURL(join(root, "dist/src/daemon/flags.js")).href;
const help = execFileSync(
  process.execPath,
  ["--input-type=module", "-e", `const { parseDaemonFlags } = await import(${JSON.stringify(flags)}); process.stdout.write(parseDaemonFlags(["-help"]).stdout);`],
  {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  },
);
if (!help.startsWith("Usage: gossipcheckd")) throw new Error(`post-build: gossipcheckd -help printed ${JSON.stringify(help.slice(0, 80))}, not its usage`);
writeFileSync(join(root, "dist/src/daemon/help.txt"), help);
