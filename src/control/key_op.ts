import { errorMessage } from "../base/result.js";
import { pb } from "../proto/index.js";
import { KEY_OPS, type KeyOpName } from "./api_types.js";

/*
 * The KEY_OP envelope's payload: what gcheck signs (gcheck keys -sign-key)
 * and what every daemon decodes and applies. Part of the contract between
 * the two binaries, so it lives here.
 */

/** The payload of a KEY_OP envelope. */
export function encodeKeyOp(op: KeyOpName, key?: Uint8Array): Uint8Array {
  return pb.KeyOp.encode({ op, key: key ?? new Uint8Array(0) }).finish();
}

export type DecodedKeyOp = { ok: true; op: KeyOpName; key: Uint8Array } | { ok: false; error: string };

/** Decodes a KEY_OP payload from the network; never throws. */
export function decodeKeyOp(bytes: Uint8Array): DecodedKeyOp {
  let wire: pb.KeyOp;
  try {
    wire = pb.KeyOp.decode(bytes);
  } catch (err) {
    return { ok: false, error: `undecodable key operation: ${errorMessage(err)}` };
  }
  const op = wire.op as KeyOpName;
  if (!(KEY_OPS as readonly string[]).includes(op)) return { ok: false, error: `unknown key operation ${JSON.stringify(String(wire.op).slice(0, 40))}: this node knows ${KEY_OPS.join(", ")}` };
  const key = wire.key ?? new Uint8Array(0);
  if (op !== "list" && key.length === 0) return { ok: false, error: `key operation ${op} carries no key` };
  return { ok: true, op, key };
}
