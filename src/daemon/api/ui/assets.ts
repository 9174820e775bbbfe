import { readFile, readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";
import { bearerMatches } from "../../../control/token.js";
import { HttpError } from "../http_io.js";
import { errorMessage } from "../../../base/result.js";
import { Sessions } from "./sessions.js";
import { PACKAGE_DIR_URL } from "../../../cmdline/package_dir.js";

/*
 * The web view under /ui/: the static assets `npm run build` bundles into
 * dist/ui (web/ has the sources), and the sign-in that gives a browser a
 * session (sessions.ts). Loaded by the control API on the first /ui request
 * and the assets read from disk on first use, so a daemon whose operators
 * never open the page pays nothing for it. Only files the build wrote are
 * served (the list is read once; no path from the request reaches the file
 * system), each with its .gz twin when the browser takes gzip.
 */

/** Where the build puts the assets: dist/ui. */
export const ASSETS_DIR = fileURLToPath(new URL("dist/ui/", PACKAGE_DIR_URL));

/** Failed sign-ins allowed per minute (all clients together): guessing a token is slowed to a crawl. */
const LOGIN_FAILURES_PER_MINUTE = 10;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

interface Asset {
  body: Buffer;
  gzip?: Buffer;
  type: string;
}

export interface UiOptions {
  /** The control API's token; undefined: the API is open (loopback), and so is the page. */
  token?: string;
  now?: () => number;
  /** Where the assets are (default ASSETS_DIR). */
  dir?: string;
}

export class WebUi {
  readonly sessions: Sessions;
  private names: Promise<Set<string>> | null = null;
  private readonly cache = new Map<string, Promise<Asset>>();
  private failures: number[] = [];

  constructor(private readonly o: UiOptions) {
    this.sessions = new Sessions(o.now);
  }

  /** Answers a request under /ui (authorized: by token or session, as the API decided). */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, authorized: boolean): Promise<void> {
    const path = url.pathname;
    if (path === "/ui") return redirect(res, "/ui/");
    if (path === "/ui/login") {
      if (req.method !== "POST") throw new HttpError(405, "POST the token to /ui/login (the sign-in form does)", { allow: "POST" });
      return this.login(req, res);
    }
    if (path === "/ui/logout") {
      if (req.method !== "POST") throw new HttpError(405, "POST /ui/logout signs out", { allow: "POST" });
      res.setHeader("set-cookie", this.sessions.end(req));
      return redirect(res, "/ui/");
    }
    if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, `${req.method} is not allowed on ${path}: use GET`, { allow: "GET, HEAD" });
    const name = path === "/ui/" ? "index.html" : path.slice("/ui/".length);
    const open = this.o.token === undefined || authorized;
    if (!open) {
      // The sign-in page (and its style and icon) is all that is served without a session, and it carries no data.
      if (name === "index.html" || name === "login.html") return this.send(req, res, "login.html", 401);
      if (PUBLIC.has(name)) return this.send(req, res, name, 200);
      throw new HttpError(401, "sign in first: open /ui/ and enter the control API's token");
    }
    return this.send(req, res, name === "login.html" ? "index.html" : name, 200);
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const now = (this.o.now ?? Date.now)();
    this.failures = this.failures.filter((t) => now - t < 60_000);
    if (this.failures.length >= LOGIN_FAILURES_PER_MINUTE)
      throw new HttpError(429, `more than ${LOGIN_FAILURES_PER_MINUTE} failed sign-ins in the last minute: wait a minute`, { "retry-after": "60" });
    const given = await readToken(req);
    if (this.o.token === undefined) return redirect(res, "/ui/");
    if (!bearerMatches(`Bearer ${given}`, this.o.token)) {
      this.failures.push(now);
      return this.send(req, res, "login.html", 401, "wrong token: use the one in the daemon's -cli-token-file");
    }
    const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
    res.setHeader("set-cookie", this.sessions.create(secure));
    return redirect(res, "/ui/");
  }

  /** An asset; notice: a line put above the sign-in form (the page has no script to say it). */
  private async send(req: IncomingMessage, res: ServerResponse, name: string, status: number, notice?: string): Promise<void> {
    const asset = await this.asset(name);
    const gzip = notice === undefined && asset.gzip && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    const body =
      notice !== undefined ? Buffer.from(asset.body.toString("utf8").replace("<form", `<p class="error" role="alert">${escapeHtml(notice)}</p>\n      <form`)) : gzip ? asset.gzip! : asset.body;
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      "content-type": asset.type,
      "content-length": body.length,
      // index.html and login.html name the bundle, which changes with every build: revalidate.
      "cache-control": "no-cache",
      vary: "accept-encoding",
      ...(gzip && { "content-encoding": "gzip" }),
    });
    res.end(req.method === "HEAD" ? undefined : body);
  }

  private async asset(name: string): Promise<Asset> {
    const dir = this.o.dir ?? ASSETS_DIR;
    this.names ??= readdir(dir).then(
      (files) => new Set(files.filter((f) => !f.endsWith(".gz"))),
      (err: unknown) => {
        this.names = null;
        throw new HttpError(503, `the web view is not built (${errorMessage(err)}): run npm run build`);
      },
    );
    const names = await this.names;
    if (!names.has(name)) throw new HttpError(404, `no such file in the web view: /ui/${name.slice(0, 100)}`);
    let cached = this.cache.get(name);
    if (!cached) {
      const type = TYPES[name.slice(name.lastIndexOf("."))] ?? "application/octet-stream";
      cached = Promise.all([readFile(dir + name), readFile(dir + name + ".gz").catch(() => undefined)]).then(([body, gzip]) => ({
        body,
        type,
        ...(gzip && { gzip }),
      }));
      cached.catch(() => this.cache.delete(name));
      this.cache.set(name, cached);
    }
    return cached;
  }
}

/** Served without a session: what the sign-in page itself loads. */
const PUBLIC = new Set(["app.css", "favicon.svg"]);

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, "content-length": 0, "cache-control": "no-store" });
  res.end();
}

/** The token field of the sign-in form (urlencoded, or JSON {token}); at most 4 KiB. */
async function readToken(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 4096) throw new HttpError(413, "the sign-in form is larger than 4 KiB: send only the token");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trimStart().startsWith("{")) {
    try {
      const v = (JSON.parse(text) as { token?: unknown }).token;
      return typeof v === "string" ? v : "";
    } catch {
      return "";
    }
  }
  return new URLSearchParams(text).get("token") ?? "";
}
