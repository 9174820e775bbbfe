import type { CheckResult, CheckSpec } from "../checks/types.js";
import type { Member } from "../swim/types.js";
import type { BatchEvent, BatchSummary, DaemonInfo } from "./api_types.js";

/**
 * The seam between the control API and the rest of the daemon. The API
 * (api.ts) validates every request and speaks HTTP; a backend does the work.
 * single_node.ts is the backend of a daemon without a cluster; the cluster
 * backend (swim + gossip) implements the same interface, so the API and
 * gcheck do not change when clustering arrives.
 */

/** A validated POST /v1/check body, in the daemon's units. */
export interface BatchRequest {
  checks: CheckSpec[];
  dryRun: boolean;
  /** Target node names; empty = every node. */
  nodes: string[];
  /** Target tags (all must match exactly); empty = every node. */
  tags: Record<string, string>;
  /** How long the batch stays runnable after creation (ms). */
  ttlMs: number;
  /** How long the origin waits for answers before reporting done (ms). */
  timeoutMs: number;
  /**
   * Present when the operator signed the batch: the exact envelope fields
   * the signature covers. checks, dryRun, nodes, tags and ttlMs above were
   * decoded from payload, so they agree with it.
   */
  signed?: SignedBatch;
}

export interface SignedBatch {
  id: Uint8Array;
  origin: string;
  originAddress: string;
  createdMs: number;
  ttlMs: number;
  /** The encoded pb.CheckBatch, byte for byte as signed. */
  payload: Uint8Array;
  signature: Uint8Array;
  signerKey: Uint8Array;
}

export interface ControlBackend {
  /** Daemon info; the API adds cliAddress, which only it knows. */
  info(): Omit<DaemonInfo, "cliAddress">;
  /**
   * Evaluates checks on this host, sequentially, never running actions
   * (gcheck local-check). Rejects only on a bug; check problems are results.
   */
  localCheck(checks: CheckSpec[], signal: AbortSignal): Promise<CheckResult[]>;
  /** Every known member, this node included. */
  members(): Member[];
  /**
   * Starts a batch and yields its events: accepted first (with the expected
   * nodes), then one result / unreachable / rejected per expected node, then
   * done (at the latest when request.timeoutMs has passed). The signal aborts
   * when the client goes away: stop waiting (the batch itself keeps spreading).
   */
  submitBatch(request: BatchRequest, signal: AbortSignal): AsyncIterable<BatchEvent>;
  /** Recent batches this node originated, newest first. */
  batches(): BatchSummary[];
  /** Prometheus text exposition (format 0.0.4) of the backend's metrics. */
  metrics(): string;
}
