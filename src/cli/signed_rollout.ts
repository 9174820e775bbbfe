import { randomBytes } from "node:crypto";
import type { CheckBatch } from "../checks/codec.js";
import type { BatchRequestBody, MembersResponse, RolloutRequestBody } from "../control/api_types.js";
import { planWaves } from "../control/rollout_plan.js";
import { parseRolloutOrder, parseRolloutSize } from "../control/rollout_rules.js";
import { isTargeted } from "../control/targeting.js";
import type { ControlClient } from "./client.js";
import { CliError } from "./errors.js";
import { signBatch } from "./signing.js";

/*
 * A signed rollout (gcheck check -sign-key with -canary / -batch-size): a
 * signed batch names its targets inside what is signed, so the origin cannot
 * target waves itself. gcheck plans the waves from the origin's member list
 * (the running members the targeting selects, by the same planner the
 * daemon uses) and signs one batch per wave, each naming exactly its wave's
 * nodes; the origin publishes them in order with the usual wave logic. A
 * node in the middle cannot widen the rollout: every wave's targets are
 * covered by a signature. Every envelope is signed now, so -ttl must cover
 * the whole rollout (a wave whose envelope expired is refused by the origin).
 */

export async function signedRollout(client: ControlClient, keyFile: string, rollout: RolloutRequestBody, batch: CheckBatch, ttlMs: number, timeoutMs: number): Promise<BatchRequestBody> {
  if (rollout.count !== undefined) {
    throw new CliError("-count does not combine with -sign-key: a replacement for a dead node would need a signature made after the fact; run -count unsigned, or sign a batch for chosen -node names");
  }
  const order = parseRolloutOrder(rollout.order ?? "name", "-order");
  if (!order.ok) throw new CliError(order.error);
  const batchSize = rollout.batchSize === undefined ? null : parseRolloutSize(rollout.batchSize, "-batch-size", 1);
  if (batchSize && !batchSize.ok) throw new CliError(batchSize.error);
  const { members } = await client.getJson<MembersResponse>("/v1/members");
  const targeted = members.filter((m) => (m.status === "alive" || m.status === "suspect") && isTargeted(batch, m));
  // A fresh seed per rollout for -order random (the daemon seeds with the rollout ID, which does not exist yet).
  const waves = planWaves(targeted, { canary: rollout.canary ?? 0, batchSize: batchSize?.value ?? null, order: order.value }, randomBytes(16).toString("hex"));
  if (waves.length === 0) throw new CliError("no running node matched the targeting (-node / -tag): nothing to sign");
  const signedWaves = [];
  for (const wave of waves) signedWaves.push(await signBatch(client, keyFile, { ...batch, targetNodes: wave }, ttlMs));
  const knobs: RolloutRequestBody = {
    ...(rollout.batchWaitMs !== undefined && { batchWaitMs: rollout.batchWaitMs }),
    ...(rollout.maxFailures !== undefined && { maxFailures: rollout.maxFailures }),
    ...(rollout.detach === true && { detach: true }),
  };
  return { signedWaves, timeoutMs, rollout: knobs };
}
