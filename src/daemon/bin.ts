#!/usr/bin/env node
/*
 * gossipcheckd's executable (package.json "bin"). `-version` and `-help`
 * answer without loading the daemon (pino, protobufjs, the whole stack: about
 * 150 ms of a cold start); anything else imports main.ts, which is the daemon,
 * as one bundled module (main.bundle.js: scripts/build-bins.mjs says why).
 * main.ts stays the daemon's one wiring file rather than moving behind this
 * one, so changes to it keep their history.
 *
 * -help prints the text post-build.mjs generated from the same commander
 * program (flags.ts) into help.txt. That text is what commander prints to a
 * pipe or file (80 columns); on a terminal commander wraps to its width, so
 * there, and when help.txt is missing, flags.ts prints it itself (commander
 * and flags.ts only: about 35 ms more, which a person does not notice).
 * Only a lone flag takes the short cut: `-help -bind x` and the like go the
 * full way, as before.
 *
 * Before the daemon is imported, V8's compile cache is turned on where Node
 * has it (src/cmdline/compile_cache.ts): the short answers load nothing
 * worth caching, so they skip it.
 */
import { readFileSync } from "node:fs";
import { enableCompileCache } from "../cmdline/compile_cache.js";
import { VERSION } from "../cmdline/version.js";

const argv = process.argv.slice(2);
const only = argv.length === 1 ? argv[0] : undefined;

if (only === "-version" || only === "--version") {
  process.stdout.write(VERSION + "\n");
} else if (only === "-help" || only === "--help" || only === "-h") {
  const help = process.stdout.isTTY ? undefined : prebuiltHelp();
  if (help !== undefined) {
    process.stdout.write(help);
  } else {
    const { parseDaemonFlags } = await import("./flags.js");
    const parsed = parseDaemonFlags(argv);
    if (parsed.kind === "exit") {
      process.stdout.write(parsed.stdout);
      process.stderr.write(parsed.stderr);
      process.exitCode = parsed.code;
    }
  }
} else {
  enableCompileCache();
  await import("./main.bundle.js");
}

function prebuiltHelp(): string | undefined {
  try {
    return readFileSync(new URL("./help.txt", import.meta.url), "utf8");
  } catch {
    return undefined;
  }
}
