import type { CheckResult } from "../checks/types.js";
import type { MemberStatus } from "../swim/types.js";

/*
 * The JSON shapes of the control API (HTTP/1.1 on -cli-bind), shared by the
 * daemon and gcheck. Types and one constant: importing them costs gcheck
 * nothing. Times are ms; IDs are lowercase hex.
 *
 *   GET  /v1/info                      -> DaemonInfo
 *   POST /v1/local-check  {checks}     -> LocalCheckResponse
 *   POST /v1/check        BatchRequestBody -> NDJSON stream of BatchEvent
 *   GET  /v1/rollouts                  -> RolloutsResponse
 *   GET  /v1/rollouts/ID               -> RolloutStatus
 *   POST /v1/rollouts/ID/abort         -> RolloutStatus (no further wave starts)
 *   GET  /v1/members[?status=alive]    -> MembersResponse
 *   GET  /v1/batches                   -> BatchesResponse
 *   POST /v1/keys         KeysRequestBody  -> NDJSON stream of KeyEvent
 *   GET  /v1/stats                     -> NodeStats (this node)
 *   POST /v1/stats        StatsRequestBody -> NDJSON stream of StatsEvent
 *   GET  /metrics                      -> Prometheus text 0.0.4
 * And the always-on ones (watch_types.ts): GET /v1/schedules[/NAME], POST
 * /v1/schedules, DELETE /v1/schedules/NAME, POST /v1/results, /v1/history,
 * /v1/status.
 * Errors: 4xx/5xx with ErrorBody.
 */

export const MEMBER_STATUSES = ["alive", "suspect", "dead", "left"] as const satisfies readonly MemberStatus[];

export interface ErrorBody {
  error: string;
}

export interface DaemonInfo {
  name: string;
  version: string;
  protocolVersion: number;
  /** Cluster address other nodes dial (host:port). */
  address: string;
  /** Control API address (host:port). */
  cliAddress: string;
  pid: number;
  startedMs: number;
  uptimeMs: number;
  tags: Record<string, string>;
  actionsEnabled: boolean;
  /** Members by status, this node included. */
  members: Record<MemberStatus, number>;
  /** Transport and protocol counters (packets, frames, drops, decrypt failures...). */
  counters: Record<string, number>;
}

/**
 * The checks of a request, in the check-file form
 * ({"name": {"type", "path", "check", "action", "timeout", "description"}}),
 * so a file can be sent with curl as it is: {"checks": <file contents>}.
 */
export type CheckFileObject = Record<string, unknown>;

export interface LocalCheckRequestBody {
  checks: CheckFileObject;
}

export interface LocalCheckResponse {
  node: string;
  results: CheckResult[];
  elapsedMs: number;
}

/**
 * An operator-signed envelope: the fields the signature covers
 * (src/gossip/signing.ts), built and signed by gcheck -sign-key. What it
 * asks for travels inside payload (for a batch an encoded pb.CheckBatch with
 * the checks and targeting, for a key operation a pb.KeyOp), so the daemons
 * act on exactly the bytes that were signed.
 */
export interface SignedEnvelopeBody {
  /** 16-byte envelope ID, 32 lowercase hex characters. */
  id: string;
  /** The origin daemon's node name and cluster address (from GET /v1/info). */
  origin: string;
  originAddress: string;
  /** Creation time (ms since the epoch) and TTL (ms) the signer used. */
  createdMs: number;
  ttlMs: number;
  /** base64 of the encoded pb.CheckBatch (or pb.KeyOp). */
  payload: string;
  /** base64 of the 64-byte Ed25519 signature. */
  signature: string;
  /** base64 of the signer's raw 32-byte public key. */
  signerKey: string;
}

/**
 * Either an unsigned batch (checks and the optional fields) or a signed one
 * ({signed, timeoutMs}): a signed batch carries its checks, targeting and
 * TTL inside signed, and the other fields must then be absent.
 */
export interface BatchRequestBody {
  checks?: CheckFileObject;
  /**
   * Instead of checks: the text of a check file (JSON or YAML, gossipcheck's
   * format or a Goss gossfile), parsed by the daemon with gcheck's parser.
   * The web view's form sends this; a bad file is a 400 naming line and field.
   */
  checkFile?: string;
  /** user@host of whoever submits (gcheck sends it), kept in each node's history. */
  submitter?: string;
  /** Evaluate everywhere, run no action. Default false. */
  dryRun?: boolean;
  /** Only these node names run the batch (the others relay it). Default: all. */
  nodes?: string[];
  /** Only nodes carrying all these tags (exact match) run it. Default: all. */
  tags?: Record<string, string>;
  /** How long the batch may still be run by a node that receives it late (ms). Default 5 min. */
  ttlMs?: number;
  /** How long the origin waits for answers before ending the stream (ms). Default 30 s. */
  timeoutMs?: number;
  signed?: SignedEnvelopeBody;
  /** Present: the origin rolls the batch out canary-first, in waves, or on exactly count nodes (README: Rollouts). */
  rollout?: RolloutRequestBody;
  /**
   * A signed rollout: one signed batch per wave, in wave order, each naming
   * exactly its wave's nodes in its signed payload (gcheck plans the waves
   * and signs them), so no node can widen it. With it, leave out checks,
   * dryRun, nodes, tags, ttlMs and signed; rollout may only carry
   * batchWaitMs, maxFailures and detach.
   */
  signedWaves?: SignedEnvelopeBody[];
}

/**
 * How the origin rolls a batch out. Sizes are a count (10) or a percentage
 * of the targeted running nodes ("10%"). Either waves (canary, batchSize) or
 * count, not both. Not with "signed" (its payload names its targets): a
 * signed rollout sends signedWaves, planned and signed by gcheck.
 */
export interface RolloutRequestBody {
  /** Nodes of the first wave (the canaries). Default 0: no canary wave. */
  canary?: number;
  /** Nodes per wave after the canaries. Default: all the rest in one wave. */
  batchSize?: number | string;
  /** Pause between the end of a wave and the start of the next (ms). Default 0. */
  batchWaitMs?: number;
  /** Failing nodes tolerated before the rollout stops. Default 0. */
  maxFailures?: number | string;
  /** Wave order: "name" (default), "random" (seeded by the rollout ID) or "tag:KEY" (by that tag's value, then name). */
  order?: string;
  /** Exactly this many targeted running nodes run the batch (deterministic choice, dead ones replaced). */
  count?: number;
  /** Carry on when the client goes away (default: finish the current wave, then stop). */
  detach?: boolean;
}

/** One planned wave of a rollout. */
export interface RolloutWave {
  /** 1-based. */
  wave: number;
  nodes: string[];
  /** The wave's own batch ID once published ("" before, or when nothing was published). */
  batchId: string;
  state: "planned" | "running" | "done" | "skipped";
}

/** How a rollout ended: complete (every wave ran), stopped (failures > max), aborted (rollout abort), disconnected (gcheck went away without -detach). */
export type RolloutOutcome = "running" | "complete" | "stopped" | "aborted" | "disconnected";

/** GET /v1/rollouts/:id (and each of RolloutsResponse). */
export interface RolloutStatus {
  id: string;
  origin: string;
  startedMs: number;
  mode: "waves" | "count";
  outcome: RolloutOutcome;
  /** Why it stopped (the skipped events' reason), when it did. */
  reason?: string;
  failures: number;
  maxFailures: number;
  /** The wave running or last run (0 before the first). */
  currentWave: number;
  waves: RolloutWave[];
  /** Every planned node and what became of it. */
  nodes: { node: string; wave: number; state: "pending" | "running" | "pass" | "fail" | "unreachable" | "rejected" | "skipped" | "replaced"; reason?: string }[];
}

/** GET /v1/rollouts: the rollouts this node ran (the last 100 finished ones and every running one), newest first. */
export interface RolloutsResponse {
  node: string;
  rollouts: RolloutStatus[];
}

export interface NodeRef {
  name: string;
  address: string;
}

/** One NDJSON line of a POST /v1/check response. The stream always ends with done (or error). */
export type BatchEvent =
  | { type: "accepted"; batchId: string; origin: string; createdMs: number; ttlMs: number; expected: NodeRef[]; rollout?: { id: string; waves: string[][] } }
  | { type: "result"; node: string; address: string; results: CheckResult[]; elapsedMs: number; wave?: number }
  | { type: "unreachable"; node: string; address?: string; reason: string; wave?: number }
  | { type: "rejected"; node: string; address?: string; reason: string; wave?: number }
  /** A rollout's wave was published (its own batch ID), targeted at exactly these nodes; elapsedMs: when it started (before publishing). */
  | { type: "wave"; wave: number; batchId: string; nodes: string[]; elapsedMs: number }
  /** A planned node the rollout never reached (it stopped), or one -count replaced; reason says which. */
  | { type: "skipped"; node: string; address?: string; reason: string; wave: number }
  | { type: "done"; elapsedMs: number; timedOut: boolean; rollout?: { id: string; outcome: RolloutOutcome; reason?: string; wavesRun: number; failures: number } }
  | { type: "error"; error: string };

export interface MemberView {
  name: string;
  address: string;
  status: MemberStatus;
  incarnation: number;
  tags: Record<string, string>;
  /** When the status last changed (ms since the epoch, daemon's clock). */
  statusSinceMs: number;
  /** How long ago that was, computed by the daemon (ms), so gcheck needs no clock sync. */
  statusAgeMs: number;
  /** A coordinator (talk_types.ts), as this daemon computes it from its member list. */
  coordinator?: boolean;
}

export interface MembersResponse {
  node: string;
  members: MemberView[];
}

export interface BatchSummary {
  batchId: string;
  origin: string;
  createdMs: number;
  ttlMs: number;
  checks: number;
  dryRun: boolean;
  expected: number;
  answered: number;
  state: "running" | "done";
}

export interface BatchesResponse {
  batches: BatchSummary[];
}

/** Keyring operations of `gcheck keys`, applied on every node of the cluster. */
/** The shortest TTL an envelope submitted through the API may have (ms). */
export const MIN_TTL_MS = 1_000;

export const KEY_OPS = ["list", "install", "use", "remove"] as const;
export type KeyOpName = (typeof KEY_OPS)[number];

/**
 * POST /v1/keys. `key` (base64 of 32 bytes, as gcheck keygen prints) is
 * required by install, use and remove, and refused with list.
 *
 * Or a signed operation ({signed, timeoutMs}: gcheck keys -sign-key): the
 * envelope fields as for a signed batch, with an encoded pb.KeyOp (the
 * operation and its key) as payload; op and key must then be absent. Nodes
 * started with -trusted-keys change their keyring only on a signed one.
 */
export interface KeysRequestBody {
  op?: KeyOpName;
  key?: string;
  /** How long the origin waits for answers before ending the stream (ms). Default 30 s. */
  timeoutMs?: number;
  signed?: SignedEnvelopeBody;
}

/**
 * One NDJSON line of a POST /v1/keys response: accepted (with every member
 * alive at submission), one result / unreachable / rejected per node, done.
 * Keys never travel back in clear: each node lists its installed keys as
 * fingerprints (the first 8 hex digits of the SHA-256 of the raw key),
 * primary first.
 */
export type KeyEvent =
  | { type: "accepted"; id: string; op: KeyOpName; origin: string; createdMs: number; expected: NodeRef[] }
  | { type: "result"; node: string; address: string; ok: boolean; error?: string; keys: string[]; elapsedMs: number }
  | { type: "unreachable"; node: string; address?: string; reason: string }
  | { type: "rejected"; node: string; address?: string; reason: string }
  | { type: "done"; elapsedMs: number; timedOut: boolean }
  | { type: "error"; error: string };

/**
 * One node's resource figures (GET /v1/stats, and each result of POST
 * /v1/stats). Sizes in bytes, times in ms, load in percent. The system
 * figures come from probes (systeminformation) that may fail or hang on a
 * given host: such a section (memory, disk, os, cpu.loadPercent, cpu.model)
 * is then absent and `errors` says which probe and why.
 */
export interface NodeStats {
  node: string;
  /** When the probed figures were sampled (ms since the epoch); a node reuses a sample for about 1 s. */
  sampledMs: number;
  cpu: {
    /** Logical CPUs. */
    count: number;
    /** 1, 5 and 15 minute load averages (all 0 where the OS has none, e.g. Windows). */
    loadAverage: [number, number, number];
    /** Busy share of all CPUs since the node's previous sample (the first sample measures 0.5 s). */
    loadPercent?: number;
    model?: string;
  };
  memory?: {
    totalBytes: number;
    /** total minus available: what the kernel cannot reclaim (page cache excluded). */
    usedBytes: number;
    availableBytes: number;
    swapTotalBytes: number;
    swapUsedBytes: number;
  };
  /** The root filesystem, or the largest one when "/" is not listed. */
  disk?: { mount: string; fs: string; type: string; totalBytes: number; usedBytes: number; availableBytes: number };
  os?: { platform: string; distro: string; release: string; kernel: string; arch: string; hostname: string };
  uptime: { hostMs: number; daemonMs: number };
  /** The daemon process itself. */
  process: { pid: number; rssBytes: number; heapUsedBytes: number; heapTotalBytes: number };
  gossipcheck: { version: string; membersAlive: number; members: Record<MemberStatus, number> };
  /** One line per probe that failed or did not answer in time, e.g. "memory: no answer within 2000 ms". */
  errors: string[];
}

/** POST /v1/stats: which nodes answer (default every node) and how long to wait for them. */
export interface StatsRequestBody {
  nodes?: string[];
  tags?: Record<string, string>;
  /** How long the origin waits for answers (ms), and how long a late node may still answer. Default 10 s. */
  timeoutMs?: number;
}

/** One NDJSON line of a POST /v1/stats response: accepted, one result / unreachable / rejected per node, done. */
export type StatsEvent =
  | { type: "accepted"; id: string; origin: string; createdMs: number; expected: NodeRef[] }
  | { type: "result"; node: string; address: string; stats: NodeStats; elapsedMs: number }
  | { type: "unreachable"; node: string; address?: string; reason: string }
  | { type: "rejected"; node: string; address?: string; reason: string }
  | { type: "done"; elapsedMs: number; timedOut: boolean }
  | { type: "error"; error: string };
