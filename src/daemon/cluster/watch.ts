import type { Clock } from "../../base/clock.js";
import type { Logger } from "../../base/logger.js";
import type { Random } from "../../base/random.js";
import { errorMessage } from "../../base/result.js";
import type { CheckBatch } from "../../checks/codec.js";
import { runBatch, type RunOptions } from "../../checks/index.js";
import type { CheckResult, CheckStatus } from "../../checks/types.js";
import { keyFingerprint } from "../../control/fingerprint.js";
import { checkDocument } from "../../control/check_document.js";
import { encodeSchedule } from "../../control/schedule_codec.js";
import { missingIntervalProblem, scheduleNameProblem } from "../../control/schedule_rules.js";
import { isTargeted } from "../../control/targeting.js";
import type { BatchRecord, CheckState, NodeHistoryAnswer, QuorumVerdict, ScheduleInfo } from "../../control/watch_types.js";
import type { Disseminator, ReplyBody, StandingEnvelopes } from "../../gossip/disseminator.js";
import { idToHex, type Envelope } from "../../gossip/envelope.js";
import { isSigned } from "../../gossip/signing.js";
import { openHistory, type HistoryStore } from "../../history/index.js";
import { pb } from "../../proto/index.js";
import { QuorumBook, type VoteIn } from "../../quorum/index.js";
import { loadChecksDir } from "../../schedule/index.js";
import { Scheduler, type ScheduleSet } from "../../schedule/index.js";
import type { Member, MemberEvent } from "../../swim/types.js";
import { TriggerRunner } from "../../triggers/index.js";
import type { TriggerEvent, TriggerSpec } from "../../triggers/index.js";
import type { ScheduleChange, ScheduleRemoveRequest, ScheduleSetRequest } from "../api/backend.js";
import type { BatchNode } from "./batch_handler.js";
import { ScheduleBook, type StoredSchedule } from "./schedule_book.js";
import { WatchMetrics } from "./watch_metrics.js";

/*
 * The always-on side of a node (issue 14), wired here and nowhere else:
 * - cluster-wide schedules (ScheduleBook: SCHEDULE envelopes, newest
 *   version wins, handed over in push-pull) and -checks-dir's local ones
 *   feed the Scheduler, which runs the checks this node is targeted by;
 * - every transition of a scheduled check is logged, counted, stored in the
 *   history, handed to the triggers, and, for a quorum check, published as
 *   a vote (VOTE envelope) that every voter's QuorumBook tallies;
 * - every batch this node runs is stored in the history; HISTORY_QUERY
 *   envelopes are answered from the history and the scheduler's states;
 * - membership events go to the triggers (from the moment this node has
 *   joined: the members it finds when it joins are not "joins").
 * The history is optional: a node whose database cannot be opened keeps
 * checking, says why in every history answer, and counts it.
 */

/** A schedule's envelope spreads by burst and anti-entropy this long; push-pull carries it after that. */
export const SCHEDULE_TTL_MS = 60 * 60_000;
/** Votes are transitions: they matter while fresh; a joiner hears the failing ones again (republish on join). */
const VOTE_TTL_MS = 10 * 60_000;
/** Rows a history answer carries at most (each node; the API's limit is lower or equal). */
const MAX_ANSWER_ROWS = 1000;
/** A history answer's JSON at most (bytes): a reply is one frame (16 MiB by default), and many arrive at once at the asking node. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export interface WatchOptions {
  node: BatchNode;
  gossip: Disseminator;
  members: () => Member[];
  clock: Clock;
  random: Random;
  log: Logger;
  dataDir: string | null;
  checksDir?: string;
  triggers: TriggerSpec[];
  historyRetentionMs: number;
  historyMaxBytes: number;
  flapMaxActions: number;
  flapWindowMs: number;
  /** Why this node refuses an envelope now (the gossip layer's admission), or null. */
  refusal: (env: Envelope) => string | null;
  /** How scheduled checks are evaluated; default: by their type. Simulations inject outcomes (RunOptions.evaluate). */
  evaluate?: RunOptions["evaluate"];
}

export class Watch {
  readonly book: ScheduleBook;
  readonly scheduler: Scheduler;
  readonly triggers: TriggerRunner;
  readonly quorum: QuorumBook;
  readonly metrics: WatchMetrics;
  /** The history, once opened (openHistory; null: it could not be, historyError says why); undefined until then. */
  private historyStore: HistoryStore | null | undefined;
  private historyError: string | undefined;
  private localSets: ScheduleSet[] = [];
  private localLoadedMs = 0;
  private checksDir: string | undefined;
  private joined = false;
  private stopped = false;

  constructor(private readonly o: WatchOptions) {
    this.checksDir = o.checksDir;
    this.metrics = new WatchMetrics({
      states: () => this.states(),
      scheduler: () => this.scheduler.counters(),
      triggers: () => this.triggers.counters(),
      history: () => this.historyStore?.counters(),
    });
    this.book = new ScheduleBook({ dataDir: o.dataDir, clock: o.clock, log: o.log, admit: o.refusal });
    this.quorum = new QuorumBook({ self: o.node.name, clock: o.clock });
    this.triggers = new TriggerRunner({ triggers: o.triggers, node: { name: o.node.name, address: "" }, clock: o.clock, log: o.log });
    this.scheduler = new Scheduler({
      clock: o.clock,
      random: o.random,
      log: o.log,
      node: o.node.name,
      config: { maxActionRuns: o.flapMaxActions, flapWindowMs: o.flapWindowMs },
      actionsEnabled: () => o.node.actionsEnabled,
      run: (checks, r) =>
        runBatch(checks, {
          batchId: r.batchId,
          node: o.node.name,
          runActions: r.runActions,
          allowCommands: o.node.actionsEnabled,
          ...(r.skipReason !== undefined && { skipReason: r.skipReason }),
          ...(o.evaluate && { evaluate: o.evaluate }),
        }),
      onTransition: (t) => this.onTransition(t),
      onSuppressed: (e) => {
        // Logged and counted by the scheduler; the audit log keeps it.
        this.audit("action-suppressed", `check ${e.check} of schedule ${e.schedule}: action suppressed after ${e.runsInWindow} runs in ${Math.round(e.windowMs / 1000)} s`, `${e.schedule}/${e.check}`);
      },
    });
  }

  /**
   * The history database, opened on first use. The daemon opens it right
   * after it is serving (openHistory): loading SQLite and opening the file
   * is about a tenth of a start's CPU, and nothing before that needs it.
   */
  private get history(): HistoryStore | null {
    if (this.historyStore === undefined) this.openHistory();
    return this.historyStore ?? null;
  }

  /** Opens the history now if it is not yet open (or known to be off); logs why when it cannot be. */
  openHistory(): void {
    if (this.historyStore !== undefined || this.stopped) return;
    this.historyStore = null;
    if (!this.o.dataDir) {
      this.historyError = "this node has no data dir";
      return;
    }
    const opened = openHistory(this.o.dataDir, { config: { retentionMs: this.o.historyRetentionMs, maxBytes: this.o.historyMaxBytes }, clock: this.o.clock, log: this.o.log });
    if (opened.ok) this.historyStore = opened.value;
    else {
      this.historyError = opened.error;
      this.o.log.error({ dataDir: this.o.dataDir, err: opened.error }, `history is off: ${opened.error} (checks, schedules and triggers keep working)`);
    }
  }

  /** Reads the schedules (data dir, -checks-dir) and starts running them. Registers the envelope consumers: call before gossip starts. The history opens on first use, or when openHistory is called. */
  async start(): Promise<void> {
    this.book.load();
    await this.loadLocal();
    this.o.gossip.onEnvelope(pb.EnvelopeKind.SCHEDULE, async (env) => {
      this.applySchedule(env, "gossip");
      return null;
    });
    this.o.gossip.onEnvelope(pb.EnvelopeKind.VOTE, async (env) => {
      this.applyVotes(env);
      return null;
    });
    this.o.gossip.onEnvelope(pb.EnvelopeKind.HISTORY_QUERY, async (env) => this.answerQuery(env));
    this.refresh();
  }

  /** The standing envelopes for the gossip layer's push-pull (schedules, tombstones included). */
  standing(): StandingEnvelopes {
    return { envelopes: () => this.book.envelopes(), known: (env) => this.book.has(env), accept: (env) => this.applySchedule(env, "push-pull") };
  }

  /** From now on membership events are events (the members found on joining are not). */
  markJoined(): void {
    this.joined = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.scheduler.stop();
    await this.triggers.stop();
    try {
      this.historyStore?.close();
    } catch (err) {
      this.o.log.warn({ err: errorMessage(err) }, `closing the history database: ${errorMessage(err)}`);
    }
  }

  /** SIGHUP: -checks-dir read again, -on replaced. */
  async reload(checksDir: string | undefined, triggers: TriggerSpec[]): Promise<void> {
    this.checksDir = checksDir;
    this.triggers.setTriggers(triggers);
    await this.loadLocal();
    this.refresh();
  }

  // ---- membership ----

  onMemberEvent(e: MemberEvent): void {
    const m = e.member;
    // Who runs a schedule and who votes changes with the member list; a member that left takes its votes along.
    if (e.type === "leave") this.quorum.forgetNode(m.name);
    this.refreshQuorum();
    if (!this.joined || m.name === this.o.node.name) return;
    const event = e.type === "join" ? "member-join" : e.type === "leave" ? "member-leave" : e.type === "fail" ? "member-failed" : e.type === "update" ? "member-update" : null;
    if (!event) return;
    this.triggers.fire({ event, atMs: this.o.clock.now(), member: { name: m.name, address: m.address, tags: m.tags, status: m.status } });
    // A joiner does not know the failing votes cast before it came: tell it ours.
    if (e.type === "join") this.publishVotes(this.quorum.ownVotes().filter((v) => failing(v.status)));
  }

  // ---- schedules ----

  schedules(): ScheduleInfo[] {
    return [...this.book.active().map((s) => this.info(s, false)), ...this.localSets.map((s) => this.localInfo(s, false))];
  }

  schedule(name: string): ScheduleInfo | undefined {
    const s = this.book.get(name);
    if (s) return this.info(s, true);
    const local = this.localSets.find((l) => l.name === name);
    return local && this.localInfo(local, true);
  }

  /** A -checks-dir file's schedule: this node's alone. */
  private localInfo(s: ScheduleSet, withDocument: boolean): ScheduleInfo {
    return {
      name: s.name,
      // When -checks-dir was last read (at start or on SIGHUP).
      version: this.localLoadedMs,
      id: "",
      origin: this.o.node.name,
      submitter: "",
      signer: "",
      checks: s.checks.length,
      nodes: [this.o.node.name],
      tags: {},
      runsHere: true,
      source: "local",
      ...(withDocument && { document: checkDocument(s.checks) }),
    };
  }

  setSchedule(r: ScheduleSetRequest): ScheduleChange {
    const problem = scheduleNameProblem(r.name, "name");
    if (problem) return { ok: false, status: 400, error: problem };
    if (r.name.startsWith("local:")) return { ok: false, status: 409, error: `schedule names starting with "local:" belong to -checks-dir files; choose another name` };
    const unscheduled = missingIntervalProblem(r.checks, "checks");
    if (unscheduled) return { ok: false, status: 400, error: unscheduled };
    const version = Math.max(this.o.clock.now(), this.book.versionOf(r.name) + 1);
    const batch: CheckBatch = { checks: r.checks, dryRun: false, targetNodes: r.nodes, targetTags: r.tags };
    return this.publishSchedule(r.signed, () => encodeSchedule({ name: r.name, version, removed: false, batch, submitter: r.submitter }), r.name, r.submitter, false);
  }

  removeSchedule(r: ScheduleRemoveRequest): ScheduleChange {
    if (!this.book.get(r.name)) {
      const local = this.localSets.some((l) => l.name === r.name);
      return {
        ok: false,
        status: local ? 409 : 404,
        error: local ? `${r.name} is a file of -checks-dir on ${this.o.node.name}: remove the file there and reload` : `no schedule named ${JSON.stringify(r.name)} (gcheck schedule list shows them)`,
      };
    }
    const version = Math.max(this.o.clock.now(), this.book.versionOf(r.name) + 1);
    const batch: CheckBatch = { checks: [], dryRun: false, targetNodes: [], targetTags: {} };
    return this.publishSchedule(r.signed, () => encodeSchedule({ name: r.name, version, removed: true, batch, submitter: r.submitter }), r.name, r.submitter, true);
  }

  private publishSchedule(signed: ScheduleSetRequest["signed"], payload: () => Uint8Array, name: string, submitter: string, removal: boolean): ScheduleChange {
    // Refused here before anything spreads: what this node would refuse from a peer, its peers with the same keys refuse too.
    if (!signed && this.o.node.trustedKeys)
      return {
        ok: false,
        status: 403,
        error: `${this.o.node.name} accepts only schedules signed by a trusted key (-trusted-keys): sign it with gcheck schedule ${removal ? "remove" : "set"} -sign-key`,
      };
    if (signed) {
      const refusal = this.o.refusal({ ...signed, kind: pb.EnvelopeKind.SCHEDULE });
      if (refusal) return { ok: false, status: 403, error: `${this.o.node.name} refuses the signed schedule: ${refusal}` };
    }
    const published = signed
      ? this.o.gossip.publishEnvelope({ ...signed, kind: pb.EnvelopeKind.SCHEDULE }, {})
      : this.o.gossip.publish(pb.EnvelopeKind.SCHEDULE, payload(), { ttlMs: SCHEDULE_TTL_MS });
    if (!published.ok) return { ok: false, status: 400, error: `the schedule was not published: ${published.error}` };
    const env = published.publication.envelope;
    // The local consumer applies it too (asynchronously); applying now makes the answer exact.
    const outcome = this.applySchedule(env, "api");
    if (outcome === "refused") return { ok: false, status: 403, error: `this node refuses the schedule: ${this.book.lastRefusal ?? "see the daemon log"}` };
    const now = this.book.byId(idToHex(env.id));
    if (!now) return { ok: false, status: 409, error: `a newer version of ${name} is already in force (gcheck schedule show ${name})` };
    this.o.log.info(
      { schedule: name, version: now.schedule.version, submitter, removed: removal },
      `schedule ${name} ${removal ? "removed" : "set"} (version ${now.schedule.version}) by ${submitter || "an unnamed submitter"}`,
    );
    return { ok: true, change: { name, version: now.schedule.version, id: idToHex(env.id), removed: removal } };
  }

  /** Applies a SCHEDULE envelope from anywhere; the scheduler follows a newer version at once. */
  private applySchedule(env: Envelope, via: string): "newer" | "same-or-older" | "refused" {
    const r = this.book.apply(env);
    if (r.kind === "refused") {
      this.o.log.warn({ envelope: idToHex(env.id), origin: env.origin, via, reason: r.reason }, `refused a schedule from ${env.origin} (${via}): ${r.reason}`);
      this.audit("schedule-refused", `schedule from ${env.origin} via ${via} refused: ${r.reason}`, idToHex(env.id));
      return "refused";
    }
    if (r.kind === "same-or-older") return "same-or-older";
    const s = r.now.schedule;
    const signer = isSigned(env) ? ` signed by ${keyFingerprint(env.signerKey)}` : "";
    this.audit(
      s.removed ? "schedule-remove" : "schedule-set",
      `schedule ${s.name} version ${s.version} ${s.removed ? "removed" : `set (${s.batch.checks.length} checks)`} by ${s.submitter || "?"} through ${env.origin}${signer}`,
      s.name,
    );
    if (via !== "api")
      this.o.log.info(
        { schedule: s.name, version: s.version, origin: env.origin, via, removed: s.removed },
        `schedule ${s.name} ${s.removed ? "removed" : "now at"} version ${s.version} (from ${env.origin}, ${via})`,
      );
    if (!this.stopped) this.refresh();
    return "newer";
  }

  private info(s: StoredSchedule, withDocument: boolean): ScheduleInfo {
    const b = s.schedule.batch;
    return {
      name: s.schedule.name,
      version: s.schedule.version,
      id: idToHex(s.env.id),
      origin: s.env.origin,
      submitter: s.schedule.submitter,
      signer: ScheduleBook.signer(s.env),
      checks: b.checks.length,
      nodes: b.targetNodes,
      tags: b.targetTags,
      runsHere: isTargeted(b, this.o.node),
      source: "cluster",
      ...(withDocument && { document: checkDocument(b.checks) }),
    };
  }

  private async loadLocal(): Promise<void> {
    if (!this.checksDir) {
      this.localSets = [];
      return;
    }
    const loaded = await loadChecksDir(this.checksDir);
    this.localLoadedMs = this.o.clock.now();
    for (const e of loaded.errors) this.o.log.error({ checksDir: this.checksDir, err: e }, `-checks-dir: ${e}`);
    this.localSets = loaded.sets;
  }

  /** What this node runs now: the cluster schedules that target it, and its local ones. */
  private refresh(): void {
    const cluster: ScheduleSet[] = this.book
      .active()
      .filter((s) => isTargeted(s.schedule.batch, this.o.node))
      .map((s) => ({ name: s.schedule.name, source: "cluster", checks: s.schedule.batch.checks }));
    this.scheduler.setSchedules([...cluster, ...this.localSets]);
    // A removed schedule's series end (voters of a quorum check keep its verdict's).
    const known = [...this.book.active().map((s) => ({ name: s.schedule.name, checks: s.schedule.batch.checks })), ...this.localSets];
    this.metrics.forget(known.flatMap((s) => s.checks.map((c) => ({ schedule: s.name, check: c.name }))));
    this.refreshQuorum();
  }

  /** Tags changed (a reload): targeting is read again. */
  retarget(): void {
    this.refresh();
  }

  // ---- transitions, quorum ----

  private onTransition(t: { node: string; schedule: string; check: string; from: CheckStatus | "none"; to: CheckStatus; atMs: number; message: string; quorum?: number | "majority" }): void {
    const { schedule, check, from, to } = t;
    // The scheduler logs the transition; this counts, stores and hands it on.
    this.metrics.transition(schedule, check, to);
    this.writeHistory((h) => h.recordTransition({ node: this.o.node.name, schedule, check, from, to, atMs: t.atMs, message: t.message }));
    const event = failing(to) ? "check-fail" : to === "warn" ? "check-warn" : from !== "none" && (failing(from) || from === "warn") ? "check-recover" : null;
    if (event) this.triggers.fire({ event, atMs: t.atMs, check: { name: check, schedule, status: to, previous: from, message: t.message } });
    if (t.quorum !== undefined) {
      const vote: VoteIn = { node: this.o.node.name, schedule, check, status: to, atMs: t.atMs, message: t.message };
      this.quorum.apply(vote);
      this.publishVotes([vote]);
      this.evaluateQuorum();
    }
  }

  private publishVotes(votes: VoteIn[]): void {
    if (votes.length === 0 || this.stopped) return;
    const payload = pb.Votes.encode({ votes: votes.map((v) => ({ ...v, status: WIRE_STATUS[v.status] })) }).finish();
    const r = this.o.gossip.publish(pb.EnvelopeKind.VOTE, payload, { ttlMs: VOTE_TTL_MS });
    if (!r.ok) this.o.log.warn({ err: r.error }, `could not publish quorum votes: ${r.error}`);
  }

  private applyVotes(env: Envelope): void {
    let decoded: pb.Votes;
    try {
      decoded = pb.Votes.decode(env.payload);
    } catch (err) {
      this.o.log.warn({ origin: env.origin, err: errorMessage(err) }, `dropped undecodable votes from ${env.origin}`);
      return;
    }
    let changed = false;
    // Kept only for quorum checks of the schedules in force, from members: a peer cannot fill memory with votes for invented checks.
    const members = new Set(this.o.members().map((m) => m.name));
    const quorumCheck = (schedule: string, check: string) => this.book.get(schedule)?.schedule.batch.checks.some((c) => c.name === check && c.quorum !== undefined) === true;
    for (const v of decoded.votes.slice(0, 1000)) {
      const status = STATUS_OF_WIRE[v.status ?? 0];
      // A node votes only for itself: a vote naming another node is dropped.
      if (!status || v.node !== env.origin || !members.has(v.node) || !quorumCheck(v.schedule ?? "", v.check ?? "")) continue;
      changed = this.quorum.apply({ node: v.node ?? "", schedule: v.schedule ?? "", check: v.check ?? "", status, atMs: v.atMs ?? 0, message: (v.message ?? "").slice(0, 1024) }) || changed;
    }
    if (changed) this.evaluateQuorum();
  }

  /** The quorum checks of every cluster schedule, with their live voters (alive members the schedule targets). */
  private refreshQuorum(): void {
    const alive = this.o.members().filter((m) => m.status === "alive" || m.status === "suspect");
    const checks = [];
    for (const s of this.book.active()) {
      const voters = alive.filter((m) => isTargeted(s.schedule.batch, m)).map((m) => m.name);
      for (const c of s.schedule.batch.checks) if (c.quorum !== undefined) checks.push({ schedule: s.schedule.name, check: c.name, quorum: c.quorum, voters });
    }
    this.quorum.setChecks(checks);
    this.evaluateQuorum();
  }

  private evaluateQuorum(): void {
    for (const { verdict, fire, facts } of this.quorum.evaluate().changes) {
      const what = `quorum check ${verdict.check} (schedule ${verdict.schedule}): ${verdict.failing ? "FAILING" : "recovered"}, ${facts.failing} of ${facts.voters} voters failing (needed ${facts.needed})`;
      this.o.log[verdict.failing ? "warn" : "info"]({ schedule: verdict.schedule, check: verdict.check, failing: verdict.failing, firer: verdict.firer }, what);
      this.metrics.quorum(verdict);
      if (!fire) continue;
      this.audit(verdict.failing ? "quorum-fail" : "quorum-recover", what, `${verdict.schedule}/${verdict.check}`);
      this.triggers.fire({ event: verdict.failing ? "quorum-fail" : "quorum-recover", atMs: this.o.clock.now(), quorum: facts });
    }
  }

  states(): CheckState[] {
    return this.scheduler.states();
  }

  verdicts(): QuorumVerdict[] {
    return this.quorum.verdicts();
  }

  // ---- history ----

  /** A submitted batch this node ran (batch_handler). */
  recordBatch(env: Envelope, batch: CheckBatch, results: CheckResult[]): void {
    const failed = results.filter((r) => r.status === "fail" || r.status === "error").length;
    this.writeHistory((h) =>
      h.recordBatch({
        batchId: idToHex(env.id),
        origin: env.origin,
        submitter: batch.submitter ?? "",
        signer: isSigned(env) ? keyFingerprint(env.signerKey) : "",
        createdMs: env.createdMs,
        finishedMs: this.o.clock.now(),
        dryRun: batch.dryRun,
        schedule: "",
        checks: checkDocument(batch.checks),
        results,
      }),
    );
    const e: TriggerEvent = { event: "batch-run", atMs: this.o.clock.now(), batch: { id: idToHex(env.id), origin: env.origin, checks: results.length, failed } };
    this.triggers.fire(e);
  }

  /** The last `limit` submitted batches this node ran, newest first, from the history (none without it). */
  recentBatches(limit: number): BatchRecord[] {
    try {
      return this.history?.query({ limit }).batches ?? [];
    } catch (err) {
      this.o.log.warn({ err: errorMessage(err) }, `reading recent batches from the history: ${errorMessage(err)}`);
      return [];
    }
  }

  /** An audit entry (key operations, refusals, schedule changes). */
  audit(kind: string, summary: string, subject: string): void {
    this.writeHistory((h) => h.audit({ atMs: this.o.clock.now(), kind, summary, subject }));
  }

  private writeHistory(write: (h: HistoryStore) => void): void {
    if (!this.history) return;
    try {
      write(this.history);
    } catch (err) {
      // The store counts and logs its own write failures; a throw here is a bug, and still never stops a check.
      this.o.log.error({ err: errorMessage(err) }, `history write failed: ${errorMessage(err)}`);
    }
  }

  /** A HISTORY_QUERY from the cluster, answered from this node's history and scheduler. */
  private async answerQuery(env: Envelope): Promise<ReplyBody | null> {
    let q: pb.HistoryQuery;
    try {
      q = pb.HistoryQuery.decode(env.payload);
    } catch (err) {
      return { rejected: `undecodable history query: ${errorMessage(err)}` };
    }
    if (!isTargeted({ targetNodes: q.targetNodes ?? [], targetTags: { ...(q.targetTags ?? {}) } }, this.o.node)) return null;
    return { history: { json: fitAnswer(this.answer(q)) } };
  }

  private answer(q: pb.HistoryQuery): NodeHistoryAnswer | { what: "error"; error: string } {
    const limit = Math.min(MAX_ANSWER_ROWS, q.limit || MAX_ANSWER_ROWS);
    const h = this.history;
    if (q.what === "status") {
      return { what: "status", checks: this.states(), verdicts: this.verdicts(), ...(this.historyError !== undefined && { historyError: this.historyError }) };
    }
    if (!h) return { what: "error", error: `no history on ${this.o.node.name}: ${this.historyError ?? "unknown"}` };
    if (q.what === "results") {
      const batch = h.batch(Buffer.from(q.batchId ?? []).toString("hex"));
      return batch ? { what: "results", batch } : { what: "results" };
    }
    if (q.what === "history" && q.audit) {
      const audit = h.auditLog({ ...(q.sinceMs && { sinceMs: q.sinceMs }), limit: limit + 1 });
      return { what: "history", batches: [], transitions: [], truncated: audit.length > limit, audit: audit.slice(0, limit) };
    }
    if (q.what === "history") {
      const status = (q.status || undefined) as CheckStatus | undefined;
      const r = h.query({ ...(q.check && { check: q.check }), ...(q.sinceMs && { sinceMs: q.sinceMs }), ...(status && { status }), limit });
      return { what: "history", ...r };
    }
    return { what: "error", error: `unknown history question ${JSON.stringify(String(q.what).slice(0, 40))}` };
  }
}

const failing = (s: CheckStatus | "none"): boolean => s === "fail" || s === "error";

const WIRE_STATUS: Record<CheckStatus, pb.CheckStatus> = { pass: pb.CheckStatus.PASS, warn: pb.CheckStatus.WARN, fail: pb.CheckStatus.FAIL, fixed: pb.CheckStatus.FIXED, error: pb.CheckStatus.ERROR };
const STATUS_OF_WIRE: Partial<Record<number, CheckStatus>> = Object.fromEntries(Object.entries(WIRE_STATUS).map(([k, v]) => [v, k as CheckStatus]));

/**
 * An answer's JSON within MAX_ANSWER_BYTES: a history answer sheds its
 * oldest rows (and says it is truncated), a batch's results their action
 * output beyond 1 KiB each; whatever is left too large is an error answer.
 */
export function fitAnswer(answer: NodeHistoryAnswer | { what: "error"; error: string }): string {
  let json = JSON.stringify(answer);
  if (json.length <= MAX_ANSWER_BYTES) return json;
  if (answer.what === "history") {
    let a = answer;
    while (json.length > MAX_ANSWER_BYTES && a.batches.length + a.transitions.length + (a.audit?.length ?? 0) > 1) {
      const half = (rows: unknown[]) => rows.slice(0, Math.floor(rows.length / 2));
      a = { ...a, batches: half(a.batches) as typeof a.batches, transitions: half(a.transitions) as typeof a.transitions, ...(a.audit && { audit: half(a.audit) as typeof a.audit }), truncated: true };
      json = JSON.stringify(a);
    }
  } else if (answer.what === "results" && answer.batch?.results) {
    const results = answer.batch.results.map((r) => (r.action && r.action.output.length > 1024 ? { ...r, action: { ...r.action, output: r.action.output.slice(0, 1024), outputTruncated: true } } : r));
    json = JSON.stringify({ ...answer, batch: { ...answer.batch, results } });
  }
  if (json.length <= MAX_ANSWER_BYTES) return json;
  return JSON.stringify({ what: "error", error: `the answer takes ${json.length} bytes, more than the ${MAX_ANSWER_BYTES} a history answer may: narrow the question (-limit, -since, -check)` });
}
