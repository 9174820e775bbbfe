#!/usr/bin/env node
/**
 * gcheck: the operator's command line (program.ts). `gcheck --version`
 * answers before commander is even loaded (about 40 ms of a cold start).
 * Anything else turns on V8's compile cache where Node has it
 * (src/cmdline/compile_cache.ts) before importing the rest, as one bundled
 * module (program.bundle.js: scripts/build-bins.mjs says why).
 */
import { enableCompileCache } from "../cmdline/compile_cache.js";
import { VERSION } from "../cmdline/version.js";

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-version")) {
  process.stdout.write(VERSION + "\n");
} else {
  enableCompileCache();
  const { main } = await import("./program.bundle.js");
  const code = await main(argv);
  // Once what was written to stdout and stderr is out (a write's callback runs after every earlier write),
  // exit at once: waiting for the event loop to empty and Node to tear the heap down cost 10 to 50 ms of
  // wall time per run here (docs/BENCHMARKS.md, "Start-up and the CLI"), and a handle left open by mistake
  // cannot keep gcheck from exiting.
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise((flushed) => s.write("", flushed))));
  process.exit(code);
}
