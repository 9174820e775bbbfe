import type { CheckResult, CheckSpec, CheckStatus } from "../../checks/types.js";
import type { HistoryEvent, ScheduleInfo, ScheduleSetResponse } from "../../control/watch_types.js";
import type { Member, MemberEvent } from "../../swim/types.js";
import type { BatchListItem } from "../../control/stream_types.js";
import type { CoordinatorChange } from "../../control/talk_types.js";
import type { BatchEvent, BatchSummary, CheckFileObject, DaemonInfo, KeyEvent, KeyOpName, NodeStats, RolloutStatus, StatsEvent } from "../../control/api_types.js";
import type { RolloutOrder, RolloutSize } from "../../control/rollout_rules.js";
import type { ChannelMessage, ChannelPublishResponse, EventStreamEvent, QueryStreamEvent } from "../../control/talk_types.js";

/*
 * The seam between the control API and the rest of the daemon. The API
 * (server.ts, routes.ts) validates every request and speaks HTTP; a backend does the work.
 * src/daemon/cluster/backend.ts (swim + gossip) is the daemon's backend; a one-node cluster is
 * simply a cluster nobody else joined. Tests of the API use a fake one.
 */

/** A validated POST /v1/check body, in the daemon's units. */
export interface BatchRequest {
  checks: CheckSpec[];
  dryRun: boolean;
  /** user@host of whoever ran gcheck (the history records it); from the signed payload when signed. */
  submitter?: string;
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
  signed?: SignedEnvelope;
  /** Present: roll the batch out in waves or on exactly count nodes (src/daemon/cluster/rollout.ts). */
  rollout?: RolloutSpec;
  /** "coordinator": the origin targets the coordinators it computes at submission (nodes and tags are empty). */
  on?: "coordinator";
  /** A signed rollout: each wave's signed envelope and the nodes its payload targets, in wave order (then rollout is set too). */
  signedWaves?: { signed: SignedEnvelope; nodes: string[] }[];
}

/** A validated rollout (BatchRequestBody.rollout). */
export interface RolloutSpec {
  mode: "waves" | "count";
  canary: number;
  /** null: every node after the canaries in one wave. */
  batchSize: RolloutSize | null;
  batchWaitMs: number;
  maxFailures: RolloutSize;
  order: RolloutOrder;
  /** mode count: how many nodes run the batch. */
  count: number;
  detach: boolean;
}

/** The fields of an operator-signed envelope, byte for byte as signed (src/gossip/signing.ts). */
export interface SignedEnvelope {
  id: Uint8Array;
  origin: string;
  originAddress: string;
  createdMs: number;
  ttlMs: number;
  /** The encoded pb.CheckBatch (or pb.KeyOp), byte for byte as signed. */
  payload: Uint8Array;
  signature: Uint8Array;
  signerKey: Uint8Array;
}

/** A validated POST /v1/keys body. */
export interface KeyOpRequest {
  op: KeyOpName;
  /** The raw 32-byte key (install, use, remove); absent for list. */
  key?: Uint8Array;
  /** How long the origin waits for answers before reporting done (ms). */
  timeoutMs: number;
  /** Present when the operator signed the operation; op and key were decoded from its payload. */
  signed?: SignedEnvelope;
}

export type KeyOpStart = { ok: true; events: AsyncIterable<KeyEvent> } | { ok: false; error: string };

/** A validated POST /v1/stats body. */
export interface StatsRequest {
  /** Target node names; empty = every node. */
  nodes: string[];
  /** Target tags (all must match exactly); empty = every node. */
  tags: Record<string, string>;
  /** How long the origin waits for answers, and the request's TTL (ms). */
  timeoutMs: number;
  /** A node may answer with a sample this young (ms): a stats stream's interval. Default: the node's own (1 s). */
  maxAgeMs?: number;
}

export type StatsStart = { ok: true; events: AsyncIterable<StatsEvent> } | { ok: false; error: string };

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
  /**
   * Checks an operator-signed body before anything is published: null when it
   * may go, else the HTTP status (400 altered, 403 untrusted) and why.
   * Optional: without it signed bodies are published unchecked.
   */
  refuseSigned?(kind: "batch" | "key operation", signed: SignedEnvelope): { status: number; error: string } | null;
  /** Recent batches this node originated, newest first. */
  batches(): BatchSummary[];

  // ---- Live streams (issue 16, src/daemon/streams). Optional: without one, its stream answers 501. ----

  /** Every membership change from now on; returns the unsubscribe. */
  watchMembers?(listener: (e: MemberEvent) => void): () => void;
  /** The coordinators this node computes now (issue 17). Optional: without it no member is marked. */
  coordinators?(): CoordinatorChange;
  /** Every change of the coordinators from now on; returns the unsubscribe. */
  watchCoordinators?(listener: (c: CoordinatorChange) => void): () => void;
  /** The batches view: published here and run here (history), newest first. */
  batchList?(): BatchListItem[];
  /** Every new or changed batch of batchList from now on; returns the unsubscribe. */
  watchBatches?(listener: (item: BatchListItem) => void): () => void;
  /** A batch this node published: its events so far, then live until done; undefined when not kept here. */
  followBatch?(batchId: string, signal: AbortSignal): AsyncIterable<BatchEvent> | undefined;
  /** The rollouts this node runs or ran, newest first (GET /v1/rollouts). Optional: 501 without it. */
  rollouts?(): RolloutStatus[];
  /** A rollout this node runs or ran (GET /v1/rollouts/:id); undefined when unknown. Optional: 501 without it. */
  rollout?(id: string): RolloutStatus | undefined;
  /** Stops a rollout: no further wave starts (POST /v1/rollouts/:id/abort); undefined when unknown. */
  abortRollout?(id: string): RolloutStatus | undefined;
  /**
   * Spreads a keyring operation to every node and yields its events like
   * submitBatch. ok: false (answered 409) when it cannot start, e.g. the
   * daemon runs without a cluster key. Optional: without it POST /v1/keys
   * answers 501.
   */
  keyOp?(request: KeyOpRequest, signal: AbortSignal): KeyOpStart;
  /** This node's stats (GET /v1/stats). Optional: without it the route answers 501. */
  localStats?(): Promise<NodeStats>;
  /** Asks every targeted node for its stats and yields the answers like keyOp (POST /v1/stats). */
  clusterStats?(request: StatsRequest, signal: AbortSignal): StatsStart;

  // ---- Always on (issue 14). Optional: without one, its route answers 501. ----

  /** The schedules this node knows (cluster-wide and its -checks-dir ones), by name. */
  schedules?(): ScheduleInfo[];
  /** One schedule with its check document, or undefined. */
  schedule?(name: string): ScheduleInfo | undefined;
  /**
   * Sets (a new version of) a named schedule and spreads it. ok: false with
   * the HTTP status to answer (400 bad input, 403 unsigned or untrusted where
   * signatures are required, 409 a local schedule's name).
   */
  setSchedule?(request: ScheduleSetRequest): ScheduleChange;
  /** Removes a named schedule everywhere (a newer tombstone version); 404 when unknown. */
  removeSchedule?(request: ScheduleRemoveRequest): ScheduleChange;
  /**
   * A past batch's results from every node that ran it (gcheck results ID),
   * as the events of submitBatch: accepted (expected = the running members),
   * then a result per node that has it, a rejected per node that does not
   * ("did not run this batch"), unreachable, done.
   */
  batchResults?(request: ResultsRequest, signal: AbortSignal): HistoryStart<BatchEvent>;
  /** Every targeted node's history (what "history") or scheduled-check states (what "status"). */
  clusterHistory?(what: "history" | "status", request: HistoryRequest, signal: AbortSignal): HistoryStart<HistoryEvent>;

  // ---- User events and queries (issue 17). Optional: without one, its route answers 501. ----

  /** Publishes a user event and yields its EventStreamEvents (POST /v1/events). */
  submitEvent?(request: EventRequest, signal: AbortSignal): TalkStart<EventStreamEvent>;
  /** Publishes a query and yields each node's answer (POST /v1/queries). */
  submitQuery?(request: QueryRequest, signal: AbortSignal): TalkStart<QueryStreamEvent>;

  // ---- Channels (issue 17, src/daemon/cluster/channels.ts). Optional: without them /v1/channels/ answers 501. ----

  /** Publishes data on channel, to every subscriber or to node's only. */
  publishChannel?(channel: string, data: Uint8Array, node?: string): ChannelOutcome<ChannelPublishResponse>;
  /** Adds a subscriber of channel on this node; the value is its removal. */
  subscribeChannel?(channel: string, listener: (msg: ChannelMessage) => void): ChannelOutcome<() => void>;
}

/** A POST /v1/events body, validated (validate_talk.ts). */
export interface EventRequest {
  name: string;
  payload: Uint8Array;
  nodes: string[];
  tags: Record<string, string>;
  waitHandlers: boolean;
  /** How long the origin waits, and the event's TTL (ms). */
  timeoutMs: number;
  submitter?: string;
}

/** A POST /v1/queries body, validated. */
export interface QueryRequest {
  name: string;
  payload: Uint8Array;
  nodes: string[];
  tags: Record<string, string>;
  /** How long the origin waits, the query's TTL, and its handlers' timeout (at most 30 s) (ms). */
  timeoutMs: number;
  submitter?: string;
}

/** A user event or query started, or why not: status 413 too large for the envelope limit, 503 not running. */
export type TalkStart<E> = { ok: true; events: AsyncIterable<E> } | { ok: false; status: number; error: string };

/** ok, or the HTTP status to answer and why not. */
export type ChannelOutcome<T> = { ok: true; value: T } | { ok: false; status: number; error: string };

export interface ScheduleSetRequest {
  name: string;
  checks: CheckSpec[];
  /** The check file as the operator wrote it (shown by schedule show). */
  document: CheckFileObject;
  nodes: string[];
  tags: Record<string, string>;
  submitter: string;
  /** An operator-signed SCHEDULE envelope; the fields above were decoded from its payload. */
  signed?: SignedEnvelope;
}

export interface ScheduleRemoveRequest {
  name: string;
  submitter: string;
  signed?: SignedEnvelope;
}

export type ScheduleChange = { ok: true; change: ScheduleSetResponse } | { ok: false; status: number; error: string };

export interface ResultsRequest {
  /** 32 hex digits. */
  batchId: string;
  nodes: string[];
  tags: Record<string, string>;
  timeoutMs: number;
}

export interface HistoryRequest {
  nodes: string[];
  tags: Record<string, string>;
  check?: string;
  sinceMs?: number;
  status?: CheckStatus;
  limit: number;
  timeoutMs: number;
  /** The audit log instead of batches and transitions. */
  audit?: boolean;
}

export type HistoryStart<E> = { ok: true; events: AsyncIterable<E> } | { ok: false; error: string };
