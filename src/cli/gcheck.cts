#!/usr/bin/env node
/**
 * gcheck's executable (package.json "bin"). A CommonJS file, so that
 * `gcheck --version` answers without starting Node's ES module loader: on
 * Node 20 that loader alone cost about 10 ms of CPU (perf stat, 30 runs:
 * 14.3 ms over `node -e 0` through the ES module entry, 4.7 ms here; Node 24
 * 5.9 and 3.8). Everything else imports main.js, the program's ES module
 * entry, which reads the same arguments.
 */
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-version")) {
  let version = "0.0.0-unknown";
  try {
    // dist/src/cli -> the package's own package.json (npm always ships it).
    const v = (require("../../../package.json") as { version?: unknown }).version;
    if (typeof v === "string") version = v;
  } catch {
    // an unreadable package.json: the same answer as src/cmdline/version.ts gives
  }
  process.stdout.write(version + "\n");
} else {
  void import("./main.js");
}
