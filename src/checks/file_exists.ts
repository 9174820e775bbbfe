import { lstat, readlink, stat } from "node:fs/promises";
import { statSync, type Stats } from "node:fs";
import { fsReason, type Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";
import { judgeFileAttrs } from "./file_attrs.js";

/**
 * file_exists: passes only if the path exists (symbolic links followed, as
 * the original's os.Stat did). "Does not exist" (ENOENT) is a fail; any other
 * error (permission denied on a directory in the path, a component that is
 * not a directory, a symlink loop) is an `error`, because we could not tell:
 * the original reported such paths as existing.
 *
 * `sync`: stat synchronously (only when every mounted file system is local:
 * see local_fs.ts). `attrs`: the attributes it must also have (mode, owner,
 * ...: file_attrs.ts); without them the check is exactly the original's.
 */
export async function evaluateFileExists(path: string, sync = false, attrs: Params = {}): Promise<Evaluation> {
  try {
    const st = sync ? statSync(path) : await stat(path);
    const exists = `${path} exists (${kind(st)})`;
    const j = await judgeFileAttrs(path, st, attrs, sync);
    if (j.error !== undefined) return { status: "error", message: `${exists}, but cannot tell its attributes: ${j.error}` };
    if (j.problems.length > 0) return { status: "fail", message: `${exists}: ${j.problems.join("; ")}` };
    return { status: "pass", message: j.found.length > 0 ? `${exists}: ${j.found.join(", ")}` : exists };
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
