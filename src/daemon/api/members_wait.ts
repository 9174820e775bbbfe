import type { ServerResponse } from "node:http";
import { parseDuration } from "../../checks/duration.js";
import { parseTags } from "../../cmdline/tags.js";
import type { MembersResponse } from "../../control/api_types.js";
import type { WaitQuery } from "../../control/talk_types.js";
import { fail, type Result } from "../../base/result.js";
import type { Member } from "../../swim/types.js";
import type { ControlBackend } from "./backend.js";
import { HttpError, sendJson } from "./http_io.js";
import { memberView } from "./member_view.js";

/*
 * GET /v1/members?wait=1&tag=k=v&count=N&timeout=60s, the long poll behind
 * `gcheck wait` (node-discovery's need/ready): answered 200 with the members
 * that match as soon as count alive members carry every tag (checked on each
 * member event, never by polling), or 408 with how many did at the timeout.
 * Only alive members count: a suspect one may be gone, and whoever waits
 * wants members that work. Bounded: the timeout at most WAIT_MAX_MS, at most
 * MAX_WAITERS requests waiting at once (503 past that).
 */

export const WAIT_DEFAULT_MS = 60_000;
export const WAIT_MAX_MS = 10 * 60_000;
/** Requests waiting at once; each holds a connection and a listener on member events. */
export const MAX_WAITERS = 64;
/** count at most (a fleet bigger than this waits for a count of a part of it). */
const MAX_COUNT = 100_000;

/** The query of a wait, validated; errors name the parameter. */
export function parseWaitQuery(url: URL): Result<WaitQuery> {
  const p = url.searchParams;
  const wait = p.get("wait");
  if (wait !== "1" && wait !== "true") return fail(`wait "${wait}": use wait=1 to wait for members`);
  if (p.has("status")) return fail("status does not apply with wait=1 (it waits for alive members)");
  const tags = parseTags(p.getAll("tag"));
  if (!tags.ok) return fail(tags.error.replace(/^-tag/, "tag"));
  const countText = p.get("count") ?? "1";
  const count = Number(countText);
  if (!/^\d{1,6}$/.test(countText) || count < 1 || count > MAX_COUNT) return fail(`count "${countText}": expected a whole number of members from 1 to ${MAX_COUNT}`);
  const timeoutText = p.get("timeout");
  const timeoutMs = timeoutText === null ? WAIT_DEFAULT_MS : parseDuration(timeoutText);
  if (timeoutMs === null || timeoutMs < 1 || timeoutMs > WAIT_MAX_MS) return fail(`timeout "${timeoutText}": expected a duration from 1ms to 10m, e.g. 60s`);
  return { ok: true, value: { tags: tags.value, count, timeoutMs } };
}

function matching(members: Member[], tags: Record<string, string>): Member[] {
  return members.filter((m) => m.status === "alive" && Object.entries(tags).every(([k, v]) => m.tags[k] === v));
}

function describeTags(tags: Record<string, string>): string {
  const t = Object.entries(tags).map(([k, v]) => `${k}=${v}`);
  return t.length ? `carrying ${t.join(", ")}` : "";
}

export class MembersWait {
  private waiting = 0;

  constructor(
    private readonly backend: ControlBackend,
    private readonly now: () => number,
  ) {}

  /** Answers one wait request: at once, when its condition holds, or at its timeout; stops when the client goes away. */
  async handle(res: ServerResponse, url: URL, ac: AbortController): Promise<void> {
    const q = parseWaitQuery(url);
    if (!q.ok) throw new HttpError(400, q.error);
    const b = this.backend;
    const { tags, count, timeoutMs } = q.value;
    const answer = (found: Member[]) => {
      const coordinators = new Set(b.coordinators?.().coordinators);
      const t = this.now();
      const body: MembersResponse = { node: b.info().name, members: found.map((m) => memberView(m, t, coordinators)).sort((x, y) => (x.name < y.name ? -1 : 1)) };
      sendJson(res, 200, body);
    };
    const now = matching(b.members(), tags);
    if (now.length >= count) return answer(now);
    if (!b.watchMembers) throw new HttpError(501, "this daemon cannot wait for members");
    if (this.waiting >= MAX_WAITERS) throw new HttpError(503, `${MAX_WAITERS} requests already wait for members on this daemon (its limit): retry later, or ask another daemon`);
    this.waiting++;
    try {
      await new Promise<void>((resolve) => {
        let done = false;
        const finish = () => {
          done = true;
          clearTimeout(timer);
          unsubscribe();
          ac.signal.removeEventListener("abort", finish);
          resolve();
        };
        const unsubscribe = b.watchMembers!(() => {
          if (done) return;
          const found = matching(b.members(), tags);
          if (found.length < count) return;
          finish();
          answer(found);
        });
        const timer = setTimeout(() => {
          if (done) return;
          finish();
          const seen = matching(b.members(), tags).length;
          const what = describeTags(tags);
          sendJson(res, 408, { error: `${seen} of ${count} alive members${what ? " " + what : ""} after ${timeoutMs / 1000} s (timeout)`, count: seen, needed: count });
        }, timeoutMs);
        ac.signal.addEventListener("abort", finish);
      });
    } finally {
      this.waiting--;
    }
  }
}
