import { runBatch } from "../../checks/index.js";
import { type CheckBatch, decodeCheckBatch, toWireReport } from "../../checks/codec.js";
import type { CheckResult } from "../../checks/types.js";
import { type Envelope, idToHex } from "../../gossip/envelope.js";
import type { EnvelopeHandler } from "../../gossip/disseminator.js";
import type { TrustedKeys } from "../../gossip/signing.js";
import { isTargeted } from "../../control/targeting.js";
import type { Logger } from "../../base/logger.js";

/*
 * What a node does with a CHECK_BATCH envelope once gossip hands it over
 * (exactly once, while it is live):
 *   1. decode the batch (an undecodable one is refused, and the origin told);
 *   2. targeting: a node outside -node / -tag relays the batch (gossip did
 *      that already) and answers nothing;
 *   3. run it (signatures were checked before the envelope counted as seen:
 *      src/daemon/cluster/admission.ts): actions only when this node allows them (-no-actions) and the
 *      batch is not a dry run, and the origin gets the results.
 * decideBatch is the pure part, tested on its own.
 */

export interface BatchNode {
  name: string;
  tags: Record<string, string>;
  actionsEnabled: boolean;
  /** With -trusted-keys: only batches signed by one of these are admitted (src/daemon/cluster/admission.ts). */
  trustedKeys?: TrustedKeys;
}

export type BatchDecision = { kind: "relay" } | { kind: "reject"; reason: string } | { kind: "run"; batch: CheckBatch; runActions: boolean; skipReason?: string };

/** The number of decode errors quoted in a refusal. */
const QUOTED_ERRORS = 3;

export function decideBatch(env: Envelope, node: BatchNode): BatchDecision {
  const decoded = decodeCheckBatch(env.payload);
  if (!decoded.ok) return { kind: "reject", reason: `undecodable batch: ${decoded.errors.slice(0, QUOTED_ERRORS).join("; ")}` };
  const batch = decoded.batch;
  // Targeting first: a node the batch is not for has nothing to refuse.
  if (!isTargeted(batch, node)) return { kind: "relay" };
  const runActions = node.actionsEnabled && !batch.dryRun;
  if (runActions) return { kind: "run", batch, runActions };
  return { kind: "run", batch, runActions, skipReason: batch.dryRun ? "dry run" : "actions disabled on this node" };
}

/** The consumer of CHECK_BATCH envelopes; onResults sees every result list this node produced (metrics, history). */
export function checkBatchHandler(node: BatchNode, log: Logger, onResults: (results: CheckResult[], env: Envelope, batch: CheckBatch) => void): EnvelopeHandler {
  return async (env) => {
    const batchId = idToHex(env.id);
    const decision = decideBatch(env, node);
    if (decision.kind === "relay") return null;
    if (decision.kind === "reject") {
      log.warn({ batch: batchId, origin: env.origin, reason: decision.reason }, `refused batch ${batchId} from ${env.origin}: ${decision.reason}`);
      return { rejected: decision.reason };
    }
    const { batch, runActions, skipReason } = decision;
    log.info({ batch: batchId, origin: env.origin, checks: batch.checks.length, actions: runActions }, `running batch ${batchId} from ${env.origin}`);
    // A report-only node (-no-actions) runs no code of the check file: no action, and no command check either.
    const results = await runBatch(batch.checks, { batchId, node: node.name, runActions, allowCommands: node.actionsEnabled, ...(skipReason !== undefined && { skipReason }) });
    onResults(results, env, batch);
    return { checks: toWireReport(results) };
  };
}
