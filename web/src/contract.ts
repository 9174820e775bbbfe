/*
 * The daemon's contract, as the page sees it: types only, imported from
 * src/control so the page and the daemon share one definition of every
 * stream and body. `import type` erases them: nothing of the daemon is
 * bundled (scripts/build-ui.mjs fails the build if anything outside web/ and
 * preact is).
 */
export type { BatchEvent, BatchRequestBody, DaemonInfo, ErrorBody, MemberView, NodeRef, NodeStats } from "../../src/control/api_types.js";
export type { BatchListItem, BatchStreamEvent, BatchesStreamEvent, ChecksStreamEvent, MemberStreamEvent, StatsStreamEvent } from "../../src/control/stream_types.js";
export type { CheckState } from "../../src/control/watch_types.js";
export type { ActionOutcome, CheckResult, CheckStatus } from "../../src/checks/types.js";
export type { MemberStatus } from "../../src/swim/types.js";
