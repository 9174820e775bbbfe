import { descriptionsOf, encodeCheckBatch, fromWireReport } from "../../checks/codec.js";
import { runLocalCheck } from "../../checks/index.js";
import type { CheckResult, CheckSpec } from "../../checks/types.js";
import type { Disseminator, PublishResult } from "../../gossip/disseminator.js";
import { type Envelope, idToHex } from "../../gossip/envelope.js";
import type { Publication } from "../../gossip/publication.js";
import { isTrustedSigner, type TrustedKeys, verifyOwnSignature } from "../../gossip/signing.js";
import { type Clock, systemClock } from "../../base/clock.js";
import type { Keyring } from "../../net/keyring.js";
import type { Logger } from "../../base/logger.js";
import type { Transport } from "../../net/transport.js";
import { pb, PROTOCOL_VERSION } from "../../proto/index.js";
import type { Swim } from "../../swim/swim.js";
import type { Member, MemberEvent } from "../../swim/types.js";
import type { BatchEvent, BatchSummary, DaemonInfo, KeyEvent, NodeRef, NodeStats, RolloutStatus, StatsEvent } from "../../control/api_types.js";
import { randomBytes } from "node:crypto";
import { Rollout } from "./rollout.js";
import { BatchBook } from "./batch_book.js";
import type { BatchListItem } from "../../control/stream_types.js";
import type { BatchRequest, ControlBackend, KeyOpRequest, KeyOpStart, SignedEnvelope, StatsRequest, StatsStart } from "../api/backend.js";
import { type BatchNode, checkBatchHandler } from "./batch_handler.js";
import { ClusterMetrics } from "./metrics.js";
import { LazyMetrics } from "../api/lazy_metrics.js";
import type { Health } from "../api/metrics_server.js";
import { type CommonEvent, followReplies } from "./follow.js";
import { keyFingerprint } from "../../control/fingerprint.js";
import { StatsCollector } from "../stats/collector.js";
import { encodeStatsRequest, fromWireStats, statsRequestHandler } from "../stats/wire.js";
import { encodeKeyOp } from "../../control/key_op.js";
import { isTargeted } from "../../control/targeting.js";
import { keyOpHandler } from "./key_op_handler.js";
import type { Watch } from "./watch.js";
import type { Timer } from "../../base/clock.js";
import { errorMessage } from "../../base/result.js";
import type { HistoryEvent, NodeHistoryAnswer, ScheduleInfo } from "../../control/watch_types.js";
import type { TriggerSpec } from "../../triggers/index.js";
import type { HistoryRequest, HistoryStart, ResultsRequest, ScheduleChange, ScheduleRemoveRequest, ScheduleSetRequest } from "../api/backend.js";
import { type CoordinatorConfig, CoordinatorWatch } from "./coordinator_watch.js";
import type { ChannelMessage, ChannelPublishResponse, CoordinatorChange, EventStreamEvent, QueryStreamEvent } from "../../control/talk_types.js";
import type { EventRequest, QueryRequest, TalkStart } from "../api/backend.js";
import { encodeQuery, encodeUserEvent, newTalkCounters, queryHandler, userEventHandler } from "./user_events.js";
import { eventStream, queryStream } from "./talk_origin.js";
import { registerTalkMetrics } from "./talk_metrics.js";
import type { ChannelOutcome } from "../api/backend.js";
import { Channels } from "./channels.js";
import { channelMetrics } from "./channel_metrics.js";

/*
 * The daemon's backend: one node of the cluster. The membership (swim) says
 * who is alive; dissemination (gossip) spreads a submitted batch or key
 * operation to every node and brings each node's answer back here; this
 * class turns both into what the control API streams to gcheck, and is the
 * local consumer of the envelopes other nodes publish. A one-node cluster is
 * the same code with nobody else in the member list.
 */

export interface ClusterBackendOptions {
  transport: Transport;
  swim: Swim;
  gossip: Disseminator;
  /** This node as the batch handler sees it (name, tags, -no-actions, -trusted-keys). */
  node: BatchNode;
  version: string;
  /** The keyring the transport seals with (key operations change it in place); null without a key. */
  keyring: Keyring | null;
  /** Saves the keyring after a key operation changed it. */
  saveKeyring: (k: Keyring) => void;
  log: Logger;
  clock?: Clock;
  /** Where the node defines its metric families (GET /metrics); default: metrics of its own. */
  metrics?: LazyMetrics;
  /** The membership's awarenessMaxMultiplier (src/swim/config.ts): the health score stays below it. Default 8. */
  awarenessMaxMultiplier?: number;
  /** Schedules, triggers, history and quorum (watch.ts); absent: the node only runs what it is sent. */
  watch?: Watch;
  /** -coordinators and -coordinator-quorum (coordinator_watch.ts); default one coordinator, no quorum. */
  coordinator?: CoordinatorConfig;
}

/** Refused connections are summarized in the audit log once per this interval (ms). */
const AUDIT_CONNECTIONS_EVERY_MS = 60_000;
/** The transport counters that say a connection was refused or closed as hostile or broken. */
const REFUSED_CONNECTION_COUNTERS = ["firstFrameRefused", "pendingBudgetClosed", "frameTimeouts", "connectionsEvicted", "connectionsRefusedPerAddress", "connectionsRefused", "undecodable"] as const;

/** Finished rollouts kept for GET /v1/rollouts/:id (running ones are always kept). */
const ROLLOUT_HISTORY = 100;

export class ClusterBackend implements ControlBackend {
  private readonly clock: Clock;
  private readonly startedMs: number;
  private readonly book: BatchBook;
  private readonly memberListeners = new Set<(e: MemberEvent) => void>();
  /** Rollouts this node originated, oldest first. */
  private readonly rolloutBook = new Map<string, Rollout>();
  private readonly nodeMetrics: ClusterMetrics;
  /** The daemon's metrics, this node's families among them. */
  readonly metrics: LazyMetrics;
  private stopping: Promise<void> | null = null;
  private started = false;
  /** none: no seeds other than this node; joining: no seed has answered yet; joined: one has. */
  private joinState: "none" | "joining" | "joined" = "none";
  private seeds: string[] = [];
  private readonly stats: StatsCollector;
  private auditTimer: Timer | undefined;
  /** This node's view of the coordinators (issue 17). */
  readonly coordinator: CoordinatorWatch;
  /** User events and queries (issue 17): user_events.ts, talk_origin.ts. */
  private readonly talk = newTalkCounters();
  private readonly channels: Channels;

  constructor(private readonly o: ClusterBackendOptions) {
    this.clock = o.clock ?? systemClock;
    this.startedMs = this.clock.now();
    this.stats = new StatsCollector({ node: o.node.name, version: o.version, clock: this.clock, self: () => ({ members: o.swim.statusCounts(), daemonUptimeMs: this.clock.now() - this.startedMs }) });
    this.nodeMetrics = new ClusterMetrics({
      node: o.node.name,
      version: o.version,
      uptimeMs: () => this.clock.now() - this.startedMs,
      members: () => o.swim.statusCounts(),
      net: () => o.transport.counters(),
      swim: () => o.swim.counters(),
      gossip: () => o.gossip.counters(),
      stats: () => this.stats.counters(),
    });
    this.book = new BatchBook({ clock: this.clock, ...(o.watch && { ranHere: (limit: number) => o.watch!.recentBatches(limit) }) });
    this.metrics = o.metrics ?? new LazyMetrics();
    this.metrics.add((f) => this.nodeMetrics.register(f));
    o.gossip.onEnvelope(pb.EnvelopeKind.STATS_REQUEST, statsRequestHandler(o.node, this.stats));
    o.gossip.onEnvelope(
      pb.EnvelopeKind.CHECK_BATCH,
      checkBatchHandler(o.node, o.log, (results, env, batch) => {
        this.nodeMetrics.addResults(results);
        o.watch?.recordBatch(env, batch, results);
        this.book.ran(idToHex(env.id), env.origin, env.createdMs, results, batch.dryRun, batch.submitter ?? "");
      }),
    );
    o.gossip.onEnvelope(
      pb.EnvelopeKind.KEY_OP,
      keyOpHandler({
        keyring: o.keyring,
        saveKeyring: o.saveKeyring,
        log: o.log,
        onApplied: (op, origin, outcome) => {
          this.nodeMetrics.keyOps++;
          o.watch?.audit("key-op", `key operation ${op} from ${origin}: ${outcome}`, op);
        },
      }),
    );
    this.coordinator = new CoordinatorWatch({
      self: o.node.name,
      members: () => o.swim.members(),
      config: o.coordinator ?? { count: 1, quorum: false },
      clock: this.clock,
      log: o.log,
      ...(o.watch && { fire: (e) => o.watch!.triggers.fire(e) }),
    });
    this.metrics.add((f) => this.coordinator.register(f));
    this.channels = new Channels({
      gossip: o.gossip,
      localName: o.node.name,
      clock: this.clock,
      isRunning: (node) => this.running().some((m) => m.name === node),
      running: () => this.running().length,
      log: o.log,
    });
    this.metrics.add((f) => channelMetrics(f, () => this.channels.counters()));
    o.swim.onEvent((e) => {
      this.logMemberEvent(e);
      this.coordinator.onMemberEvent(e);
      o.watch?.onMemberEvent(e);
      for (const l of this.memberListeners) l(e);
    });
    const w = o.watch;
    if (w) this.metrics.add((f) => w.metrics.register(f));
    const talk = { node: o.node, handlers: () => o.watch?.triggers, counters: this.talk, clock: this.clock, log: o.log };
    o.gossip.onEnvelope(pb.EnvelopeKind.USER_EVENT, userEventHandler(talk));
    o.gossip.onEnvelope(pb.EnvelopeKind.QUERY, queryHandler(talk));
    this.metrics.add((f) => registerTalkMetrics(f, () => this.talk));
  }

  /** Serves gossip (loads the seen-history from the data dir), then membership. Rejects naming the data dir. */
  async start(): Promise<void> {
    // Its envelope consumers are registered before gossip serves anything.
    await this.o.watch?.start();
    await this.o.gossip.start();
    this.o.swim.start();
    this.coordinator.start();
    this.started = true;
    if (this.o.watch) this.auditConnections(this.o.watch, this.refusedConnections());
  }

  /** What start() left for once the daemon is serving: the history database (Watch.openHistory). */
  finishStart(): void {
    this.o.watch?.openHistory();
  }

  /** Every minute, one audit line for the connections refused since the last one (none: no line). */
  private auditConnections(watch: Watch, before: number): void {
    this.auditTimer = this.clock.setTimeout(() => {
      const now = this.refusedConnections();
      if (now > before)
        watch.audit(
          "connections-refused",
          `${now - before} cluster connections or frames refused in the last minute (oversized first frames, timeouts, evictions, undecodable frames: see gossipcheck_net_* metrics)`,
          "",
        );
      if (!this.stopping) this.auditConnections(watch, now);
    }, AUDIT_CONNECTIONS_EVERY_MS);
  }

  private refusedConnections(): number {
    const c = this.o.transport.counters();
    return REFUSED_CONNECTION_COUNTERS.reduce((n, k) => n + (c[k] ?? 0), 0);
  }

  /** Joins through the seeds in the background (retrying); rejects when a seed refuses this node's name. */
  join(seeds: string[]): Promise<number> {
    this.seeds = seeds;
    if (seeds.length) this.joinState = "joining";
    return this.o.swim.join(seeds).then((answered) => {
      // 0: no seed other than this node, so being alone is what was asked for.
      this.joinState = answered > 0 ? "joined" : "none";
      this.o.watch?.markJoined();
      this.coordinator.markJoined();
      return answered;
    });
  }

  /** One join attempt through a node that discovery heard (-discover): no retries, the seeds unchanged. */
  joinDiscovered(address: string): Promise<void> {
    return this.o.swim.joinOnce(address);
  }

  /**
   * Whether this node is a healthy member (GET /healthz): started and not
   * stopping; not alone when it was given seeds (a node started without
   * -peers, or whose only seed is itself, may be alone); and its Lifeguard
   * health score below its maximum (at the maximum the node keeps missing
   * acks or refuting suspicions about itself: overloaded, or cut off).
   */
  health(): Health {
    const bad = (reason: string): Health => ({ healthy: false, reason });
    if (this.stopping) return bad("the daemon is shutting down");
    if (!this.started) return bad("the membership has not started yet");
    const others = this.running().length - 1;
    const seeds = this.seeds.join(",");
    if (this.joinState === "joining" && others === 0) return bad(`joining: no seed has answered yet (-peers ${seeds})`);
    if (this.joinState === "joined" && others === 0) return bad(`alone: no other member is alive (every member it knew failed or left; -peers ${seeds})`);
    const score = this.o.swim.healthScore();
    const max = (this.o.awarenessMaxMultiplier ?? 8) - 1;
    if (max > 0 && score >= max) return bad(`Lifeguard health score ${score} is at its maximum ${max}: this node keeps missing acks or refuting suspicions about itself (overloaded or cut off)`);
    return { healthy: true, detail: `member of ${others + 1} running, health score ${score}` };
  }

  get isStopping(): boolean {
    return this.stopping !== null;
  }

  /** Graceful leave (others list this node as left, not dead), then everything stops. */
  stop(leaveTimeoutMs: number): Promise<void> {
    this.stopping ??= (async () => {
      await this.o.swim.leave(leaveTimeoutMs);
      this.auditTimer?.cancel();
      this.coordinator.stop();
      await this.o.watch?.stop();
      this.channels.close();
      await this.o.gossip.stop();
      this.o.swim.shutdown();
      await this.o.transport.close();
    })();
    return this.stopping;
  }

  /**
   * New tags (a reload, src/daemon/reload.ts): they spread to the cluster as
   * a member update with a new incarnation, and batch and stats targeting
   * here follow at once. Throws, changing nothing, when they are too large.
   */
  setTags(tags: Record<string, string>): void {
    this.o.swim.setTags(tags);
    this.o.node.tags = { ...tags };
    this.o.watch?.retarget();
  }

  /** -checks-dir and -on changed by a reload. */
  async setWatch(checksDir: string | undefined, triggers: TriggerSpec[]): Promise<void> {
    await this.o.watch?.reload(checksDir, triggers);
  }

  /** The operator keys envelopes are admitted by from now on (undefined: signatures optional); a reload's. */
  setTrustedKeys(keys: TrustedKeys | undefined): void {
    if (keys) this.o.node.trustedKeys = keys;
    else delete this.o.node.trustedKeys;
  }

  /** -coordinators or -coordinator-quorum changed by a reload. */
  setCoordinatorConfig(config: CoordinatorConfig): void {
    this.coordinator.setConfig(config);
  }

  /** -no-actions changed by a reload: batches that arrive from now on follow it. */
  setActionsEnabled(on: boolean): void {
    this.o.node.actionsEnabled = on;
  }

  info(): Omit<DaemonInfo, "cliAddress"> {
    const now = this.clock.now();
    return {
      name: this.o.node.name,
      version: this.o.version,
      protocolVersion: PROTOCOL_VERSION,
      address: this.o.transport.address,
      pid: process.pid,
      startedMs: this.startedMs,
      uptimeMs: now - this.startedMs,
      tags: this.o.node.tags,
      actionsEnabled: this.o.node.actionsEnabled,
      members: this.o.swim.statusCounts(),
      counters: this.counters(),
    };
  }

  async localCheck(checks: CheckSpec[]): Promise<CheckResult[]> {
    this.nodeMetrics.localChecks++;
    return runLocalCheck(checks);
  }

  members(): Member[] {
    return this.o.swim.members();
  }

  batches(): BatchSummary[] {
    return this.book.summaries();
  }

  /** Every membership change from now on (the members stream); returns the unsubscribe. */
  watchMembers(listener: (e: MemberEvent) => void): () => void {
    this.memberListeners.add(listener);
    return () => this.memberListeners.delete(listener);
  }

  coordinators(): CoordinatorChange {
    return this.coordinator.current();
  }

  watchCoordinators(listener: (c: CoordinatorChange) => void): () => void {
    return this.coordinator.onChange(listener);
  }

  batchList(): BatchListItem[] {
    return this.book.list();
  }

  watchBatches(listener: (item: BatchListItem) => void): () => void {
    return this.book.onChange(listener);
  }

  followBatch(batchId: string, signal: AbortSignal): AsyncIterable<BatchEvent> | undefined {
    return this.book.follow(batchId, signal);
  }

  async *submitBatch(request: BatchRequest, signal: AbortSignal): AsyncIterable<BatchEvent> {
    if (request.rollout) return yield* this.startRollout(request, signal);
    if (request.on === "coordinator") {
      // Whichever nodes are the coordinators now, by this node's view; the batch names them, so it runs there only.
      const c = this.coordinator.current();
      if (c.coordinators.length === 0) {
        yield { type: "error", error: `no coordinator to run the batch on: ${c.withheld ?? "no member is running"}` };
        return;
      }
      request = { ...request, nodes: c.coordinators, tags: {} };
    }
    const submittedMs = this.clock.now();
    const expected = this.running().filter((m) => isTargeted({ targetNodes: request.nodes, targetTags: request.tags }, m));
    const opts = { ttlMs: request.ttlMs, expected: expected.map((m) => m.name) };
    let published: PublishResult;
    const s = request.signed;
    if (s) {
      // The exact envelope the operator signed; the gossip layer checks that it names this node as origin.
      const env: Envelope = { ...s, kind: pb.EnvelopeKind.CHECK_BATCH };
      published = this.o.gossip.publishEnvelope(env, opts);
    } else {
      const payload = encodeCheckBatch({
        checks: request.checks,
        dryRun: request.dryRun,
        targetNodes: request.nodes,
        targetTags: request.tags,
        ...(request.submitter && { submitter: request.submitter }),
      });
      published = this.o.gossip.publish(pb.EnvelopeKind.CHECK_BATCH, payload, opts);
    }
    const refs = expected.map(nodeRef);
    if (!published.ok) {
      // Nothing spread: every expected node (the origin at least) is told why.
      const batchId = s ? idToHex(s.id) : "";
      yield { type: "accepted", batchId, origin: this.o.node.name, createdMs: s?.createdMs ?? submittedMs, ttlMs: request.ttlMs, expected: refs };
      for (const n of refs.length ? refs : [nodeRef(this.self())]) yield { type: "rejected", node: n.name, address: n.address, reason: `not published by ${this.o.node.name}: ${published.error}` };
      yield { type: "done", elapsedMs: this.clock.now() - submittedMs, timedOut: false };
      return;
    }
    const pub = published.publication;
    this.nodeMetrics.batchesSubmitted++;
    const descriptions = descriptionsOf(request.checks);
    this.remember(pub, request, descriptions, expected.map(nodeRef), submittedMs);
    yield { type: "accepted", batchId: pub.idHex, origin: this.o.node.name, createdMs: pub.envelope.createdMs, ttlMs: pub.envelope.ttlMs, expected: refs };
    yield* this.replies<BatchEvent>(pub, refs, submittedMs, request.timeoutMs, signal, (reply, elapsedMs) =>
      reply.checks ? { type: "result", node: reply.node, address: reply.address, results: fromWireReport(reply.checks, descriptions), elapsedMs } : null,
    );
  }

  /**
   * A rollout (rollout.ts): planned from the targeted running members now,
   * each wave published here as its own batch targeted at its nodes. The
   * rollout outlives the client's stream (abort, status, -detach).
   */
  private startRollout(request: BatchRequest, signal: AbortSignal): AsyncGenerator<BatchEvent> {
    const spec = request.rollout!;
    const id = randomBytes(16).toString("hex");
    const targeted = this.running().filter((m) => isTargeted({ targetNodes: request.nodes, targetTags: request.tags }, m));
    const plan = request.signedWaves?.map((w) => w.nodes);
    const descriptions = descriptionsOf(request.checks);
    const rollout = new Rollout(spec, {
      ...(plan && { plan }),
      descriptions,
      id,
      origin: this.o.node.name,
      clock: this.clock,
      log: this.o.log,
      members: targeted.map((m) => ({ name: m.name, tags: m.tags, address: m.address })),
      isRunning: (node) => {
        const status = this.o.swim.member(node)?.status;
        return status === "alive" || status === "suspect";
      },
      addressOf: (node) => this.o.swim.member(node)?.address,
      publish: (nodes, wave) => {
        const publishedMs = this.clock.now();
        const signed = request.signedWaves?.[wave - 1]?.signed;
        // A signed wave is published exactly as signed (its targets are in its payload); nodes are only whom to wait for.
        const published = signed
          ? this.o.gossip.publishEnvelope({ ...signed, kind: pb.EnvelopeKind.CHECK_BATCH }, { expected: nodes })
          : this.o.gossip.publish(
              pb.EnvelopeKind.CHECK_BATCH,
              encodeCheckBatch({ checks: request.checks, dryRun: request.dryRun, targetNodes: nodes, targetTags: request.tags, ...(request.submitter && { submitter: request.submitter }) }),
              {
                ttlMs: request.ttlMs,
                expected: nodes,
              },
            );
        if (!published.ok) return published;
        this.nodeMetrics.batchesSubmitted++;
        this.remember(
          published.publication,
          request,
          descriptions,
          nodes.map((n) => ({ name: n, address: this.o.swim.member(n)?.address ?? "" })),
          publishedMs,
        );
        return { ok: true, pub: published.publication };
      },
      timeoutMs: request.timeoutMs,
      ttlMs: request.ttlMs,
    });
    this.rolloutBook.set(id, rollout);
    for (const [old, r] of this.rolloutBook) {
      if (this.rolloutBook.size <= ROLLOUT_HISTORY) break;
      if (r.finished) this.rolloutBook.delete(old);
    }
    this.o.log.info({ rollout: id, mode: spec.mode, nodes: targeted.length }, `rollout ${id} started (${spec.mode}, ${targeted.length} targeted nodes)`);
    rollout.start();
    return rollout.events(signal);
  }

  rollouts(): RolloutStatus[] {
    return [...this.rolloutBook.values()].map((r) => r.status()).reverse();
  }

  rollout(id: string): RolloutStatus | undefined {
    return this.rolloutBook.get(id)?.status();
  }

  abortRollout(id: string): RolloutStatus | undefined {
    const r = this.rolloutBook.get(id);
    r?.abort();
    return r?.status();
  }

  schedules(): ScheduleInfo[] {
    return this.o.watch?.schedules() ?? [];
  }

  schedule(name: string): ScheduleInfo | undefined {
    return this.o.watch?.schedule(name);
  }

  setSchedule(request: ScheduleSetRequest): ScheduleChange {
    return this.o.watch ? this.o.watch.setSchedule(request) : { ok: false, status: 501, error: "this node runs no schedules" };
  }

  removeSchedule(request: ScheduleRemoveRequest): ScheduleChange {
    return this.o.watch ? this.o.watch.removeSchedule(request) : { ok: false, status: 501, error: "this node runs no schedules" };
  }

  batchResults(request: ResultsRequest, signal: AbortSignal): HistoryStart<BatchEvent> {
    const query = { what: "results", batchId: Buffer.from(request.batchId, "hex") };
    const started = this.askHistory(query, request);
    if (!started.ok) return started;
    const { pub, refs, submittedMs } = started;
    const origin = this.o.node.name;
    const replies = this.replies<BatchEvent>(pub, refs, submittedMs, request.timeoutMs, signal, (reply, elapsedMs) => {
      const answer = historyAnswer(reply);
      if (!answer) return null;
      if (answer.what === "results" && answer.batch?.results) return { type: "result", node: reply.node, address: reply.address, results: answer.batch.results, elapsedMs };
      const why = answer.what === "error" ? answer.error : `did not run batch ${request.batchId} (not targeted, not yet arrived, or pruned from its history)`;
      return { type: "rejected", node: reply.node, address: reply.address, reason: why };
    });
    return {
      ok: true,
      events: (async function* () {
        yield { type: "accepted", batchId: request.batchId, origin, createdMs: submittedMs, ttlMs: request.timeoutMs, expected: refs } satisfies BatchEvent;
        yield* replies;
      })(),
    };
  }

  clusterHistory(what: "history" | "status", request: HistoryRequest, signal: AbortSignal): HistoryStart<HistoryEvent> {
    const query = { what, check: request.check ?? "", sinceMs: request.sinceMs ?? 0, status: request.status ?? "", limit: request.limit, audit: request.audit === true };
    const started = this.askHistory(query, request);
    if (!started.ok) return started;
    const { pub, refs } = started;
    const accepted: HistoryEvent = { type: "accepted", id: pub.idHex, origin: this.o.node.name, createdMs: pub.envelope.createdMs, expected: refs };
    return {
      ok: true,
      events: this.acceptedThenReplies<HistoryEvent>(accepted, pub, refs, request.timeoutMs, signal, (reply, elapsedMs) => {
        const answer = historyAnswer(reply);
        if (!answer) return null;
        if (answer.what === "error") return { type: "rejected", node: reply.node, address: reply.address, reason: answer.error };
        return { type: "answer", node: reply.node, address: reply.address, answer, elapsedMs };
      }),
    };
  }

  /** Publishes a HISTORY_QUERY to the targeted running members (TTL = the wait). */
  private askHistory(
    query: pb.HistoryQuery.$Properties,
    request: { nodes: string[]; tags: Record<string, string>; timeoutMs: number },
  ): { ok: true; pub: Publication; refs: NodeRef[]; submittedMs: number } | { ok: false; error: string } {
    const submittedMs = this.clock.now();
    const expected = this.running().filter((m) => isTargeted({ targetNodes: request.nodes, targetTags: request.tags }, m));
    const payload = pb.HistoryQuery.encode({ ...query, targetNodes: request.nodes, targetTags: request.tags }).finish();
    const published = this.o.gossip.publish(pb.EnvelopeKind.HISTORY_QUERY, payload, { ttlMs: request.timeoutMs, expected: expected.map((m) => m.name) });
    if (!published.ok) return { ok: false, error: `the history question was not published: ${published.error}` };
    return { ok: true, pub: published.publication, refs: expected.map(nodeRef), submittedMs };
  }

  refuseSigned(kind: "batch" | "key operation", signed: SignedEnvelope): { status: number; error: string } | null {
    const env: Envelope = { ...signed, kind: kind === "batch" ? pb.EnvelopeKind.CHECK_BATCH : pb.EnvelopeKind.KEY_OP };
    const own = verifyOwnSignature(env);
    if (own !== "ok") {
      return { status: 400, error: `the signed ${kind} does not verify against the key it names (${own}): it was changed after signing; sign it again (gcheck -sign-key)` };
    }
    // The signature verified against its key just now: whether that key is trusted is a look-up.
    const trusted = this.o.node.trustedKeys;
    if (trusted && !isTrustedSigner(trusted, signed.signerKey)) {
      return {
        status: 403,
        error: `the signed ${kind} is signed by a key this node does not trust (fingerprint ${keyFingerprint(signed.signerKey)}): put its public key in -trusted-keys on every node, or sign with a trusted key`,
      };
    }
    return null;
  }

  keyOp(request: KeyOpRequest, signal: AbortSignal): KeyOpStart {
    if (!this.o.keyring) {
      return { ok: false, error: "this cluster runs without a key: start every daemon with -key-file (gcheck keygen > key), then rotate keys with gcheck keys" };
    }
    const expected = this.running();
    // Short-lived: a node that was away while the operator waited should not
    // apply an old rotation step out of order when it comes back.
    const names = expected.map((m) => m.name);
    const s = request.signed;
    const published = s
      ? // The exact envelope the operator signed (its TTL is the signer's).
        this.o.gossip.publishEnvelope({ ...s, kind: pb.EnvelopeKind.KEY_OP }, { expected: names })
      : this.o.gossip.publish(pb.EnvelopeKind.KEY_OP, encodeKeyOp(request.op, request.key), { ttlMs: request.timeoutMs, expected: names });
    if (!published.ok) return { ok: false, error: `the key operation was not published: ${published.error}` };
    const pub = published.publication;
    const refs = expected.map(nodeRef);
    const accepted: KeyEvent = { type: "accepted", id: pub.idHex, op: request.op, origin: this.o.node.name, createdMs: pub.envelope.createdMs, expected: refs };
    return {
      ok: true,
      events: this.acceptedThenReplies<KeyEvent>(accepted, pub, refs, request.timeoutMs, signal, (reply, elapsedMs) =>
        reply.keys
          ? { type: "result", node: reply.node, address: reply.address, ok: reply.keys.ok === true, ...(reply.keys.error ? { error: reply.keys.error } : {}), keys: reply.keys.keys ?? [], elapsedMs }
          : null,
      ),
    };
  }

  localStats(): Promise<NodeStats> {
    return this.stats.collect();
  }

  clusterStats(request: StatsRequest, signal: AbortSignal): StatsStart {
    const expected = this.running().filter((m) => isTargeted({ targetNodes: request.nodes, targetTags: request.tags }, m));
    // TTL = the wait: a node that gets the request later would answer a question nobody is asking any more.
    const published = this.o.gossip.publish(pb.EnvelopeKind.STATS_REQUEST, encodeStatsRequest(request), { ttlMs: request.timeoutMs, expected: expected.map((m) => m.name) });
    if (!published.ok) return { ok: false, error: `the stats request was not published: ${published.error}` };
    const pub = published.publication;
    const refs = expected.map(nodeRef);
    const accepted: StatsEvent = { type: "accepted", id: pub.idHex, origin: this.o.node.name, createdMs: pub.envelope.createdMs, expected: refs };
    return {
      ok: true,
      events: this.acceptedThenReplies<StatsEvent>(accepted, pub, refs, request.timeoutMs, signal, (reply, elapsedMs) =>
        reply.stats ? { type: "result", node: reply.node, address: reply.address, stats: fromWireStats(reply.node, reply.stats), elapsedMs } : null,
      ),
    };
  }

  /** A user event (issue 17): TTL = the wait, so a node that comes back within it still gets it, and none later. */
  submitEvent(request: EventRequest, signal: AbortSignal): TalkStart<EventStreamEvent> {
    const { name, payload, nodes, tags, waitHandlers, submitter = "" } = request;
    const encoded = encodeUserEvent({ name, payload, targetNodes: nodes, targetTags: tags, waitHandlers, submitter });
    this.talk.eventsPublished++;
    return eventStream(this.publishTalk(pb.EnvelopeKind.USER_EVENT, encoded, request, signal), name, payload.length);
  }

  /** A query (issue 17): TTL = the wait; each node answers before it (user_events.ts). */
  submitQuery(request: QueryRequest, signal: AbortSignal): TalkStart<QueryStreamEvent> {
    const { name, payload, nodes, tags, submitter = "" } = request;
    this.talk.queriesPublished++;
    return queryStream(this.publishTalk(pb.EnvelopeKind.QUERY, encodeQuery({ name, payload, targetNodes: nodes, targetTags: tags, submitter }), request, signal), name);
  }

  private publishTalk(kind: pb.EnvelopeKind, payload: Uint8Array, request: { nodes: string[]; tags: Record<string, string>; timeoutMs: number }, signal: AbortSignal) {
    const submittedMs = this.clock.now();
    const expected = this.running().filter((m) => isTargeted({ targetNodes: request.nodes, targetTags: request.tags }, m));
    const refs = expected.map(nodeRef);
    return {
      published: this.o.gossip.publish(kind, payload, { ttlMs: request.timeoutMs, expected: expected.map((m) => m.name) }),
      expected: refs,
      origin: this.o.node.name,
      follow: <E>(pub: Publication, toEvent: (reply: pb.NodeReply, elapsedMs: number) => E | null) => this.replies<E>(pub, refs, submittedMs, request.timeoutMs, signal, toEvent),
    };
  }

  /** The stream of a key operation or stats request: its accepted event, then each node's reply (timed from now). */
  private acceptedThenReplies<E>(
    accepted: E,
    pub: Publication,
    refs: NodeRef[],
    timeoutMs: number,
    signal: AbortSignal,
    toEvent: (reply: pb.NodeReply, elapsedMs: number) => E | null,
  ): AsyncGenerator<E | CommonEvent> {
    const submittedMs = this.clock.now();
    const replies = () => this.replies<E>(pub, refs, submittedMs, timeoutMs, signal, toEvent);
    return (async function* () {
      yield accepted;
      yield* replies();
    })();
  }

  publishChannel(channel: string, data: Uint8Array, node?: string): ChannelOutcome<ChannelPublishResponse> {
    return this.channels.publish(channel, data, node);
  }

  subscribeChannel(channel: string, listener: (msg: ChannelMessage) => void): ChannelOutcome<() => void> {
    return this.channels.subscribe(channel, listener);
  }

  /** Follows a publication for one client (follow.ts), finding addresses in the expected set or the member list. */
  private replies<E>(
    pub: Publication,
    refs: NodeRef[],
    submittedMs: number,
    timeoutMs: number,
    signal: AbortSignal,
    toEvent: (reply: pb.NodeReply, elapsedMs: number) => E | null,
  ): AsyncGenerator<E | CommonEvent> {
    const addressOf = (node: string) => refs.find((r) => r.name === node)?.address ?? this.o.swim.member(node)?.address;
    return followReplies(pub, { submittedMs, timeoutMs, signal, clock: this.clock, addressOf }, toEvent);
  }

  /** Members worth waiting for: alive or suspect (a suspect usually is alive), this node included. */
  private running(): Member[] {
    return this.o.swim.members().filter((m) => m.status === "alive" || m.status === "suspect");
  }

  private self(): Member {
    return this.o.swim.member(this.o.node.name)!;
  }

  /** Into the batch book; descriptions: descriptionsOf(request.checks), computed once per batch or rollout. */
  private remember(pub: Publication, request: BatchRequest, descriptions: ReadonlyMap<string, string>, expected: NodeRef[], submittedMs: number): void {
    const b = {
      checks: request.checks.length,
      descriptions,
      dryRun: request.dryRun,
      expected,
      submittedMs,
      ...(request.submitter && { submitter: request.submitter }),
    };
    this.book.add(pub, b, (ms) => this.nodeMetrics.batchRoundTrip(ms));
  }

  private counters(): Record<string, number> {
    return {
      ...prefixed("net_", this.o.transport.counters()),
      ...prefixed("swim_", this.o.swim.counters()),
      ...prefixed("gossip_", { ...this.o.gossip.counters() }),
      ...prefixed("stats_", { ...this.stats.counters() }),
    };
  }

  private logMemberEvent(e: MemberEvent): void {
    const m = e.member;
    if (m.name === this.o.node.name) return;
    const fields = { member: m.name, address: m.address, incarnation: m.incarnation, event: e.type };
    if (e.type === "join") this.o.log.info(fields, `member ${m.name} joined (${m.address})`);
    else if (e.type === "fail") this.o.log.info(fields, `member ${m.name} failed: declared dead`);
    else if (e.type === "leave") this.o.log.info(fields, `member ${m.name} left`);
    else this.o.log.debug(fields, `member ${m.name}: ${e.type}`);
  }
}

/** A node's history answer, decoded; null for a reply of another kind. A garbled one is an error answer, never a throw. */
function historyAnswer(reply: pb.NodeReply): NodeHistoryAnswer | { what: "error"; error: string } | null {
  if (!reply.history) return null;
  try {
    return JSON.parse(reply.history.json ?? "") as NodeHistoryAnswer | { what: "error"; error: string };
  } catch (err) {
    return { what: "error", error: `${reply.node} sent an unreadable history answer (${errorMessage(err)})` };
  }
}

function nodeRef(m: Member): NodeRef {
  return { name: m.name, address: m.address };
}

function prefixed(prefix: string, o: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) out[prefix + k] = v;
  return out;
}
