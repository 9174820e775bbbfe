/*
 * The history store (issue 14): batches, transitions and the audit log of
 * one node, in SQLite in its data dir.
 */
export { defaultHistoryConfig, type HistoryConfig } from "./config.js";
export { HISTORY_FILE_NAME, openHistory, type BatchToRecord, type HistoryCounters, type HistoryQuery, type HistoryStore, type OpenHistoryOptions } from "./store.js";
export { SCHEMA_VERSION } from "./schema.js";
