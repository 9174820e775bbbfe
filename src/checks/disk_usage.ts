import { statfs } from "node:fs/promises";
import type { CheckTypeDef } from "./check_type.js";
import { fsReason, type Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";
import { atLeastOne, bytes, percent } from "./thresholds.js";

/*
 * `disk_usage`: the file system holding `path`, against thresholds on its
 * space and inodes, from statfs(2). Used space is counted as df counts it:
 * used / (used + available to unprivileged users), so the blocks reserved
 * for root count as neither; `min_free` is the space available to
 * unprivileged users (f_bavail), what a service writing there can use.
 */
const THRESHOLDS = ["max_used_percent", "min_free", "max_inodes_used_percent"] as const;

export const diskUsageCheck: CheckTypeDef = {
  type: "disk_usage",
  subject: "path",
  fields: {
    path: { type: { kind: "string" }, required: true, doc: "a path on the file system to measure" },
    max_used_percent: { type: { kind: "number", min: 0, max: 100 }, doc: "the most space that may be used, in percent (as df shows it)" },
    min_free: { type: { kind: "integer", min: 0, max: Number.MAX_SAFE_INTEGER }, doc: "the least space that must be available to unprivileged users, in bytes" },
    max_inodes_used_percent: { type: { kind: "number", min: 0, max: 100 }, doc: "the most inodes that may be used, in percent" },
  },
  rules: (p, field) => atLeastOne("disk_usage", THRESHOLDS, p, field),
  evaluate: evaluateDiskUsage,
};

async function evaluateDiskUsage(p: Params): Promise<Evaluation> {
  const path = p.path as string;
  let st;
  try {
    st = await statfs(path);
  } catch (e) {
    return { status: "error", message: `cannot measure the file system of ${path}: ${fsReason(e)}` };
  }
  const problems: string[] = [];
  const found: string[] = [];
  const judge = (ok: boolean, text: string) => (ok ? found : problems).push(text);
  const used = st.blocks - st.bfree;
  const usedPercent = used + st.bavail > 0 ? (used / (used + st.bavail)) * 100 : 0;
  const maxUsed = p.max_used_percent as number | undefined;
  if (maxUsed !== undefined) judge(usedPercent <= maxUsed, `${percent(usedPercent)} used (max ${percent(maxUsed)})`);
  const minFree = p.min_free as number | undefined;
  if (minFree !== undefined) {
    const free = st.bavail * st.bsize;
    judge(free >= minFree, `${bytes(free)} free (min ${bytes(minFree)})`);
  }
  const maxInodes = p.max_inodes_used_percent as number | undefined;
  if (maxInodes !== undefined) {
    // Some file systems (btrfs, some FUSE) have no fixed inode table and report 0 inodes.
    if (st.files === 0) return { status: "error", message: `${path}: the file system reports no inode counts, so max_inodes_used_percent cannot be judged` };
    const inodes = ((st.files - st.ffree) / st.files) * 100;
    judge(inodes <= maxInodes, `${percent(inodes)} of inodes used (max ${percent(maxInodes)})`);
  }
  if (problems.length > 0) return { status: "fail", message: `${path}: ${problems.join("; ")}${found.length > 0 ? `; ${found.join(", ")}` : ""}` };
  return { status: "pass", message: `${path}: ${found.join(", ")}` };
}
