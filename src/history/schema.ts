/*
 * The history database's schema and its version (PRAGMA user_version). A
 * new version appends a migration to MIGRATIONS; a file written by a newer
 * gossipcheckd (a higher user_version) is refused with a clear error rather
 * than misread or downgraded.
 */
import { fail, ok, type Result } from "../base/result.js";
import type { Db } from "./sqlite.js";

/**
 * Version 1. Batches are numbered by insertion (seq), which is also their
 * age order, so that retention deletes ranges of the primary key. A result
 * row repeats its batch's finished_ms so that "this check since T" is one
 * range scan of results_by_check; results_not_pass is a partial index (the
 * passing majority is left out of it) for "-status fail" over a long window.
 * Each result is kept whole as JSON (result), with the columns queries
 * filter on beside it.
 */
const V1 = `
CREATE TABLE batches (
  seq INTEGER PRIMARY KEY,
  batch_id TEXT NOT NULL,
  origin TEXT NOT NULL,
  submitter TEXT NOT NULL,
  signer TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL,
  dry_run INTEGER NOT NULL,
  schedule TEXT NOT NULL,
  checks TEXT NOT NULL,
  counts TEXT NOT NULL
);
CREATE UNIQUE INDEX batches_by_id ON batches(batch_id);
CREATE INDEX batches_by_time ON batches(finished_ms);
CREATE TABLE results (
  batch_seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  check_name TEXT NOT NULL,
  status TEXT NOT NULL,
  finished_ms INTEGER NOT NULL,
  result TEXT NOT NULL,
  PRIMARY KEY (batch_seq, idx)
) WITHOUT ROWID;
CREATE INDEX results_by_check ON results(check_name, finished_ms);
CREATE INDEX results_not_pass ON results(status, finished_ms) WHERE status <> 'pass';
CREATE TABLE transitions (
  seq INTEGER PRIMARY KEY,
  node TEXT NOT NULL,
  schedule TEXT NOT NULL,
  check_name TEXT NOT NULL,
  from_status TEXT NOT NULL,
  to_status TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX transitions_by_time ON transitions(at_ms);
CREATE INDEX transitions_by_check ON transitions(check_name, at_ms);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  summary TEXT NOT NULL,
  subject TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit(at_ms);
`;

/** MIGRATIONS[i] takes a database from version i to i + 1. */
const MIGRATIONS: string[] = [V1];
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION in one transaction (a crash midway leaves the old version). */
export function migrate(db: Db, file: string): Result<void> {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    return fail(
      `${file} has history schema version ${version}, newer than this gossipcheckd knows (${SCHEMA_VERSION}): run the newer gossipcheckd again, or move the file aside to start an empty history`,
    );
  }
  if (version === SCHEMA_VERSION) return ok(undefined);
  db.transaction(() => {
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
  return ok(undefined);
}
