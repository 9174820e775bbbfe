import type { IncomingMessage, ServerResponse } from "node:http";
import type { ControlBackend } from "../backend.js";
import { HttpError, readBodyBytes, sendJson } from "../http_io.js";
import { decodeParams } from "../route_match.js";
import { type SseLimits, SseStream } from "../streams/sse.js";

/*
 * /v1/channels/NAME (src/control/talk_types.ts): POST publishes the raw body
 * (any Content-Type) to the channel, or to one node's subscribers with
 * ?node=N, and answers ChannelPublishResponse; GET subscribes: an SSE stream
 * that starts with "subscribed" (from then on every message reaches it),
 * then "message" events (ChannelMessage), in each sender's order, until the
 * client leaves. A subscriber that stops reading is disconnected once 1 MiB
 * waits unread for it (SseStream; the message being written comes on top):
 * it misses what follows, and the cluster never waits for it. Loaded by the
 * control API on the first channel request.
 */

export const CHANNEL_PATH_PREFIX = "/v1/channels/";

export interface ChannelRoutesOptions {
  backend: ControlBackend;
  /** Largest body (bytes): the API's body limit. */
  maxBody: number;
  limits?: SseLimits;
}

export class ChannelRoutes {
  private readonly counts = { subscribed: 0, dropped: 0 };

  constructor(private readonly o: ChannelRoutesOptions) {}

  /** Subscriptions opened, and dropped because their client stopped reading. */
  counters(): { subscribed: number; dropped: number } {
    return { ...this.counts };
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const raw = url.pathname.slice(CHANNEL_PATH_PREFIX.length);
    if (raw === "" || raw.includes("/")) throw new HttpError(404, `no such endpoint ${url.pathname.slice(0, 200)}: use /v1/channels/NAME (one path segment)`);
    const name = decodeParams({ name: raw }).name!;
    if (req.method === "POST") return this.publish(req, res, url, name);
    if (req.method === "GET") return this.subscribe(res, name);
    throw new HttpError(405, `${req.method} is not allowed on ${url.pathname.slice(0, 200)}: use GET (subscribe) or POST (publish)`, { allow: "GET, POST" });
  }

  private async publish(req: IncomingMessage, res: ServerResponse, url: URL, name: string): Promise<void> {
    const b = this.o.backend;
    if (!b.publishChannel) throw new HttpError(501, "this daemon has no channels");
    const node = url.searchParams.get("node") ?? "";
    const data = await readBodyBytes(req, this.o.maxBody, "send a smaller message (the body is the message, raw)");
    const published = b.publishChannel(name, data, node === "" ? undefined : node);
    if (!published.ok) throw new HttpError(published.status, published.error, published.status === 503 ? { "retry-after": "1" } : {});
    sendJson(res, 200, published.value);
  }

  private async subscribe(res: ServerResponse, name: string): Promise<void> {
    const b = this.o.backend;
    if (!b.subscribeChannel) throw new HttpError(501, "this daemon has no channels");
    let stream: SseStream | null = null;
    const subscribed = b.subscribeChannel(name, (msg) => {
      if (stream && !stream.send("message", msg)) unsubscribe();
    });
    if (!subscribed.ok) throw new HttpError(subscribed.status, subscribed.error);
    const unsubscribe = subscribed.value;
    // Messages come from later event-loop turns: none is lost between subscribing and the stream's headers.
    stream = new SseStream(res, this.o.limits, () => this.counts.dropped++);
    this.counts.subscribed++;
    stream.send("subscribed", { channel: name, node: b.info().name });
    await stream.closed;
    unsubscribe();
  }
}
