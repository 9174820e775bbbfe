import { createHash } from "node:crypto";
import { createReadStream, lstatSync, type Stats } from "node:fs";
import { lstat, readFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { fsReason } from "./evaluation.js";
import type { FieldSpec, Params } from "./fields.js";

/*
 * The attributes a file check may expect, shared by file_exists (an
 * original type, which gains them as optional fields) and the Goss-style
 * `file` type: declared once, validated once, judged once.
 *
 * The path is followed through symbolic links, as file_exists's os.Stat did:
 * mode, owner, group, size, sha256 and max_age are the target's. Only
 * `filetype` looks at the path itself (lstat), so "symlink" can be expected.
 */

export const FILETYPES = ["file", "directory", "symlink", "character-device", "block-device", "pipe", "socket"] as const;

export const FILE_ATTR_FIELDS: Readonly<Record<string, FieldSpec>> = {
  mode: { type: { kind: "string" }, doc: 'the permission bits as an octal string, such as "0644" or "4755"' },
  owner: { type: { kind: "name_or_id" }, doc: "the owning user: a name from /etc/passwd or a numeric uid" },
  group: { type: { kind: "name_or_id" }, doc: "the owning group: a name from /etc/group or a numeric gid" },
  filetype: { type: { kind: "string" }, doc: `what the path itself is: ${FILETYPES.join(", ")}` },
  size: { type: { kind: "integer", min: 0, max: Number.MAX_SAFE_INTEGER }, doc: "the size in bytes" },
  sha256: { type: { kind: "string" }, doc: "the SHA-256 of the content, 64 hex digits" },
  max_age: { type: { kind: "duration" }, doc: 'how old the last modification may be, such as "10m" or "1h"' },
};

export const FILE_ATTR_NAMES = Object.keys(FILE_ATTR_FIELDS);

/** Rules beyond each field's kind: the mode, filetype and digest forms. */
export function fileAttrRules(p: Params, field: (f: string) => string): string[] {
  const errors: string[] = [];
  const mode = p.mode as string | undefined;
  if (mode !== undefined && !/^[0-7]{3,4}$/.test(mode)) errors.push(`${field("mode")}: expected 3 or 4 octal digits such as "0644", got ${JSON.stringify(mode)}`);
  const ft = p.filetype as string | undefined;
  if (ft !== undefined && !(FILETYPES as readonly string[]).includes(ft)) errors.push(`${field("filetype")}: expected one of ${FILETYPES.join(", ")}, got ${JSON.stringify(ft)}`);
  const sha = p.sha256 as string | undefined;
  if (sha !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha)) errors.push(`${field("sha256")}: expected 64 hexadecimal digits, got ${JSON.stringify(sha)}`);
  return errors;
}

export function hasFileAttrs(p: Params): boolean {
  return FILE_ATTR_NAMES.some((f) => p[f] !== undefined);
}

/** What the attributes show: what differs from the expected (`problems`), what matched (`found`), or why we could not tell (`error`). */
export interface AttrJudgement {
  problems: string[];
  found: string[];
  error?: string;
}

/** Judges `p`'s attributes of `path`, whose (followed) stat is `st`. */
export async function judgeFileAttrs(path: string, st: Stats, p: Params, sync = false): Promise<AttrJudgement> {
  const j: AttrJudgement = { problems: [], found: [] };
  const see = (ok: boolean, found: string, expected: string) => (ok ? j.found.push(found) : j.problems.push(`${found}, expected ${expected}`));
  try {
    const ft = p.filetype as string | undefined;
    if (ft !== undefined) {
      const own = sync ? lstatSync(path) : await lstat(path);
      const is = filetypeOf(own);
      see(is === ft, `filetype ${is}`, ft);
    }
    const mode = p.mode as string | undefined;
    if (mode !== undefined) {
      const bits = st.mode & 0o7777;
      see(bits === parseInt(mode, 8), `mode ${bits.toString(8).padStart(4, "0")}`, mode.padStart(4, "0"));
    }
    for (const [f, id, db] of [
      ["owner", st.uid, "/etc/passwd"],
      ["group", st.gid, "/etc/group"],
    ] as const) {
      const want = p[f] as string | undefined;
      if (want === undefined) continue;
      const names = await idNames(db);
      const name = names.get(id);
      const shown = `${f} ${name ?? "(no name)"} (${f === "owner" ? "uid" : "gid"} ${id})`;
      if (/^\d+$/.test(want)) {
        see(id === Number(want), shown, `${f === "owner" ? "uid" : "gid"} ${want}`);
        continue;
      }
      const wantId = [...names].find(([, n]) => n === want)?.[0];
      if (wantId === undefined) return { ...j, error: `${f} ${JSON.stringify(want)} is not in ${db} (give the numeric ${f === "owner" ? "uid" : "gid"} instead)` };
      see(id === wantId, shown, `${want} (${wantId})`);
    }
    const size = p.size as number | undefined;
    if (size !== undefined) see(st.size === size, `size ${st.size} bytes`, `${size}`);
    const maxAge = p.max_age as number | undefined;
    if (maxAge !== undefined) {
      const age = Date.now() - st.mtimeMs;
      see(age <= maxAge, `modified ${seconds(age)} ago`, `at most ${seconds(maxAge)}`);
    }
    const sha = p.sha256 as string | undefined;
    if (sha !== undefined) {
      // Only a regular file has a content to hash: a pipe or a device could be read forever.
      if (!st.isFile()) j.problems.push(`sha256 expected, but it is not a regular file (${filetypeOf(st)})`);
      else {
        const got = await sha256Of(path);
        see(got === sha.toLowerCase(), `sha256 ${got}`, sha.toLowerCase());
      }
    }
  } catch (e) {
    return { ...j, error: fsReason(e) };
  }
  return j;
}

export function filetypeOf(st: Stats): string {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "directory";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "character-device";
  if (st.isBlockDevice()) return "block-device";
  if (st.isFIFO()) return "pipe";
  if (st.isSocket()) return "socket";
  return "unknown";
}

/** Streamed in 64 KiB chunks: memory stays bounded whatever the file's size. */
async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path, { highWaterMark: 64 * 1024 }), hash);
  return hash.digest("hex");
}

/** id -> name from /etc/passwd or /etc/group (the first name for an id wins, as getpwuid's files backend does). */
async function idNames(db: "/etc/passwd" | "/etc/group"): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  for (const line of (await readFile(db, "utf8")).split("\n")) {
    const parts = line.split(":");
    const id = Number(parts[2]);
    if (parts.length >= 3 && parts[0] && /^\d+$/.test(parts[2]!) && !names.has(id)) names.set(id, parts[0]);
  }
  return names;
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}
