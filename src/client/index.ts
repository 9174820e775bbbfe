import type { DaemonInfo, MemberView, MembersResponse, NodeRef } from "../control/api_types.js";
import { channelNameProblem } from "../control/channel_name.js";
import type { MemberStreamEvent } from "../control/stream_types.js";
import type { ChannelMessage, ChannelPublishResponse, CoordinatorChange, EventRequestBody, EventStreamEvent, QueryRequestBody, QueryStreamEvent } from "../control/talk_types.js";
import { ClientError, Http } from "./http.js";
import { type Backoff, DEFAULT_BACKOFF, LiveStream } from "./live.js";

/*
 * gossipcheck/client: a Node.js service's view of the cluster through its
 * local daemon (node-discovery's programming model on gossipcheckd): who is
 * there and with which tags (members, member-* events, waitFor), who
 * coordinates, channels between processes on any nodes (publish, send,
 * subscribe), and user events and queries. It speaks the control API
 * (src/control/talk_types.ts, stream_types.ts) with Node's fetch only; its
 * streams reopen by themselves (live.ts).
 *
 *     import { connect } from "gossipcheck/client";
 *     const client = await connect();                   // 127.0.0.1:5924
 *     client.on("member-join", (m) => console.log(m.name, m.tags));
 *     const stop = client.subscribe("jobs", (msg) => console.log(msg.from, msg.seq, msg.text));
 *     await client.publish("jobs", "hello");             // every subscriber in the cluster
 *     await client.send("node-2", "jobs", "just you");   // node-2's subscribers only
 */

export { ClientError } from "./http.js";
export type { ChannelMessage, ChannelPublishResponse, CoordinatorChange, MemberView, NodeRef };

export interface ConnectOptions {
  /** The daemon's control API, host:port or a URL. Default 127.0.0.1:5924 (gossipcheckd's -cli-bind). */
  server?: string;
  /** Its token (-token-file); default the environment's GOSSIPCHECK_TOKEN. */
  token?: string;
  /** Reopening broken streams (ms). Default 100 ms doubling to 5 s. */
  backoff?: Backoff;
}

/** What each event's listener receives. */
export interface ClientEvents {
  /** A member joined (also each member already alive when the first listener is added, this daemon's own node aside). */
  "member-join": MemberView;
  /** A member left gracefully. */
  "member-leave": MemberView;
  /** A member was declared dead (it crashed or is cut off). */
  "member-failed": MemberView;
  /** A member's tags or address changed (a reload, a restart). */
  "member-update": MemberView;
  /** The coordinators changed (and once when the members stream opens). */
  coordinator: CoordinatorChange;
  /** A stream broke (it is reopened unless the error says it cannot be). */
  error: Error;
}

export type ClientEvent = keyof ClientEvents;

/** Call it to unsubscribe; ready resolves once the daemon delivers to it (rejects when it refused the subscription). */
export type Subscription = (() => void) & { ready: Promise<void> };

export interface TalkOptions {
  /** Only these nodes (names); default every node. */
  nodes?: string[];
  /** Only nodes carrying all these tags. */
  tags?: Record<string, string>;
  timeoutMs?: number;
}

export interface QueryAnswer {
  node: string;
  address: string;
  handlers: { script: string; code: number | null; signal?: string; output: Uint8Array; text?: string; truncated: boolean; durationMs: number }[];
  elapsedMs: number;
}

export interface QueryOutcome {
  id: string;
  expected: NodeRef[];
  answers: QueryAnswer[];
  /** Nodes that refused or could not be reached, with why. */
  failed: { node: string; reason: string }[];
  timedOut: boolean;
}

export interface EventOutcome {
  id: string;
  expected: NodeRef[];
  delivered: string[];
  /** With waitHandlers: each node's handler exits. */
  handled: Extract<EventStreamEvent, { type: "handled" }>[];
  failed: { node: string; reason: string }[];
  timedOut: boolean;
}

/** Opens a client of the daemon at options.server (checking that it answers). */
export async function connect(options: ConnectOptions = {}): Promise<Client> {
  const http = new Http(options.server, options.token ?? process.env.GOSSIPCHECK_TOKEN);
  const info = await http.json<DaemonInfo>("GET", "/v1/info");
  return new Client(http, info.name, options.backoff ?? DEFAULT_BACKOFF);
}

type Listener<E extends ClientEvent> = (value: ClientEvents[E]) => void;

export class Client {
  private readonly listeners = new Map<ClientEvent, Set<(value: never) => void>>();
  private readonly streams = new Set<LiveStream>();
  private membersStream: LiveStream | null = null;
  private known: Map<string, MemberView> | null = null;
  private closed = false;

  constructor(
    private readonly http: Http,
    /** The node name of the daemon this client talks to. */
    readonly node: string,
    private readonly backoff: Backoff,
  ) {}

  /** Every member the daemon knows, itself included (statuses alive, suspect, dead, left). */
  async members(): Promise<MemberView[]> {
    return (await this.http.json<MembersResponse>("GET", "/v1/members")).members;
  }

  /** Listens to membership changes, coordinator changes or stream errors. */
  on<E extends ClientEvent>(event: E, listener: Listener<E>): this {
    this.open();
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (value: never) => void);
    if (event === "member-join" && this.known) for (const m of this.known.values()) if (m.status === "alive" && m.name !== this.node) listener(m as ClientEvents[E]);
    if (event !== "error") this.startMembers();
    return this;
  }

  off<E extends ClientEvent>(event: E, listener: Listener<E>): this {
    this.listeners.get(event)?.delete(listener as (value: never) => void);
    return this;
  }

  /** Sends data to every subscriber of channel in the cluster; resolves once this daemon published it. */
  publish(channel: string, data: string | Uint8Array): Promise<ChannelPublishResponse> {
    return this.post(channel, data, undefined);
  }

  /** Sends data to the subscribers of channel on node only. */
  send(node: string, channel: string, data: string | Uint8Array): Promise<ChannelPublishResponse> {
    return this.post(channel, data, node);
  }

  /**
   * Calls listener with every message on channel (from any node, each
   * sender's in order) until the returned function is called. A gap while
   * the stream was reopened is not replayed: seq (per sender) shows it.
   */
  subscribe(channel: string, listener: (msg: ChannelMessage) => void): Subscription {
    this.open();
    const problem = channelNameProblem(channel);
    if (problem) throw new ClientError(problem, 400);
    let live: () => void = () => {};
    let failed: (err: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      live = resolve;
      failed = reject;
    });
    // Nobody awaiting ready must not make a refusal an unhandled rejection (it is emitted as "error" too).
    ready.catch(() => {});
    const stream = new LiveStream(
      this.http,
      `/v1/channels/${encodeURIComponent(channel)}`,
      {
        event: (m) => {
          if (m.event === "message") listener(JSON.parse(m.data) as ChannelMessage);
          else if (m.event === "subscribed") live();
        },
        error: (err, fatal) => {
          if (fatal) failed(err);
          this.emit("error", err);
        },
      },
      this.backoff,
    );
    this.streams.add(stream);
    const unsubscribe = () => {
      stream.stop();
      this.streams.delete(stream);
    };
    return Object.assign(unsubscribe, { ready });
  }

  /** Asks every targeted node's `-on query:NAME=SCRIPT` handlers; resolves with their answers once every node answered (or the timeout). */
  async query(name: string, payload?: string | Uint8Array, opts: TalkOptions = {}): Promise<QueryOutcome> {
    this.open();
    const body: QueryRequestBody = { name, ...payloadField(payload), ...talk(opts) };
    const out: QueryOutcome = { id: "", expected: [], answers: [], failed: [], timedOut: false };
    for await (const e of this.http.ndjson<QueryStreamEvent>("/v1/queries", body)) {
      if (e.type === "accepted") Object.assign(out, { id: e.id, expected: e.expected });
      else if (e.type === "answer")
        out.answers.push({ ...e, handlers: e.handlers.map((h) => ({ ...h, output: new Uint8Array(Buffer.from(h.output, "base64")), ...(h.outputText !== undefined && { text: h.outputText }) })) });
      else if (e.type === "rejected" || e.type === "unreachable") out.failed.push({ node: e.node, reason: e.reason });
      else if (e.type === "done") out.timedOut = e.timedOut;
      else if (e.type === "error") throw new ClientError(`query ${name}: ${e.error}`, 500);
    }
    return out;
  }

  /** Sends user event name to every targeted node's `-on user:NAME=SCRIPT` handlers; resolves once every node has it. */
  async event(name: string, payload?: string | Uint8Array, opts: TalkOptions & { waitHandlers?: boolean } = {}): Promise<EventOutcome> {
    this.open();
    const body: EventRequestBody = { name, ...payloadField(payload), ...talk(opts), ...(opts.waitHandlers !== undefined && { waitHandlers: opts.waitHandlers }) };
    const out: EventOutcome = { id: "", expected: [], delivered: [], handled: [], failed: [], timedOut: false };
    for await (const e of this.http.ndjson<EventStreamEvent>("/v1/events", body)) {
      if (e.type === "accepted") Object.assign(out, { id: e.id, expected: e.expected });
      else if (e.type === "delivered") out.delivered.push(e.node);
      else if (e.type === "handled") out.handled.push(e);
      else if (e.type === "rejected" || e.type === "unreachable") out.failed.push({ node: e.node, reason: e.reason });
      else if (e.type === "done") out.timedOut = e.timedOut;
      else if (e.type === "error") throw new ClientError(`event ${name}: ${e.error}`, 500);
    }
    return out;
  }

  /**
   * Resolves with the alive members carrying tags once there are at least
   * count of them (node-discovery's need/ready); rejects with a ClientError
   * of status 408 when timeoutMs (default 60 s) passes first.
   */
  async waitFor(w: { tags?: Record<string, string>; count?: number; timeoutMs?: number }): Promise<MemberView[]> {
    this.open();
    const tags = w.tags ?? {};
    const q = new URLSearchParams({ wait: "1", count: String(w.count ?? 1), timeout: `${w.timeoutMs ?? 60_000}ms` });
    for (const [k, v] of Object.entries(tags)) q.append("tag", `${k}=${v}`);
    const res = await this.http.json<MembersResponse>("GET", `/v1/members?${q.toString()}`);
    return res.members.filter((m) => m.status === "alive" && Object.entries(tags).every(([k, v]) => m.tags[k] === v));
  }

  /** Stops every stream; the client cannot be used after. */
  close(): void {
    this.closed = true;
    this.membersStream?.stop();
    for (const s of this.streams) s.stop();
    this.streams.clear();
    this.listeners.clear();
  }

  private open(): void {
    if (this.closed) throw new ClientError("this client is closed: connect() again", 0);
  }

  private post(channel: string, data: string | Uint8Array, node: string | undefined): Promise<ChannelPublishResponse> {
    this.open();
    const problem = channelNameProblem(channel);
    if (problem) return Promise.reject(new ClientError(problem, 400));
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const path = `/v1/channels/${encodeURIComponent(channel)}${node === undefined ? "" : `?node=${encodeURIComponent(node)}`}`;
    return retryBusy(() => this.http.json<ChannelPublishResponse>("POST", path, bytes));
  }

  private startMembers(): void {
    if (this.membersStream) return;
    this.membersStream = new LiveStream(
      this.http,
      "/v1/streams/members",
      { event: (m) => this.onMembers(m.event, JSON.parse(m.data) as unknown), error: (err) => this.emit("error", err) },
      this.backoff,
    );
  }

  private onMembers(event: string, data: unknown): void {
    const e = { event, data } as MemberStreamEvent;
    if (e.event === "coordinator") return this.emit("coordinator", e.data);
    if (e.event === "member") {
      const { change, member } = e.data;
      if (change === "reap") this.known?.delete(member.name);
      else this.known?.set(member.name, member);
      if (member.name === this.node) return;
      if (change === "join") this.emit("member-join", member);
      else if (change === "leave") this.emit("member-leave", member);
      else if (change === "fail") this.emit("member-failed", member);
      else if (change === "update") this.emit("member-update", member);
      return;
    }
    if (e.event !== "snapshot") return;
    // First snapshot: who is there (joins). After a reopen: what changed while the stream was closed.
    const before = this.known ?? new Map<string, MemberView>();
    this.known = new Map(e.data.members.map((m) => [m.name, m]));
    for (const m of this.known.values()) {
      if (m.name === this.node) continue;
      const was = before.get(m.name);
      if (m.status === "alive" && (!was || was.status === "dead" || was.status === "left")) this.emit("member-join", m);
      else if (m.status === "dead" && was && was.status !== "dead") this.emit("member-failed", m);
      else if (m.status === "left" && was && was.status !== "left") this.emit("member-leave", m);
    }
  }

  private emit<E extends ClientEvent>(event: E, value: ClientEvents[E]): void {
    for (const l of this.listeners.get(event) ?? []) (l as Listener<E>)(value);
  }
}

function payloadField(payload: string | Uint8Array | undefined): { payload?: string; payloadText?: string } {
  if (payload === undefined) return {};
  if (typeof payload === "string") return { payloadText: payload };
  return { payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("base64") };
}

function talk(o: TalkOptions): { nodes?: string[]; tags?: Record<string, string>; timeoutMs?: number } {
  return { ...(o.nodes && { nodes: o.nodes }), ...(o.tags && { tags: o.tags }), ...(o.timeoutMs !== undefined && { timeoutMs: o.timeoutMs }) };
}

/** Retries a publish the daemon answered 503 (its channel bytes live, or it is starting) for up to 10 s. */
async function retryBusy<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (let wait = 50; ; wait = Math.min(1000, wait * 2)) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ClientError) || e.status !== 503 || Date.now() + wait > deadline) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
