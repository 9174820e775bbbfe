import type { ProcessSnapshot } from "./processes.js";
import type { CheckSpec, CheckStatus, PerfDatum } from "./types.js";

/**
 * What one evaluation of a check says, before any action: the runner turns it
 * into a CheckResult (and into `fixed` when an action made a failing check
 * pass).
 */
export interface Evaluation {
  /** Every status but `fixed`, which only the runner gives (after an action). */
  status: Exclude<CheckStatus, "fixed">;
  /** What was looked for and what was found. */
  message: string;
  /** A nagios check's performance data. */
  perfdata?: PerfDatum[];
}

/** What the checks of one batch share: the process snapshot, taken at most once. */
export interface BatchContext {
  processes(): Promise<ProcessSnapshot>;
  /** File checks may stat synchronously: every mounted file system is local (local_fs.ts). */
  syncFileIo: boolean;
  /**
   * A lookup shared by the checks of this batch: the first call with `key`
   * runs `load`, later ones get its promise (a rejection included). For what
   * costs a file read or a process per check (a /proc/net table, dpkg-query,
   * getent) and cannot change in a way a batch should see: a batch's checks
   * look at one moment, as they share one process snapshot. After an action
   * the runner gives a fresh context, so the state is looked at afresh.
   */
  memo<T>(key: string, load: () => Promise<T>): Promise<T>;
  /** The checks being evaluated with this context, so that a lookup can ask for all of them at once (one getent for every user the batch names). */
  checks: readonly CheckSpec[];
}

/** A per-batch memo for BatchContext.memo. */
export function batchMemo(): BatchContext["memo"] {
  const cache = new Map<string, Promise<unknown>>();
  return <T>(key: string, load: () => Promise<T>): Promise<T> => {
    let p = cache.get(key) as Promise<T> | undefined;
    if (p === undefined) {
      p = load();
      cache.set(key, p);
    }
    return p;
  };
}

/** Quotes text for a message, shortened to `max` characters so a 10 KB needle does not flood a table. */
export function quote(text: string, max = 80): string {
  return text.length <= max ? JSON.stringify(text) : JSON.stringify(text.slice(0, max)) + `… (${text.length} characters)`;
}

/** A person's reason for a file system error code ("permission denied (EACCES)"). */
export function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOTDIR: "a component of the path is not a directory",
    ELOOP: "too many levels of symbolic links",
    ENAMETOOLONG: "the path is too long",
    EISDIR: "it is a directory",
    EIO: "input/output error",
    EMFILE: "too many open files in this process",
    ENFILE: "too many open files on this system",
  };
  const reason = err.code ? reasons[err.code] : undefined;
  if (reason) return `${reason} (${err.code})`;
  return err.code ? `${err.message}` : String(e);
}
