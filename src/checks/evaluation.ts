import type { ProcessSnapshot } from "./processes.js";
import type { CheckStatus, PerfDatum } from "./types.js";

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
