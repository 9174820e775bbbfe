import { createHash, timingSafeEqual } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { errorMessage } from "../base/result.js";

/*
 * Bearer tokens for the control API. A token is a secret line in a file
 * (gcheck keygen makes a good one). Shared by the daemon (-cli-token-file) and
 * gcheck (-token-file).
 */

/**
 * Whether an Authorization header carries the token. Both sides are hashed
 * first so timingSafeEqual compares equal lengths and the comparison time
 * says nothing about the token, not even its length.
 */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  const given = createHash("sha256")
    .update(m ? m[1]! : "\0")
    .digest();
  const want = createHash("sha256").update(token).digest();
  return timingSafeEqual(given, want) && m !== null;
}

export type TokenFile = { ok: true; token: string; warning?: string } | { ok: false; error: string };

/** Reads a token file: the first line, trimmed; at least 16 characters, no spaces. */
export async function readTokenFile(path: string, flag: string): Promise<TokenFile> {
  let text: string;
  let mode: number;
  try {
    text = await readFile(path, "utf8");
    mode = (await stat(path)).mode;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : errorMessage(e);
    return { ok: false, error: `${flag} ${path}: ${why}: create it with "gcheck keygen > ${path}" (chmod 600)` };
  }
  const token = (text.split(/\r?\n/)[0] ?? "").trim();
  if (token.length < 16 || /\s/.test(token)) {
    return { ok: false, error: `${flag} ${path}: the token must be one line of at least 16 characters without spaces; make one with "gcheck keygen > ${path}"` };
  }
  const warning = (mode & 0o077) !== 0 ? `${flag} ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}): chmod 600 it` : undefined;
  return warning ? { ok: true, token, warning } : { ok: true, token };
}
