import { constants } from "node:fs";
import { access, chmod, rename, stat, writeFile } from "node:fs/promises";
import { loadTrustedKeys, type TrustedKeys } from "../gossip/signing.js";
import { inspectDataDir, prepareDataDir } from "../base/data_dir.js";
import type { DaemonOptions } from "./flags.js";
import { readTokenFile } from "../control/token.js";
import { errorMessage } from "../base/result.js";

/*
 * Everything the daemon checks on disk before it starts listening, so a
 * missing file or an unwritable directory is one clear line and exit 2, not
 * a failure halfway through startup.
 */

export type Preflight = { ok: true; cliToken?: string; trustedKeys?: TrustedKeys; warnings: string[] } | { ok: false; error: string };

/** dryRun (-check-config): change nothing; the data dir is inspected, not created. */
export async function preflight(o: DaemonOptions, { dryRun = false } = {}): Promise<Preflight> {
  const warnings: string[] = [];
  const dataDir = dryRun ? await inspectDataDir(o.dataDir) : await prepareDataDir(o.dataDir);
  if (!dataDir.ok) return { ok: false, error: `-data-dir ${o.dataDir}: ${dataDir.error}` };
  for (const [flag, path] of [
    ["-key-file", o.keyFile],
    ["-keyring-file", o.keyringFile],
  ] as const) {
    if (path === undefined) continue;
    const why = await unreadable(path);
    if (why) return { ok: false, error: `${flag} ${path}: ${why}: create a key with "gcheck keygen > ${path}" (chmod 600)` };
    if (((await stat(path)).mode & 0o077) !== 0) warnings.push(`${flag} ${path} is readable by other users: chmod 600 it`);
  }
  let trustedKeys: TrustedKeys | undefined;
  if (o.trustedKeysDir !== undefined) {
    const keys = await loadTrustedKeys(o.trustedKeysDir);
    if (!keys.ok) return { ok: false, error: `-trusted-keys: ${keys.error}` };
    trustedKeys = keys.value;
  }
  let cliToken: string | undefined;
  // The token guards the control API and the NodNod server: read it when either runs.
  if (o.cliTokenFile !== undefined && (o.cliBind !== null || o.nodnodBind !== undefined)) {
    const token = await readTokenFile(o.cliTokenFile, "-cli-token-file");
    if (!token.ok) return token;
    if (token.warning) warnings.push(token.warning);
    cliToken = token.token;
  }
  return { ok: true, warnings, ...(cliToken !== undefined && { cliToken }), ...(trustedKeys && { trustedKeys }) };
}

async function unreadable(path: string): Promise<string | undefined> {
  try {
    if ((await stat(path)).isDirectory()) return "is a directory, not a file";
    await access(path, constants.R_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : errorMessage(e);
  }
}

/** Writes the control API's address for scripts and tests (-cli-addr-file); atomic, so a reader never sees half a line. */
export async function writeAddressFile(path: string, address: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, address + "\n");
  await chmod(tmp, 0o644);
  await rename(tmp, path);
}
