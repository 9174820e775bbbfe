// The checks engine's public API: parse check files, run batches. It knows
// nothing of the network; the daemon and gcheck import from here.
export * from "./types.js";
export { parseCheckFile, parseCheckObject, parseCheckBytes, parseCheckInput, loadCheckFile, type ParseResult } from "./parse.js";
export { CHECK_FIELDS, isToolKey } from "./validate.js";
export { parseDuration, DURATION_PATTERN } from "./duration.js";
export { runBatch, runLocalCheck, DEFAULT_CONCURRENCY, type RunOptions } from "./runner.js";
export { DEFAULT_ACTION_TIMEOUT_MS, ACTION_OUTPUT_LIMIT_BYTES } from "./action.js";
export { actionContainment, type Containment } from "./cgroup.js";
export { LEFTOVER_TERM_GRACE_MS } from "./leftovers.js";
export { processSnapshotsTaken } from "./processes.js";
// The wire codec (encodeCheckBatch, decodeCheckBatch, toWireReport,
// fromWireReport) lives in ./codec.js, imported directly: it loads protobufjs.
