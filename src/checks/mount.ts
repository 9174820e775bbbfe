import { readFile, realpath } from "node:fs/promises";
import { normalize } from "node:path";
import type { CheckTypeDef } from "./check_type.js";
import { fsReason, quote, type BatchContext, type Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";

/*
 * `mount`: something is mounted at `path`, read from /proc/self/mountinfo
 * (the mount namespace this daemon runs in). Where several mounts are stacked
 * on one point, the last listed, the one on top, is the one judged.
 * `filesystem` is the type ("ext4", "tmpfs", "nfs4"); each of `opts` must be
 * among the mount's options, per-mount ("ro", "noexec", "nosuid") or the
 * super block's ("size=...", "errors=remount-ro"), written exactly as the
 * kernel shows them. `exists: false`: nothing may be mounted there.
 *
 * A path given through a symbolic link (/var/run -> /run) is followed when
 * the path itself is not a mount point, and the message says so.
 */

export const mountCheck: CheckTypeDef = {
  type: "mount",
  subject: "path",
  fields: {
    path: { type: { kind: "string" }, required: true, doc: 'the mount point, an absolute path ("/var/lib/docker")' },
    exists: { type: { kind: "boolean" }, doc: "true (default): something is mounted there; false: nothing is" },
    filesystem: { type: { kind: "string" }, doc: 'the file system type it must have ("ext4", "tmpfs", "nfs4")' },
    opts: { type: { kind: "strings" }, doc: 'mount options it must have, each as the kernel shows it ("ro", "noexec", "size=64k")' },
  },
  rules(p, field) {
    const errors: string[] = [];
    if (!(p.path as string).startsWith("/")) errors.push(`${field("path")}: expected an absolute path such as "/var/lib/docker", got ${JSON.stringify(p.path)}`);
    if (p.exists === false) for (const f of ["filesystem", "opts"]) if (p[f] !== undefined) errors.push(`${field(f)}: cannot be asked of a mount that must not exist ("exists": false): remove one`);
    return errors;
  },
  evaluate: (p, ctx) => evaluateMount(p, "/proc/self/mountinfo", ctx.memo),
};

export interface Mount {
  point: string;
  fstype: string;
  source: string;
  options: string[];
}

async function evaluateMount(p: Params, mountinfo = "/proc/self/mountinfo", memo: BatchContext["memo"] = (_k, load) => load()): Promise<Evaluation> {
  const given = p.path as string;
  const label = `mount ${given}`;
  let mounts: Mount[];
  try {
    mounts = await memo(`mount:${mountinfo}`, async () => parseMountinfo(await readFile(mountinfo, "utf8")));
  } catch (e) {
    return { status: "error", message: `${label}: cannot read ${mountinfo}: ${fsReason(e)}` };
  }
  const point = given === "/" ? "/" : normalize(given).replace(/\/+$/, "");
  let m = mounts.findLast((x) => x.point === point);
  let via = "";
  if (m === undefined) {
    const real = await realpath(point).catch(() => point);
    if (real !== point) {
      m = mounts.findLast((x) => x.point === real);
      via = ` (via ${real})`;
    }
  }
  const wantExists = (p.exists as boolean | undefined) ?? true;
  if (m === undefined) {
    const msg = `${label}: not a mount point${via}`;
    return wantExists ? { status: "fail", message: msg } : { status: "pass", message: msg };
  }
  const found = `${m.fstype} from ${m.source}${via}, options ${m.options.join(",")}`;
  if (!wantExists) return { status: "fail", message: `${label}: mounted (${found}), expected nothing mounted` };
  const problems: string[] = [];
  const fs = p.filesystem as string | undefined;
  if (fs !== undefined && fs !== m.fstype) problems.push(`file system ${m.fstype}, expected ${fs}`);
  const missing = ((p.opts as string[] | undefined) ?? []).filter((o) => !m.options.includes(o));
  if (missing.length > 0) problems.push(`lacks option${missing.length > 1 ? "s" : ""} ${missing.map((o) => quote(o)).join(", ")}`);
  if (problems.length === 0) return { status: "pass", message: `${label}: ${found}` };
  return { status: "fail", message: `${label}: ${problems.join("; ")} (${found})` };
}

/**
 * /proc/self/mountinfo, one mount a line (proc(5)): ID PARENT MAJ:MIN ROOT
 * POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS. Spaces, tabs,
 * newlines and backslashes in paths are octal escapes ("\040").
 */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    const dash = f.indexOf("-", 6);
    if (f.length < 10 || dash < 0) continue;
    const options = [...f[5]!.split(","), ...(f[dash + 3] ?? "").split(",")].filter((o) => o !== "");
    out.push({ point: unescape(f[4]!), fstype: f[dash + 1]!, source: unescape(f[dash + 2]!), options: [...new Set(options)] });
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
