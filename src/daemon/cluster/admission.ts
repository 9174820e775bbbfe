import { decodeCheckBatch } from "../../checks/codec.js";
import type { Admission } from "../../gossip/disseminator.js";
import type { Envelope } from "../../gossip/envelope.js";
import { isSigned, verifyEnvelope, verifyOwnSignature } from "../../gossip/signing.js";
import { pb } from "../../proto/index.js";
import { type BatchNode } from "./batch_handler.js";
import { decodeKeyOp } from "../../control/key_op.js";
import { isTargeted } from "../../control/targeting.js";

/**
 * Which envelopes this node lets count as seen (the gossip layer's
 * Admission), decided before anything else happens to them:
 * - an envelope that carries a signature must verify: against a trusted
 *   key on a node with -trusted-keys, else at least against the key it
 *   names. A forged copy that reuses a genuine batch's ID is refused
 *   wherever it lands, relay-only nodes included, so it can neither run
 *   nor censor the genuine one;
 * - with -trusted-keys, check batches, schedules and key changes must be
 *   signed by a trusted key (`keys list` changes nothing and may come
 *   unsigned);
 * - stats requests need nothing.
 * The origin hears the reason from the nodes a refused batch was for
 * (targeting is read from the payload, which is only a hint for a forged
 * copy: the answer is all it decides).
 */
export function admitEnvelope(node: BatchNode): (env: Envelope) => Admission {
  return (env) => {
    if (env.kind === pb.EnvelopeKind.CHECK_BATCH) return admitSigned(env, node, true, () => batchIsFor(env, node));
    if (env.kind === pb.EnvelopeKind.KEY_OP) {
      const decoded = decodeKeyOp(env.payload);
      return admitSigned(env, node, !decoded.ok || decoded.op !== "list", () => true);
    }
    // A schedule runs its checks' actions on every node it targets, for as long as it stands: as a batch.
    if (env.kind === pb.EnvelopeKind.SCHEDULE) return admitSigned(env, node, true, () => false);
    if (isSigned(env)) return verdict(verifyOwnSignature(env), () => true);
    return { ok: true };
  };
}

/** `needsSignature`: whether -trusted-keys makes a signature mandatory for this one. */
function admitSigned(env: Envelope, node: BatchNode, needsSignature: boolean, answer: () => boolean): Admission {
  if (node.trustedKeys && (needsSignature || isSigned(env))) return verdict(verifyEnvelope(env, node.trustedKeys), answer);
  if (isSigned(env)) return verdict(verifyOwnSignature(env), answer);
  return { ok: true };
}

function verdict(v: string, answer: () => boolean): Admission {
  if (v === "ok") return { ok: true };
  // A bad signature is a forgery or damage, never an operator's batch (the
  // origin verifies a signed body before publishing it), so nobody is told:
  // an answer would only let a forged copy put a refusal into the genuine
  // batch's results.
  return { ok: false, reason: v, answer: v !== "bad signature" && answer() };
}

/** Whether this node is one the batch is for (an undecodable batch: yes, so its origin hears why). */
function batchIsFor(env: Envelope, node: BatchNode): boolean {
  const decoded = decodeCheckBatch(env.payload);
  return !decoded.ok || isTargeted(decoded.batch, node);
}
