import { constants } from "node:fs";
import { access, chmod, mkdir, rename, stat, writeFile } from "node:fs/promises";
import type { DaemonOptions } from "./flags.js";
import { readTokenFile } from "./token.js";

/**
 * Everything the daemon checks on disk before it starts listening, so a
 * missing file or an unwritable directory is one clear line and exit 2, not
 * a failure halfway through startup.
 */

export type Preflight = { ok: true; cliToken?: string; warnings: string[] } | { ok: false; error: string };

export async function preflight(o: DaemonOptions): Promise<Preflight> {
  const warnings: string[] = [];
  try {
    await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
    await access(o.dataDir, constants.W_OK | constants.X_OK);
  } catch (e) {
    return { ok: false, error: `-data-dir ${o.dataDir}: cannot create or write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): choose a writable directory with -data-dir` };
  }
  for (const [flag, path] of [["-key-file", o.keyFile], ["-keyring-file", o.keyringFile]] as const) {
    if (path === undefined) continue;
    const why = await unreadable(path, false);
    if (why) return { ok: false, error: `${flag} ${path}: ${why}: create a key with "gcheck keygen > ${path}" (chmod 600)` };
    if (((await stat(path)).mode & 0o077) !== 0) warnings.push(`${flag} ${path} is readable by other users: chmod 600 it`);
  }
  if (o.trustedKeysDir !== undefined) {
    const why = await unreadable(o.trustedKeysDir, true);
    if (why) return { ok: false, error: `-trusted-keys ${o.trustedKeysDir}: ${why}: give a directory holding operator public keys (gcheck keygen -signing)` };
  }
  if (o.cliTokenFile === undefined || o.cliBind === null) return { ok: true, warnings };
  const token = await readTokenFile(o.cliTokenFile, "-cli-token-file");
  if (!token.ok) return token;
  if (token.warning) warnings.push(token.warning);
  return { ok: true, cliToken: token.token, warnings };
}

async function unreadable(path: string, wantDir: boolean): Promise<string | undefined> {
  try {
    const s = await stat(path);
    if (wantDir !== s.isDirectory()) return wantDir ? "is not a directory" : "is a directory, not a file";
    await access(path, constants.R_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : (e as Error).message;
  }
}

/** Writes the control API's address for scripts and tests (-cli-addr-file); atomic, so a reader never sees half a line. */
export async function writeAddressFile(path: string, address: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, address + "\n");
  await chmod(tmp, 0o644);
  await rename(tmp, path);
}
