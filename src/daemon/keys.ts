import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Keyring, loadKeyFile, permissionWarning } from "../net/keyring.js";
import type { DaemonOptions } from "./flags.js";
import { type Result, errorMessage } from "../base/result.js";

/*
 * The daemon's cluster keyring: where it comes from at startup, and how a
 * `gcheck keys` operation (envelope kind KEY_OP) changes it on this node.
 *
 * Precedence at startup: once `<data-dir>/keyring.json` exists (written the
 * first time a key operation changes the keyring), it is the keyring, and
 * -key-file / -keyring-file are ignored: a restarted node keeps the keys the
 * cluster rotated to instead of going back to a key that was removed. Before
 * that, -keyring-file or -key-file (not both); without any, no encryption.
 * Deleting keyring.json returns a node to its flags.
 */

export const KEYRING_FILE_NAME = "keyring.json";

export function persistedKeyringPath(dataDir: string): string {
  return join(dataDir, KEYRING_FILE_NAME);
}

/** Whether the node has a cluster key (the startup safety check counts the persisted keyring). */
export function hasClusterKey(o: Pick<DaemonOptions, "dataDir" | "keyFile" | "keyringFile">): boolean {
  return o.keyFile !== undefined || o.keyringFile !== undefined || existsSync(persistedKeyringPath(o.dataDir));
}

export interface DaemonKeyring {
  /** null: cluster traffic in plaintext (loopback, or -insecure). */
  keyring: Keyring | null;
  /** Where changes made by key operations are saved (0600). */
  persistPath: string;
  /** Which keys are in use and why, for the startup log. */
  note: string;
  warnings: string[];
}

/** Loads the keyring by the precedence above; errors name the file and say what to do. */
export function loadDaemonKeyring(o: Pick<DaemonOptions, "dataDir" | "keyFile" | "keyringFile">): Result<DaemonKeyring> {
  const persistPath = persistedKeyringPath(o.dataDir);
  if (o.keyFile !== undefined && o.keyringFile !== undefined) {
    return { ok: false, error: "-key-file and -keyring-file are both set: pass one (a keyring file holds several keys, primary first)" };
  }
  const flagged = o.keyringFile !== undefined ? { flag: "-keyring-file", path: o.keyringFile } : o.keyFile !== undefined ? { flag: "-key-file", path: o.keyFile } : null;
  if (existsSync(persistPath)) {
    try {
      const { keyring } = loadKeyFile(persistPath);
      const warning = permissionWarning(persistPath);
      const ignored = flagged ? `; ${flagged.flag} ${flagged.path} is ignored while it exists (delete it to go back to the flag)` : "";
      return {
        ok: true,
        value: { keyring, persistPath, note: `using the keyring saved by gcheck keys in ${persistPath} (${keyring.list().length} keys)${ignored}`, warnings: warning ? [warning] : [] },
      };
    } catch (err) {
      return { ok: false, error: `${errorMessage(err)} (this is the keyring gcheck keys saved: restore it, or delete it to start from -key-file again)` };
    }
  }
  if (!flagged) return { ok: true, value: { keyring: null, persistPath, note: "no cluster key: cluster traffic is not encrypted", warnings: [] } };
  try {
    // Loose permissions on flag files are reported by preflight already.
    const { keyring } = loadKeyFile(flagged.path);
    return { ok: true, value: { keyring, persistPath, note: `using the cluster key from ${flagged.flag} ${flagged.path} (${keyring.list().length} keys)`, warnings: [] } };
  } catch (err) {
    return { ok: false, error: `${flagged.flag}: ${errorMessage(err)}` };
  }
}
