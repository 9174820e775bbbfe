import type { IncomingMessage, ServerResponse } from "node:http";
import { type BatchEvent, type DaemonInfo, type KeyEvent, MEMBER_STATUSES, type MemberView, type StatsEvent } from "../../control/api_types.js";
import type { HistoryEvent, SchedulesResponse } from "../../control/watch_types.js";
import { scheduleNameProblem } from "../../control/schedule_rules.js";
import type { ControlBackend, HistoryStart, ScheduleChange, SignedEnvelope } from "./backend.js";
import { HttpError, readJsonBody, readOptionalJsonBody, sendJson, sendMetrics } from "./http_io.js";
import type { RouteParams } from "./route_match.js";
import { memberView } from "./member_view.js";
import { MembersWait } from "./members_wait.js";
import { resolveCheckFile, validateBatchBody, validateKeysBody, validateLocalCheckBody, validateStatsBody } from "./validate.js";
import { validateHistoryBody, validateResultsBody, validateScheduleRemoveBody, validateScheduleSetBody, validateStatusBody } from "./validate_watch.js";
import type { EventStreamEvent, QueryStreamEvent } from "../../control/talk_types.js";
import { validateEventBody, validateQueryBody } from "./validate_talk.js";

/*
 * The control API's routes, one named handler each. A handler validates its
 * body (validate.ts), hands the work to the ControlBackend and answers: JSON,
 * or an NDJSON stream of events. Anything it throws is answered by the
 * server (server.ts): an HttpError with its status, anything else as 500.
 */

/** params: the route's named path segments (route_match.ts), percent-decoded. */
export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: RouteParams) => Promise<void>;

export interface Route {
  method: "GET" | "POST" | "DELETE";
  /** A literal path, or one with a ":name" segment (route_match.ts). */
  path: string;
  handle: Handler;
}

/** Every event a route streams as NDJSON. */
export type StreamedEvent = BatchEvent | KeyEvent | StatsEvent | HistoryEvent | EventStreamEvent | QueryStreamEvent;

/** What the routes need from the server around them. */
export interface RouteContext {
  backend: ControlBackend;
  /** Largest request body (bytes). */
  maxBody: number;
  /** ms since the epoch (member ages). */
  now: () => number;
  /** GET /v1/info's document (the backend's, with the API's own counters). */
  info: () => DaemonInfo;
  /** An AbortController that aborts when the client goes away early. */
  abortOnClose: (res: ServerResponse) => AbortController;
  /** Streams events as NDJSON until they end or the client goes away. */
  streamEvents: (res: ServerResponse, ac: AbortController, events: AsyncIterable<StreamedEvent>) => Promise<void>;
  /** The exposition of the daemon's registry (metrics_registry.ts): the backend's families and the server's own. */
  metrics: () => Promise<string>;
}

export function controlRoutes(c: RouteContext): Route[] {
  const { backend, maxBody, now } = c;

  // The origin verifies what it is asked to publish under an operator's
  // signature: an altered body would only be refused by every node, and a
  // copy published here must not be a forgery under a genuine batch's ID.
  const refuseSigned = (kind: "batch" | "key operation", signed: SignedEnvelope | undefined) => {
    const refusal = signed && backend.refuseSigned?.(kind, signed);
    if (refusal) throw new HttpError(refusal.status, refusal.error);
  };

  const getInfo: Handler = async (_req, res) => sendJson(res, 200, c.info());

  const postLocalCheck: Handler = async (req, res) => {
    const checks = validateLocalCheckBody(await readJsonBody(req, maxBody));
    if (!checks.ok) throw new HttpError(400, checks.error);
    const ac = c.abortOnClose(res);
    const started = now();
    const results = await backend.localCheck(checks.value, ac.signal);
    sendJson(res, 200, { node: backend.info().name, results, elapsedMs: now() - started });
  };

  const postCheck: Handler = async (req, res) => {
    const body = await resolveCheckFile(await readJsonBody(req, maxBody));
    if (!body.ok) throw new HttpError(400, body.error);
    const batch = validateBatchBody(body.value);
    if (!batch.ok) throw new HttpError(400, batch.error);
    refuseSigned("batch", batch.value.signed);
    for (const w of batch.value.signedWaves ?? []) refuseSigned("batch", w.signed);
    const ac = c.abortOnClose(res);
    await c.streamEvents(res, ac, backend.submitBatch(batch.value, ac.signal));
  };

  const waiters = new MembersWait(backend, now);
  const getMembers: Handler = async (_req, res, url) => {
    // gcheck wait: a long poll (members_wait.ts).
    if (url.searchParams.has("wait")) return waiters.handle(res, url, c.abortOnClose(res));
    const status = url.searchParams.get("status");
    if (status !== null && !(MEMBER_STATUSES as readonly string[]).includes(status)) {
      throw new HttpError(400, `status "${status}" is not a member status: use one of ${MEMBER_STATUSES.join(", ")}`);
    }
    const t = now();
    const coordinators = new Set(backend.coordinators?.().coordinators);
    const members: MemberView[] = backend
      .members()
      .filter((m) => status === null || m.status === status)
      .map((m) => memberView(m, t, coordinators))
      .sort((a, b) => a.name.localeCompare(b.name));
    sendJson(res, 200, { node: backend.info().name, members });
  };

  const getBatches: Handler = async (_req, res) => sendJson(res, 200, { batches: backend.batches() });

  const postKeys: Handler = async (req, res) => {
    const request = validateKeysBody(await readJsonBody(req, maxBody));
    if (!request.ok) throw new HttpError(400, request.error);
    if (!backend.keyOp) throw new HttpError(501, "this daemon cannot change keys");
    refuseSigned("key operation", request.value.signed);
    const ac = c.abortOnClose(res);
    // Started before the stream: a refusal (no cluster key) is a plain 409, not a stream.
    const started = backend.keyOp(request.value, ac.signal);
    if (!started.ok) throw new HttpError(409, started.error);
    await c.streamEvents(res, ac, started.events);
  };

  const getStats: Handler = async (_req, res) => {
    if (!backend.localStats) throw new HttpError(501, "this daemon cannot report stats");
    sendJson(res, 200, await backend.localStats());
  };

  const postStats: Handler = async (req, res) => {
    const request = validateStatsBody(await readJsonBody(req, maxBody));
    if (!request.ok) throw new HttpError(400, request.error);
    if (!backend.clusterStats) throw new HttpError(501, "this daemon cannot ask the cluster for stats");
    const ac = c.abortOnClose(res);
    const started = backend.clusterStats(request.value, ac.signal);
    if (!started.ok) throw new HttpError(503, started.error);
    await c.streamEvents(res, ac, started.events);
  };

  // ---- Always on (issue 14): schedules, past results, history, status. ----

  /** The schedule name of a /v1/schedules/NAME path, by the one rule (src/control/schedule_rules.ts). */
  const nameParam = (params: RouteParams): string => {
    const bad = scheduleNameProblem(params.name, "path /v1/schedules/NAME");
    if (bad) throw new HttpError(400, bad);
    return params.name!;
  };

  /** A set or remove answered: the version that now spreads, or the backend's status and reason. */
  const sendChange = (res: ServerResponse, change: ScheduleChange) => {
    if (!change.ok) throw new HttpError(change.status, change.error);
    sendJson(res, 200, change.change);
  };

  /** A cluster-wide question started (or refused, 503, like stats) and streamed. */
  const streamStarted = async <E extends StreamedEvent>(res: ServerResponse, ac: AbortController, started: HistoryStart<E>) => {
    if (!started.ok) throw new HttpError(503, started.error);
    await c.streamEvents(res, ac, started.events);
  };

  const getSchedules: Handler = async (_req, res) => {
    if (!backend.schedules) throw new HttpError(501, "this daemon has no schedules");
    const body: SchedulesResponse = { node: backend.info().name, schedules: backend.schedules() };
    sendJson(res, 200, body);
  };

  const getSchedule: Handler = async (_req, res, _url, params) => {
    const name = nameParam(params);
    if (!backend.schedule) throw new HttpError(501, "this daemon has no schedules");
    const info = backend.schedule(name);
    if (!info) throw new HttpError(404, `no schedule named ${name} on ${backend.info().name}: gcheck schedule list shows the ones it knows`);
    sendJson(res, 200, info);
  };

  const postSchedule: Handler = async (req, res) => {
    const request = validateScheduleSetBody(await readJsonBody(req, maxBody));
    if (!request.ok) throw new HttpError(400, request.error);
    if (!backend.setSchedule) throw new HttpError(501, "this daemon cannot set schedules");
    sendChange(res, backend.setSchedule(request.value));
  };

  const deleteSchedule: Handler = async (req, res, _url, params) => {
    const name = nameParam(params);
    const request = validateScheduleRemoveBody(name, await readOptionalJsonBody(req, maxBody));
    if (!request.ok) throw new HttpError(400, request.error);
    if (!backend.removeSchedule) throw new HttpError(501, "this daemon cannot remove schedules");
    sendChange(res, backend.removeSchedule(request.value));
  };

  const postResults: Handler = async (req, res) => {
    const request = validateResultsBody(await readJsonBody(req, maxBody));
    if (!request.ok) throw new HttpError(400, request.error);
    if (!backend.batchResults) throw new HttpError(501, "this daemon keeps no history of batches");
    const ac = c.abortOnClose(res);
    await streamStarted(res, ac, backend.batchResults(request.value, ac.signal));
  };

  const postHistory: Handler = async (req, res) => {
    const request = validateHistoryBody(await readJsonBody(req, maxBody));
    if (!request.ok) throw new HttpError(400, request.error);
    if (!backend.clusterHistory) throw new HttpError(501, "this daemon keeps no history");
    const ac = c.abortOnClose(res);
    await streamStarted(res, ac, backend.clusterHistory("history", request.value, ac.signal));
  };

  const postStatus: Handler = async (req, res) => {
    const request = validateStatusBody(await readJsonBody(req, maxBody));
    if (!request.ok) throw new HttpError(400, request.error);
    if (!backend.clusterHistory) throw new HttpError(501, "this daemon cannot report the state of scheduled checks");
    const ac = c.abortOnClose(res);
    await streamStarted(res, ac, backend.clusterHistory("status", request.value, ac.signal));
  };

  // ---- Rollouts (issue 15): a rollout belongs to the daemon that runs it. ----

  const rolloutId = (params: RouteParams): string => {
    const id = params.id ?? "";
    if (!/^[0-9a-f]{32}$/.test(id))
      throw new HttpError(400, `path /v1/rollouts/ID: "${id.slice(0, 100)}" is not a rollout ID (32 lowercase hex digits, as the accepted event of gcheck check -output json names it)`);
    return id;
  };
  const unknownRollout = (id: string) => new HttpError(404, `no rollout ${id} on ${backend.info().name}: a rollout is known only to the daemon that ran it (its origin), and only its last 100`);

  const getRollouts: Handler = async (_req, res) => {
    if (!backend.rollouts) throw new HttpError(501, "this daemon runs no rollouts");
    sendJson(res, 200, { node: backend.info().name, rollouts: backend.rollouts() });
  };

  const getRollout: Handler = async (_req, res, _url, params) => {
    const id = rolloutId(params);
    if (!backend.rollout) throw new HttpError(501, "this daemon runs no rollouts");
    const status = backend.rollout(id);
    if (!status) throw unknownRollout(id);
    sendJson(res, 200, status);
  };

  const postRolloutAbort: Handler = async (_req, res, _url, params) => {
    const id = rolloutId(params);
    if (!backend.abortRollout) throw new HttpError(501, "this daemon runs no rollouts");
    const status = backend.abortRollout(id);
    if (!status) throw unknownRollout(id);
    sendJson(res, 200, status);
  };

  // ---- User events and queries (issue 17). ----

  const postEvent: Handler = async (req, res) => {
    const request = validateEventBody(await readJsonBody(req, maxBody));
    if (!request.ok) throw new HttpError(400, request.error);
    if (!backend.submitEvent) throw new HttpError(501, "this daemon cannot send user events");
    const ac = c.abortOnClose(res);
    const started = backend.submitEvent(request.value, ac.signal);
    if (!started.ok) throw new HttpError(started.status, started.error);
    await c.streamEvents(res, ac, started.events);
  };

  const postQuery: Handler = async (req, res) => {
    const request = validateQueryBody(await readJsonBody(req, maxBody));
    if (!request.ok) throw new HttpError(400, request.error);
    if (!backend.submitQuery) throw new HttpError(501, "this daemon cannot send queries");
    const ac = c.abortOnClose(res);
    const started = backend.submitQuery(request.value, ac.signal);
    if (!started.ok) throw new HttpError(started.status, started.error);
    await c.streamEvents(res, ac, started.events);
  };

  const getMetrics: Handler = async (_req, res) => {
    sendMetrics(res, await c.metrics());
  };

  return [
    { method: "GET", path: "/v1/info", handle: getInfo },
    { method: "POST", path: "/v1/local-check", handle: postLocalCheck },
    { method: "POST", path: "/v1/check", handle: postCheck },
    { method: "GET", path: "/v1/members", handle: getMembers },
    { method: "GET", path: "/v1/batches", handle: getBatches },
    { method: "POST", path: "/v1/keys", handle: postKeys },
    { method: "GET", path: "/v1/stats", handle: getStats },
    { method: "POST", path: "/v1/stats", handle: postStats },
    { method: "GET", path: "/v1/schedules", handle: getSchedules },
    { method: "POST", path: "/v1/schedules", handle: postSchedule },
    { method: "GET", path: "/v1/schedules/:name", handle: getSchedule },
    { method: "DELETE", path: "/v1/schedules/:name", handle: deleteSchedule },
    { method: "POST", path: "/v1/results", handle: postResults },
    { method: "POST", path: "/v1/history", handle: postHistory },
    { method: "POST", path: "/v1/status", handle: postStatus },
    { method: "GET", path: "/v1/rollouts", handle: getRollouts },
    { method: "GET", path: "/v1/rollouts/:id", handle: getRollout },
    { method: "POST", path: "/v1/rollouts/:id/abort", handle: postRolloutAbort },
    { method: "GET", path: "/metrics", handle: getMetrics },
    { method: "POST", path: "/v1/events", handle: postEvent },
    { method: "POST", path: "/v1/queries", handle: postQuery },
  ];
}
