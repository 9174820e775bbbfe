import type { CheckResult, CheckStatus, Quorum } from "../checks/types.js";
import type { CheckFileObject, NodeRef, SignedEnvelopeBody } from "./api_types.js";

/*
 * The control API contract of the always-on parts (issue 14): schedules,
 * history, the state of scheduled checks and quorum verdicts. Both binaries
 * import it; the daemon's answers and gcheck's output are built from these
 * shapes, and a node answers a cluster-wide history question with
 * NodeHistoryAnswer as JSON (pb.HistoryAnswer.json).
 */

/** A quorum: this many nodes must see the check failing, or a majority of those that run it (defined with the check fields). */
export type { Quorum };

/** One named schedule as a node knows it (GET /v1/schedules). */
export interface ScheduleInfo {
  name: string;
  /** ms since the epoch when it was set; the greater wins everywhere. */
  version: number;
  /** The envelope ID of this version (hex). */
  id: string;
  /** The node the operator gave it to. */
  origin: string;
  submitter: string;
  /** Fingerprint of the operator key that signed it; "" unsigned. */
  signer: string;
  checks: number;
  /** Target node names and tags ({} and [] = every node). */
  nodes: string[];
  tags: Record<string, string>;
  /** Whether this node is targeted (runs it). */
  runsHere: boolean;
  /** Where it came from: a cluster-wide schedule, or a file of -checks-dir on this node. */
  source: "cluster" | "local";
  /** The check file, as the operator wrote it (GET /v1/schedules/NAME only). */
  document?: CheckFileObject;
}

export interface SchedulesResponse {
  node: string;
  schedules: ScheduleInfo[];
}

/** POST /v1/schedules: set (a new version of) a named schedule. */
export interface ScheduleSetBody {
  name?: string;
  checks?: CheckFileObject;
  nodes?: string[];
  tags?: Record<string, string>;
  submitter?: string;
  /** An operator-signed SCHEDULE envelope (payload: pb.Schedule); the fields above are then read from it. */
  signed?: SignedEnvelopeBody;
}

/** The answer to a set or remove: the version that now spreads. */
export interface ScheduleSetResponse {
  name: string;
  version: number;
  id: string;
  removed: boolean;
}

/** One stored batch on one node (history). */
export interface BatchRecord {
  batchId: string;
  origin: string;
  submitter: string;
  /** Fingerprint of the operator key that signed the batch; "" unsigned. */
  signer: string;
  createdMs: number;
  /** When this node finished running it. */
  finishedMs: number;
  dryRun: boolean;
  /** Schedule name when the run was a scheduled one; "" for a submitted batch. */
  schedule: string;
  /** Count of results by status. */
  counts: Partial<Record<CheckStatus, number>>;
  /** Present when asked for a batch's results. */
  results?: CheckResult[];
}

/** One transition of a scheduled check on one node. */
export interface TransitionRecord {
  node: string;
  schedule: string;
  check: string;
  from: CheckStatus | "none";
  to: CheckStatus;
  atMs: number;
  message: string;
}

/** One entry of the audit log. */
export interface AuditRecord {
  atMs: number;
  /** key-op, schedule-set, schedule-remove, envelope-refused, connections-refused, ... */
  kind: string;
  /** A one-line summary a person reads. */
  summary: string;
  /** The envelope or schedule concerned, when there is one. */
  subject: string;
}

/** The current state of one scheduled check on one node. */
export interface CheckState {
  schedule: string;
  check: string;
  status: CheckStatus;
  message: string;
  /** Since when it has had this status. */
  sinceMs: number;
  /** When it was last evaluated. */
  lastRunMs: number;
  intervalMs: number;
  /** Action runs suppressed by the flap guard since the status began. */
  suppressed: number;
  quorum?: Quorum;
}

/** A quorum check's cluster-wide verdict, as one voter sees it. */
export interface QuorumVerdict {
  schedule: string;
  check: string;
  quorum: Quorum;
  /** How many failing votes make the verdict failing, for the voters now alive. */
  needed: number;
  failing: boolean;
  /** Live voters and their latest status. */
  votes: { node: string; status: CheckStatus; atMs: number }[];
  /** The node that fires quorum-fail / quorum-recover for the cluster. */
  firer: string;
  sinceMs: number;
  /** Set when the verdict cannot fail: a quorum K above the live voters ("needs 6 failing votes, 4 voters alive"). */
  unreachable?: string;
}

/** What a node answers to a history question, as JSON in pb.HistoryAnswer. */
export type NodeHistoryAnswer =
  | { what: "results"; batch?: BatchRecord }
  | { what: "history"; batches: BatchRecord[]; transitions: TransitionRecord[]; truncated: boolean; audit?: AuditRecord[] }
  | { what: "status"; checks: CheckState[]; verdicts: QuorumVerdict[]; historyError?: string };

/** POST /v1/history (cluster-wide) or GET /v1/history?... (this node). */
export interface HistoryRequestBody {
  nodes?: string[];
  tags?: Record<string, string>;
  check?: string;
  /** ms since the epoch. */
  sinceMs?: number;
  status?: CheckStatus;
  limit?: number;
  timeoutMs?: number;
  /** The audit log (key operations, schedule changes, refusals) instead of batches and transitions. */
  audit?: boolean;
}

/** Streamed by POST /v1/history and POST /v1/status (NDJSON), like stats. */
export type HistoryEvent =
  | { type: "accepted"; id: string; origin: string; createdMs: number; expected: NodeRef[] }
  | { type: "answer"; node: string; address: string; answer: NodeHistoryAnswer; elapsedMs: number }
  | { type: "unreachable"; node: string; address?: string; reason: string }
  | { type: "rejected"; node: string; address?: string; reason: string }
  | { type: "done"; elapsedMs: number; timedOut: boolean }
  | { type: "error"; error: string };
