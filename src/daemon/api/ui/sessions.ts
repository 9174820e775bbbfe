import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { UI_CSRF_HEADER, UI_SESSION_COOKIE, UI_SESSION_MS } from "../../../control/stream_types.js";

/*
 * The web view's sessions (src/control/stream_types.ts says why a cookie):
 * a random 256-bit ID per signed-in browser, kept in memory only (a restart
 * signs everyone out), each valid for UI_SESSION_MS. At most MAX_SESSIONS
 * are kept: signing in past that ends the oldest session. A request carrying
 * the cookie may change something (POST, DELETE) only with UI_CSRF_HEADER,
 * which a page from another site cannot make the browser send.
 */

/** Sessions kept at most; the oldest goes first. */
export const MAX_SESSIONS = 256;

export class Sessions {
  /** ID -> expiry (ms since the epoch); insertion order is age order. */
  private readonly ids = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new session; returns its Set-Cookie header value. */
  create(secure: boolean): string {
    const id = randomBytes(32).toString("base64url");
    this.ids.set(id, this.now() + UI_SESSION_MS);
    for (const old of this.ids.keys()) {
      if (this.ids.size <= MAX_SESSIONS) break;
      this.ids.delete(old);
    }
    return cookie(id, Math.floor(UI_SESSION_MS / 1000), secure);
  }

  /** Ends the request's session; returns the Set-Cookie value that clears it. */
  end(req: IncomingMessage): string {
    const id = sessionId(req);
    if (id) this.ids.delete(id);
    return cookie("", 0, false);
  }

  /** Whether the request carries a live session (and, when it changes something, the CSRF header). */
  authorizes(req: IncomingMessage): boolean {
    const id = sessionId(req);
    if (!id) return false;
    const expires = this.ids.get(id);
    if (expires === undefined) return false;
    if (expires <= this.now()) {
      this.ids.delete(id);
      return false;
    }
    const safe = req.method === "GET" || req.method === "HEAD";
    return safe || req.headers[UI_CSRF_HEADER] === "1";
  }

  get size(): number {
    return this.ids.size;
  }
}

function cookie(value: string, maxAgeS: number, secure: boolean): string {
  return `${UI_SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

/** The session cookie's value, if the request has one (a Cookie header of at most 8 KiB is read). */
function sessionId(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === UI_SESSION_COOKIE) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}
