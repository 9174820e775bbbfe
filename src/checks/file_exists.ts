import { lstat, readlink, stat } from "node:fs/promises";
import { statSync, type Stats } from "node:fs";
import { fsReason, type Evaluation } from "./evaluation.js";

/**
 * file_exists: passes only if the path exists (symbolic links followed, as
 * the original's os.Stat did). "Does not exist" (ENOENT) is a fail; any other
 * error (permission denied on a directory in the path, a component that is
 * not a directory, a symlink loop) is an `error`, because we could not tell:
 * the original reported such paths as existing.
 *
 * `sync`: stat synchronously (only when every mounted file system is local:
 * see local_fs.ts).
 */
export async function evaluateFileExists(path: string, sync = false): Promise<Evaluation> {
  try {
    const st = sync ? statSync(path) : await stat(path);
    return { status: "pass", message: `${path} exists (${kind(st)})` };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
      return { status: "error", message: `cannot tell whether ${path} exists: ${fsReason(e)}` };
    }
  }
  return { status: "fail", message: `${path} does not exist${await danglingLink(path)}` };
}

/** " (a symbolic link to X, which does not exist)" when that is why stat said ENOENT. */
async function danglingLink(path: string): Promise<string> {
  try {
    if ((await lstat(path)).isSymbolicLink()) return ` (it is a symbolic link to ${await readlink(path)}, which does not exist)`;
  } catch {
    // Nothing more to say than "does not exist".
  }
  return "";
}

export function kind(st: Stats): string {
  if (st.isFile()) return `regular file, ${st.size} bytes`;
  if (st.isDirectory()) return "directory";
  if (st.isSymbolicLink()) return "symbolic link";
  if (st.isFIFO()) return "named pipe";
  if (st.isSocket()) return "socket";
  if (st.isCharacterDevice()) return "character device";
  if (st.isBlockDevice()) return "block device";
  return "special file";
}
