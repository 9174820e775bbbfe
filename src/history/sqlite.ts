/*
 * The one place that touches better-sqlite3 as a package: loading its native
 * addon (which must match this Node's ABI) and turning SQLite's error codes
 * into sentences that name the file and say what to do.
 */
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";
import { errorMessage, fail, ok, type Result } from "../base/result.js";

export type Db = BetterSqlite3.Database;
export type Statement = BetterSqlite3.Statement;
type DatabaseConstructor = typeof BetterSqlite3;

const require = createRequire(import.meta.url);
let loaded: Result<DatabaseConstructor> | undefined;

/** How to rebuild the addon for the Node that runs us, without downloading a prebuilt binary. */
export const REBUILD_HINT =
  "rebuild it for this Node: in the gossipcheck install directory run `npm_config_build_from_source=better-sqlite3 npm rebuild better-sqlite3` with this node first on PATH (it needs python3, make, a C++ compiler and this Node's headers: set npm_config_nodedir to a Node install that has include/node)";

/**
 * The package, loaded on first use rather than imported, so that a missing
 * package or an addon built for another Node becomes an error value (the
 * daemon runs without history) instead of a failure to start.
 */
function load(): Result<DatabaseConstructor> {
  if (loaded) return loaded;
  try {
    loaded = ok(require("better-sqlite3") as DatabaseConstructor);
  } catch (e) {
    loaded = fail(`the better-sqlite3 package cannot be loaded (${errorMessage(e)}): reinstall gossipcheck with its dependencies (npm ci)`);
  }
  return loaded;
}

/**
 * Opens (creating) the database file. The native addon itself loads here, on
 * the first `new Database`, so an ABI mismatch surfaces now: it is named as
 * such, with the rebuild to run.
 */
export function openDatabase(file: string, busyTimeoutMs: number): Result<Db> {
  const D = load();
  if (!D.ok) return D;
  try {
    return ok(new D.value(file, { timeout: busyTimeoutMs }));
  } catch (e) {
    if (isAddonLoadError(e)) {
      return fail(`better-sqlite3's native addon cannot be loaded under Node ${process.version} (ABI ${process.versions.modules}): ${firstLine(errorMessage(e))}; ${REBUILD_HINT}`);
    }
    return fail(describeSqliteError(e, file));
  }
}

function isAddonLoadError(e: unknown): boolean {
  const m = errorMessage(e);
  return /NODE_MODULE_VERSION|Could not locate the bindings file|better_sqlite3\.node|invalid ELF header|undefined symbol/.test(m);
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}

/** SQLite's (extended) result code of a thrown value, e.g. "SQLITE_IOERR_WRITE"; undefined when it is not an SQLite error. */
export function sqliteCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}

/** The file is not a database or is damaged: set it aside and start afresh. */
export function isCorruption(e: unknown): boolean {
  const code = sqliteCode(e) ?? "";
  return code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB";
}

/** A failure of one statement, in words: what happened to the file, and what to do. */
export function describeSqliteError(e: unknown, file: string): string {
  const code = sqliteCode(e);
  const msg = errorMessage(e);
  if (!code) return `${file}: ${msg}`;
  if (code === "SQLITE_FULL") return `disk full (${code}) on ${file}: ${msg}: free space on that file system (writes resume by themselves) or lower -history-max-bytes`;
  if (code.startsWith("SQLITE_IOERR")) return `I/O error (${code}) on ${file}: ${msg}: check the disk and the kernel log`;
  if (code.startsWith("SQLITE_READONLY")) return `read-only (${code}): ${file} cannot be written: ${msg}: make the file and its directory writable by this user`;
  if (code.startsWith("SQLITE_CANTOPEN")) return `cannot open ${file} (${code}): ${msg}: make the data dir readable and writable by this user`;
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return `${file} is locked by another process (${code}): run one gossipcheckd per data dir`;
  if (isCorruption(e)) return `${file} is damaged or not a database (${code}): ${msg}: stop gossipcheckd and move the file (with its -wal) aside to begin a new history`;
  return `${file}: ${msg} (${code})`;
}
