import { errorMessage } from "../../base/result.js";
import type { KeyOpName } from "../../control/api_types.js";
import { base64KeyFingerprint } from "../../control/fingerprint.js";
import { decodeKeyOp } from "../../control/key_op.js";
import type { EnvelopeHandler } from "../../gossip/disseminator.js";
import type { Logger } from "../../base/logger.js";
import { type Keyring, KeyringError } from "../../net/keyring.js";
import type { pb } from "../../proto/index.js";

/**
 * What a node does with a KEY_OP envelope (gcheck keys): applies it to the
 * keyring the transport seals with and answers with the fingerprints of the
 * keys now installed. With -trusted-keys, an unsigned change never gets here
 * (src/daemon/cluster/admission.ts); whoever holds the cluster key may still
 * look (list).
 */
export function keyOpHandler(o: { keyring: Keyring | null; saveKeyring: (k: Keyring) => void; log: Logger; onApplied: (op: string, origin: string, outcome: string) => void }): EnvelopeHandler {
  return async (env) => {
    const decoded = decodeKeyOp(env.payload);
    if (!decoded.ok) return { rejected: decoded.error };
    const report = applyKeyOp(o.keyring, decoded.op, decoded.key, o.saveKeyring);
    o.onApplied(decoded.op, env.origin, report.ok ? "done" : (report.error ?? "failed"));
    o.log.info({ op: decoded.op, origin: env.origin, ok: report.ok, error: report.error, keys: report.keys }, `key operation ${decoded.op} from ${env.origin}: ${report.ok ? "done" : report.error}`);
    return { keys: report };
  };
}

/** The fingerprints of a keyring's keys, primary first (what a node reports; never the keys). */
export function keyringFingerprints(keyring: Keyring): string[] {
  return keyring.list().map(base64KeyFingerprint);
}

/**
 * Applies a key operation to this node's keyring (the object the transport
 * seals and opens with, so it takes effect at once), saves the keyring when
 * it changed, and returns what the origin hears: ok, an error, and the
 * fingerprints of the keys now installed. Refusals (removing the primary,
 * using a key not installed) come from the keyring, per node.
 */
export function applyKeyOp(keyring: Keyring | null, op: KeyOpName, key: Uint8Array, save: (k: Keyring) => void): pb.KeyReport.$Properties {
  if (!keyring) {
    return { ok: false, error: "this node runs without a cluster key: start it with -key-file (gcheck keygen > key)", keys: [] };
  }
  const before = keyring.list().join(",");
  try {
    if (op === "install") keyring.install(key);
    else if (op === "use") keyring.use(key);
    else if (op === "remove") keyring.remove(key);
  } catch (err) {
    if (!(err instanceof KeyringError)) throw err;
    return { ok: false, error: err.message, keys: keyringFingerprints(keyring) };
  }
  if (keyring.list().join(",") !== before) {
    try {
      save(keyring);
    } catch (err) {
      return {
        ok: false,
        error: `the change is in effect but could not be saved (${errorMessage(err)}): a restart would lose it; fix the data dir and repeat the operation`,
        keys: keyringFingerprints(keyring),
      };
    }
  }
  return { ok: true, error: "", keys: keyringFingerprints(keyring) };
}
