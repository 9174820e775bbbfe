import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { errorMessage } from "../base/result.js";
import { parseCheckInput } from "../checks/index.js";
import type { ScheduleSet } from "./scheduler.js";

/*
 * Local schedules: the check files of a -checks-dir directory. Every *.json,
 * *.yaml and *.yml file in it (not in subdirectories; dotfiles are skipped,
 * so an editor's swap file is not read) is one schedule named
 * "local:FILE" (the name without its extension), in the order of the sorted
 * file names. A file is loaded whole or not at all: a bad one is reported,
 * naming it, and the others still load.
 */

/** The most checks all files of a -checks-dir may hold together. */
export const MAX_CHECKS_DIR_CHECKS = 10_000;
/** The largest check file read from a -checks-dir (bytes). */
export const MAX_CHECKS_DIR_FILE_BYTES = 16 * 1024 * 1024;

const CHECK_FILE = /\.(json|ya?ml)$/i;

export interface ChecksDir {
  sets: ScheduleSet[];
  /** One line per problem, each naming the directory or the file (and check). */
  errors: string[];
}

export async function loadChecksDir(dir: string): Promise<ChecksDir> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith(".") && CHECK_FILE.test(n)).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such directory: create it or fix -checks-dir"
        : code === "ENOTDIR"
          ? "not a directory: -checks-dir names a directory of check files"
          : code === "EACCES" || code === "EPERM"
            ? "permission denied: make it readable by the daemon's user"
            : `cannot read the directory: ${errorMessage(e)}`;
    return { sets: [], errors: [`${dir}: ${why}`] };
  }
  const sets: ScheduleSet[] = [];
  const errors: string[] = [];
  const fromFile = new Map<string, string>();
  let total = 0;
  for (const name of names) {
    const path = join(dir, name);
    const schedule = `local:${name.replace(CHECK_FILE, "")}`;
    const loaded = await loadFile(path);
    if (typeof loaded === "string") {
      if (loaded !== "") errors.push(loaded);
      continue;
    }
    if (!loaded.ok) {
      errors.push(...loaded.errors);
      continue;
    }
    const unscheduled = loaded.checks.filter((c) => c.intervalMs === undefined);
    if (unscheduled.length > 0) {
      for (const c of unscheduled) errors.push(`${path}: check ${JSON.stringify(c.name)}: a check in -checks-dir needs an interval (add e.g. "interval": "1m"); this file is not loaded`);
      continue;
    }
    const first = fromFile.get(schedule);
    if (first !== undefined) {
      errors.push(`${path}: the schedule ${JSON.stringify(schedule)} comes from ${first} already: rename one of the two files; this one is not loaded`);
      continue;
    }
    if (total + loaded.checks.length > MAX_CHECKS_DIR_CHECKS) {
      errors.push(
        `${path}: its ${loaded.checks.length} checks would take -checks-dir past ${MAX_CHECKS_DIR_CHECKS} checks in all: this file is not loaded (split the work across nodes or lengthen intervals)`,
      );
      continue;
    }
    total += loaded.checks.length;
    fromFile.set(schedule, name);
    sets.push({ name: schedule, source: "local", checks: loaded.checks });
  }
  return { sets, errors };
}

/** A check file's parse, or why it was not read ("" for what is not a file, such as a directory named x.json). */
async function loadFile(path: string): Promise<Awaited<ReturnType<typeof parseCheckInput>> | string> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return st.isDirectory() ? "" : `${path}: not a regular file: a -checks-dir holds check files`;
    if (st.size > MAX_CHECKS_DIR_FILE_BYTES) return `${path}: ${st.size} bytes, over the ${MAX_CHECKS_DIR_FILE_BYTES}-byte limit of a check file: split it`;
    const bytes = await readFile(path);
    if (bytes.length > MAX_CHECKS_DIR_FILE_BYTES) return `${path}: over the ${MAX_CHECKS_DIR_FILE_BYTES}-byte limit of a check file: split it`;
    return await parseCheckInput(bytes, path, { yaml: /\.ya?ml$/i.test(path), baseDir: dirname(path) });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return ""; // removed since the listing
    if (code === "EACCES" || code === "EPERM") return `${path}: permission denied: make it readable by the daemon's user`;
    return `${path}: cannot read the check file: ${errorMessage(e)}`;
  }
}
