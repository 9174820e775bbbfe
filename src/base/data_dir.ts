import { constants } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { errorMessage, fail, type Result } from "./result.js";

/**
 * Creates the data dir (0700, parents too) and checks that it can be
 * written, naming the directory at fault and the real reason when not. The
 * daemon's preflight and the seen-history both start here, so a data dir
 * that cannot be used is described the same way wherever it is found.
 *
 * Why not mkdir({recursive: true}): when it cannot create a missing
 * directory for a reason other than permissions (a read-only file system,
 * EROFS), Node stats the path and reports that stat's ENOENT instead, so a
 * read-only disk read as "no such file or directory". Creating one level at
 * a time keeps the errno the kernel gave.
 */
export async function prepareDataDir(dir: string): Promise<Result<void>> {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let p = target; (await statCode(p)) === "ENOENT"; p = dirname(p)) {
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing) {
    try {
      await mkdir(p, { mode: 0o700 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") return fail(`cannot create ${p}: ${reason(e)}`);
    }
  }
  try {
    if (!(await stat(target)).isDirectory()) return fail(`${target} is a file, not a directory: choose a directory with -data-dir`);
    await access(target, constants.W_OK | constants.X_OK);
  } catch (e) {
    return fail(`cannot write ${target}: ${reason(e)}`);
  }
  return { ok: true, value: undefined };
}

/**
 * What prepareDataDir would find, changing nothing (gossipcheckd
 * -check-config): the directory can be written, or the nearest existing
 * parent allows creating it. Read-only file systems show up only when a
 * write is tried, so this can pass where prepareDataDir then fails.
 */
export async function inspectDataDir(dir: string): Promise<Result<"exists" | "will be created">> {
  const target = resolve(dir);
  let p = target;
  while ((await statCode(p)) === "ENOENT" && dirname(p) !== p) p = dirname(p);
  try {
    if (!(await stat(p)).isDirectory()) return fail(p === target ? `${target} is a file, not a directory: choose a directory with -data-dir` : `cannot create ${target}: ${p} is a file`);
    await access(p, constants.W_OK | constants.X_OK);
  } catch (e) {
    return fail(p === target ? `cannot write ${target}: ${reason(e)}` : `cannot create ${target} in ${p}: ${reason(e)}`);
  }
  return { ok: true, value: p === target ? "exists" : "will be created" };
}

async function statCode(path: string): Promise<string | undefined> {
  try {
    await stat(path);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? "ERROR";
  }
}

/** The errno in words, and what to do about it. */
function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "EROFS":
      return "read-only file system (EROFS): remount that file system read-write, or choose a directory on a writable file system with -data-dir";
    case "EACCES":
    case "EPERM":
      return `permission denied (${code}): run as a user who may write there, or choose a writable directory with -data-dir`;
    case "ENOTDIR":
      return "a parent is a file, not a directory (ENOTDIR): choose another path with -data-dir";
    case "ENOSPC":
    case "EDQUOT":
      return `no space left (${code}): free some space, or choose another -data-dir`;
    default:
      return `${errorMessage(e)}: choose a writable directory with -data-dir`;
  }
}
