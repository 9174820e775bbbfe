import { type CheckBatch, decodeCheckBatch, encodeCheckBatch } from "../checks/codec.js";
import { errorMessage } from "../base/result.js";
import { pb } from "../proto/index.js";
import { scheduleNameProblem } from "./schedule_rules.js";

/*
 * The SCHEDULE envelope's payload (pb.Schedule): what gcheck signs
 * (`gcheck schedule set|remove -sign-key`) and what the control API and
 * every daemon decode. Part of the contract between the two binaries, like
 * key_op.ts. The checks inside go through decodeCheckBatch, so a schedule
 * from the network is validated by the same rules as a check file.
 */

export interface ScheduleMessage {
  name: string;
  /** ms since the epoch when it was set: of two versions, the greater wins everywhere. */
  version: number;
  /** A tombstone: the schedule stops everywhere (batch then carries no checks). */
  removed: boolean;
  /** The checks (each with its interval) and the targeting. */
  batch: CheckBatch;
  /** user@host of whoever set it, for the audit trail. */
  submitter: string;
}

const NO_CHECKS: CheckBatch = { checks: [], dryRun: false, targetNodes: [], targetTags: {} };

export function encodeSchedule(s: ScheduleMessage): Uint8Array {
  return pb.Schedule.encode({
    name: s.name,
    version: s.version,
    removed: s.removed,
    submitter: s.submitter,
    // The batch's own encoder (params, timeouts), embedded as the message it encodes.
    ...(!s.removed && { batch: pb.CheckBatch.decode(encodeCheckBatch(s.batch)) }),
  }).finish();
}

export type DecodedSchedule = { ok: true; schedule: ScheduleMessage } | { ok: false; error: string };

/** Decodes and validates a SCHEDULE payload; never throws. Errors start with "schedule". */
export function decodeSchedule(bytes: Uint8Array): DecodedSchedule {
  let wire: pb.Schedule;
  try {
    wire = pb.Schedule.decode(bytes);
  } catch (e) {
    return { ok: false, error: `schedule: undecodable payload: ${errorMessage(e)}` };
  }
  const name = wire.name ?? "";
  const bad = scheduleNameProblem(name, "schedule: name");
  if (bad) return { ok: false, error: bad };
  const version = Number(wire.version);
  if (!Number.isFinite(version) || version <= 0) return { ok: false, error: `schedule ${name}: version ${String(wire.version)} is not a time (ms since the epoch)` };
  const base = { name, version, removed: wire.removed === true, submitter: wire.submitter ?? "" };
  if (base.removed) return { ok: true, schedule: { ...base, batch: NO_CHECKS } };
  if (!wire.batch) return { ok: false, error: `schedule ${name}: no checks (a schedule that is not a removal carries its check batch)` };
  const batch = decodeCheckBatch(pb.CheckBatch.encode(wire.batch).finish());
  if (!batch.ok) return { ok: false, error: `schedule ${name}: ${batch.errors.slice(0, 5).join("; ")}${batch.errors.length > 5 ? `; and ${batch.errors.length - 5} more` : ""}` };
  return { ok: true, schedule: { ...base, batch: batch.batch } };
}
