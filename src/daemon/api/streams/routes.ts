import type { IncomingMessage, ServerResponse } from "node:http";
import type { MemberEvent } from "../../../swim/types.js";
import type { NodeRef } from "../../../control/api_types.js";
import { memberView } from "../member_view.js";
import { CHECKS_INTERVAL_DEFAULT_MS, STATS_INTERVAL_DEFAULT_MS, STATS_INTERVAL_MAX_MS, STATS_INTERVAL_MIN_MS, type ChecksStreamEvent, type StatsStreamEvent } from "../../../control/stream_types.js";
import { parseDuration } from "../../../checks/duration.js";
import { parseTags } from "../../../cmdline/tags.js";
import type { Clock } from "../../../base/clock.js";
import type { ControlBackend } from "../backend.js";
import { HttpError } from "../http_io.js";
import type { RouteParams } from "../route_match.js";
import { RoundHub, type RoundContext } from "./rounds.js";
import { type SseLimits, SseStream } from "./sse.js";

/*
 * The live streams (src/control/stream_types.ts has the contract): members,
 * stats, batches, one batch, checks. Loaded by the control API on the first
 * stream request, so a daemon nobody watches carries none of it. Each
 * handler answers problems before the stream starts (400, 404, 501, 503),
 * then keeps the response open until the client goes away or the daemon
 * stops; stats and checks share one RoundHub loop per question.
 */

export interface StreamsOptions {
  backend: ControlBackend;
  clock: Clock;
  /** Most streams open at once; past it a new one is answered 503 (the API's connections stay usable). */
  maxStreams: number;
  limits?: SseLimits;
  onError: (err: string) => void;
}

export interface StreamCounters {
  /** Streams open now. */
  open: number;
  opened: number;
  /** Clients dropped because they stopped reading. */
  dropped: number;
  /** Streams refused at maxStreams. */
  refused: number;
  statsRounds: number;
  checksRounds: number;
}

type StreamHandler = (req: IncomingMessage, res: ServerResponse, url: URL, params: RouteParams) => Promise<void>;

interface Question {
  nodes: string[];
  tags: Record<string, string>;
}

export class Streams {
  private readonly open = new Set<SseStream>();
  private readonly counts = { opened: 0, dropped: 0, refused: 0 };
  private readonly stats: RoundHub<Question & { intervalMs: number }, StatsStreamEvent>;
  private readonly checks: RoundHub<Question, ChecksStreamEvent>;

  constructor(private readonly o: StreamsOptions) {
    this.stats = new RoundHub(o.clock, (q, c) => this.statsRound(q, c), o.onError);
    this.checks = new RoundHub(o.clock, (q, c) => this.checksRound(q, c), o.onError);
  }

  counters(): StreamCounters {
    return { open: this.open.size, ...this.counts, statsRounds: this.stats.counters().rounds, checksRounds: this.checks.counters().rounds };
  }

  /** Ends every open stream (the daemon is stopping). */
  closeAll(): void {
    for (const s of this.open) s.end();
  }

  readonly routes: { path: string; handle: StreamHandler }[] = [
    { path: "/v1/streams/members", handle: (_req, res) => this.members(res) },
    { path: "/v1/streams/stats", handle: (_req, res, url) => this.statsStream(res, url) },
    { path: "/v1/streams/batches", handle: (_req, res) => this.batches(res) },
    { path: "/v1/streams/batches/:id", handle: (_req, res, _url, params) => this.batch(res, params) },
    { path: "/v1/streams/checks", handle: (_req, res, url) => this.checksStream(res, url) },
  ];

  private async members(res: ServerResponse): Promise<void> {
    const b = this.o.backend;
    const watchMembers = b.watchMembers?.bind(b);
    if (!watchMembers) throw new HttpError(501, "this daemon cannot stream its members");
    const s = this.start(res);
    const now = this.o.clock.now();
    const coordinators = () => new Set(b.coordinators?.().coordinators);
    s.send("snapshot", {
      node: b.info().name,
      members: b
        .members()
        .map((m) => memberView(m, now, coordinators()))
        .sort((x, y) => x.name.localeCompare(y.name)),
    });
    // The coordinators after the snapshot, then whenever they change (talk_types.ts: CoordinatorChange).
    if (b.coordinators) s.send("coordinator", b.coordinators());
    const unsubscribe = watchMembers((e: MemberEvent) => s.send("member", { change: e.type, member: memberView(e.member, this.o.clock.now(), coordinators()) }));
    const unwatch = b.watchCoordinators?.((c) => s.send("coordinator", c));
    await s.closed;
    unsubscribe();
    unwatch?.();
  }

  private async statsStream(res: ServerResponse, url: URL): Promise<void> {
    if (!this.o.backend.clusterStats) throw new HttpError(501, "this daemon cannot ask the cluster for stats");
    const intervalMs = intervalParam(url, STATS_INTERVAL_DEFAULT_MS, STATS_INTERVAL_MIN_MS);
    const q = { ...question(url), intervalMs };
    const s = this.start(res);
    const unwatch = this.stats.watch(questionKey(q, intervalMs), q, intervalMs, (e) => s.send(e.event, e.data));
    await s.closed;
    unwatch();
  }

  private async checksStream(res: ServerResponse, url: URL): Promise<void> {
    if (!this.o.backend.clusterHistory) throw new HttpError(501, "this daemon cannot report the state of scheduled checks");
    const intervalMs = intervalParam(url, CHECKS_INTERVAL_DEFAULT_MS, 1000);
    const q = question(url);
    const s = this.start(res);
    const unwatch = this.checks.watch(questionKey(q, intervalMs), q, intervalMs, (e) => s.send(e.event, e.data));
    await s.closed;
    unwatch();
  }

  private async batches(res: ServerResponse): Promise<void> {
    const b = this.o.backend;
    if (!b.batchList || !b.watchBatches) throw new HttpError(501, "this daemon cannot stream its batches");
    const s = this.start(res);
    s.send("snapshot", { node: b.info().name, batches: b.batchList() });
    const unsubscribe = b.watchBatches((item) => s.send("batch", item));
    await s.closed;
    unsubscribe();
  }

  private async batch(res: ServerResponse, params: RouteParams): Promise<void> {
    const id = params.id ?? "";
    if (!/^[0-9a-f]{32}$/.test(id)) throw new HttpError(400, `path /v1/streams/batches/ID: "${id.slice(0, 100)}" is not a batch ID (32 lowercase hex digits)`);
    const b = this.o.backend;
    const ac = new AbortController();
    let events = b.followBatch?.(id, ac.signal);
    if (!events) {
      // Not published here (or no longer kept): every node's history answers, as gcheck results does.
      if (!b.batchResults) throw new HttpError(501, "this daemon keeps no history of batches");
      const started = b.batchResults({ batchId: id, nodes: [], tags: {}, timeoutMs: 10_000 }, ac.signal);
      if (!started.ok) throw new HttpError(503, started.error);
      events = started.events;
    }
    const s = this.start(res);
    void s.closed.then(() => ac.abort());
    for await (const e of events) if (!s.send(e.type, e)) break;
    // The batch is done; the stream stays open (an EventSource would reconnect and replay it) until the client leaves.
    await s.closed;
  }

  private start(res: ServerResponse): SseStream {
    if (this.open.size >= this.o.maxStreams) {
      this.counts.refused++;
      throw new HttpError(503, `this daemon already serves ${this.o.maxStreams} streams (its limit): close a page or a -watch, or ask another daemon`);
    }
    const s = new SseStream(res, this.o.limits, () => this.counts.dropped++);
    this.open.add(s);
    this.counts.opened++;
    void s.closed.then(() => this.open.delete(s));
    return s;
  }

  private async statsRound(q: Question & { intervalMs: number }, c: RoundContext<StatsStreamEvent>): Promise<void> {
    const started = this.o.backend.clusterStats!({ nodes: q.nodes, tags: q.tags, timeoutMs: c.timeoutMs, maxAgeMs: Math.floor(q.intervalMs / 2) }, c.signal);
    if (!started.ok) return c.emit({ event: "error", data: { round: c.round, error: started.error } });
    const t0 = this.o.clock.now();
    let expected: NodeRef[] = [];
    const answered = new Set<string>();
    for await (const e of started.events) {
      if (e.type === "accepted") {
        expected = e.expected;
        c.emit({ event: "round", data: { round: c.round, intervalMs: q.intervalMs, startedMs: e.createdMs, expected } });
      } else if (e.type === "result") {
        answered.add(e.node);
        c.emit({ event: "stats", data: { round: c.round, node: e.node, address: e.address, stats: e.stats, elapsedMs: e.elapsedMs } });
      } else if (e.type === "unreachable" || e.type === "rejected") {
        c.emit({ event: "unreachable", data: { round: c.round, node: e.node, ...(e.address !== undefined && { address: e.address }), reason: e.reason } });
      } else if (e.type === "done") break;
    }
    const missing = expected.filter((n) => !answered.has(n.name)).map((n) => n.name);
    for (const node of missing) c.emit({ event: "unreachable", data: { round: c.round, node, reason: `no answer within ${c.timeoutMs} ms` } });
    c.emit({ event: "round-done", data: { round: c.round, answered: answered.size, expected: expected.length, missing, elapsedMs: this.o.clock.now() - t0 } });
  }

  private async checksRound(q: Question, c: RoundContext<ChecksStreamEvent>): Promise<void> {
    const started = this.o.backend.clusterHistory!("status", { nodes: q.nodes, tags: q.tags, limit: 1000, timeoutMs: c.timeoutMs }, c.signal);
    if (!started.ok) return this.o.onError(`checks stream: ${started.error}`);
    let expected = 0;
    let answered = 0;
    for await (const e of started.events) {
      if (e.type === "accepted") expected = e.expected.length;
      else if (e.type === "answer" && e.answer.what === "status") {
        answered++;
        c.emit({ event: "checks", data: { round: c.round, node: e.node, address: e.address, states: e.answer.checks } });
      } else if (e.type === "unreachable" || e.type === "rejected") c.emit({ event: "unreachable", data: { round: c.round, node: e.node, reason: e.reason } });
      else if (e.type === "done") break;
    }
    c.emit({ event: "round-done", data: { round: c.round, answered, expected } });
  }
}

/** ?interval= as a duration ("2s", "500ms", or seconds), within [minMs, STATS_INTERVAL_MAX_MS]. */
function intervalParam(url: URL, defaultMs: number, minMs: number): number {
  const raw = url.searchParams.get("interval");
  if (raw === null) return defaultMs;
  const ms = parseDuration(raw);
  if (ms === null || ms < minMs || ms > STATS_INTERVAL_MAX_MS)
    throw new HttpError(400, `interval "${raw.slice(0, 50)}" is not a duration from ${minMs} ms to ${STATS_INTERVAL_MAX_MS / 1000}s (e.g. interval=2s)`);
  return Math.round(ms);
}

/** ?node=N (repeatable) and ?tag=k=v (repeatable): which nodes a round asks. */
function question(url: URL): Question {
  const nodes = url.searchParams.getAll("node").filter((n) => n !== "");
  const tags = parseTags(url.searchParams.getAll("tag"));
  if (!tags.ok) throw new HttpError(400, tags.error.replace(/^-tag/, "tag="));
  if (nodes.length > 1000) throw new HttpError(400, `${nodes.length} node= parameters: at most 1000`);
  return { nodes, tags: tags.value };
}

function questionKey(q: Question, intervalMs: number): string {
  return JSON.stringify([intervalMs, [...q.nodes].sort(), Object.entries(q.tags).sort()]);
}
