import { type CheckBatch, decodeCheckBatch, encodeCheckBatch } from "../checks/codec.js";
import { errorMessage } from "../base/result.js";
import { pb } from "../proto/index.js";

/*
 * The SCHEDULE envelope's payload (pb.Schedule): what gcheck signs (gcheck
 * schedule set -sign-key) and what every daemon decodes, keeps and hands
 * over in push-pull. Part of the contract between the two binaries, like
 * key_op.ts. A decoded schedule came from the network: its checks go
 * through the same validation as a check file, and every check must have an
 * interval.
 */

/** A schedule's name: 1 to 128 of letters, digits and . _ : - (it names files, metrics labels and URLs). */
export const SCHEDULE_NAME = /^[A-Za-z0-9._:-]{1,128}$/;

export function scheduleNameProblem(name: string): string | null {
  if (SCHEDULE_NAME.test(name)) return null;
  return `schedule name ${JSON.stringify(name.slice(0, 140))} is not allowed: use 1 to 128 letters, digits, ".", "_", ":" or "-"`;
}

export interface SchedulePayload {
  name: string;
  /** ms since the epoch when it was set: the greater wins. */
  version: number;
  removed: boolean;
  /** The checks and targeting (dryRun is always false). Empty checks for a removal. */
  batch: CheckBatch;
  submitter: string;
}

export function encodeSchedule(s: SchedulePayload): Uint8Array {
  const batch = pb.CheckBatch.decode(encodeCheckBatch(s.batch));
  return pb.Schedule.encode({ name: s.name, version: s.version, removed: s.removed, batch, submitter: s.submitter }).finish();
}

/** Decodes and validates a SCHEDULE payload from the network; never throws. */
export function decodeSchedule(bytes: Uint8Array): { ok: true; schedule: SchedulePayload } | { ok: false; error: string } {
  let wire: pb.Schedule;
  try {
    wire = pb.Schedule.decode(bytes);
  } catch (err) {
    return { ok: false, error: `undecodable schedule: ${errorMessage(err)}` };
  }
  const name = wire.name ?? "";
  const nameProblem = scheduleNameProblem(name);
  if (nameProblem) return { ok: false, error: nameProblem };
  const version = wire.version ?? 0;
  if (!Number.isFinite(version) || version <= 0) return { ok: false, error: `schedule ${name}: version ${version} is not a time` };
  const removed = wire.removed === true;
  const submitter = (wire.submitter ?? "").slice(0, 256);
  // A removal carries no checks (the batch decoder would call that an error).
  if (removed) return { ok: true, schedule: { name, version, removed, batch: { checks: [], dryRun: false, targetNodes: [], targetTags: {} }, submitter } };
  const decoded = decodeCheckBatch(pb.CheckBatch.encode(wire.batch ?? {}).finish());
  if (!decoded.ok) return { ok: false, error: `schedule ${name}: ${decoded.errors.slice(0, 3).join("; ")}` };
  const batch = decoded.batch;
  const unscheduled = batch.checks.find((c) => !(c.intervalMs !== undefined && c.intervalMs > 0));
  if (unscheduled) return { ok: false, error: `schedule ${name}: check ${JSON.stringify(unscheduled.name)} has no interval: every check of a schedule needs one (e.g. "interval": "30s")` };
  return { ok: true, schedule: { name, version, removed, batch: { ...batch, dryRun: false }, submitter } };
}
