import { readFile } from "node:fs/promises";
import type { ClientRequest, IncomingHttpHeaders } from "node:http";
import type { RequestOptions } from "node:https";
import { http, https } from "../base/node_http.js";
import { errorMessage } from "../base/result.js";
import { fsReason, quote, type Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";
import type { CheckTypeDef } from "./check_type.js";

/*
 * `http`: requests `url` (GET, or `method`, without a body) and passes when
 * the status is one of `status` (default 200; numbers or classes such as
 * "2xx"), the body holds every `body_contains` text and each of `headers`
 * holds its expected text. Redirects are not followed: a 301 is the answer.
 *
 * `request_timeout` (default 10 s) bounds the whole exchange, connect to last
 * byte; the check's own `timeout` stays the action's, so a slow remediation
 * (a service restart) does not lengthen the probe, nor the probe cut the
 * restart short. Only the first HTTP_BODY_LIMIT_BYTES of the body are read:
 * a huge or endless response costs at most that much memory.
 *
 * TLS is verified against the system's CAs, or against `ca_file` alone (a
 * private CA), unless `insecure`. A connection that fails (refused, timed
 * out, certificate not trusted) is `fail`: the URL did not answer. Only an
 * unreadable `ca_file` is `error`: the check could not look.
 */

export const HTTP_BODY_LIMIT_BYTES = 1 << 20;
export const HTTP_DEFAULT_TIMEOUT_MS = 10_000;
const METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"] as const;

export const httpCheck: CheckTypeDef = {
  type: "http",
  subject: "url",
  fields: {
    url: { type: { kind: "string" }, required: true, doc: "the URL to request (http:// or https://)" },
    method: { type: { kind: "enum", values: METHODS }, doc: "the request method, sent without a body (default GET)" },
    status: {
      type: { kind: "integers", min: 100, max: 599, classes: { pattern: /^[1-5]xx$/, example: "2xx" } },
      doc: 'the status that passes, a class such as "2xx", or a list of them (default 200)',
    },
    body_contains: { type: { kind: "strings" }, doc: "text (or a list of texts) the response body must contain (its first 1 MiB)" },
    headers: { type: { kind: "string map" }, doc: 'response headers: name -> text its value must contain ("" : the header is present)' },
    insecure: { type: { kind: "boolean" }, doc: "true: do not verify the server's TLS certificate (default false)" },
    ca_file: { type: { kind: "string" }, doc: "a PEM file of the CA certificates to verify the server with, instead of the system's" },
    request_timeout: { type: { kind: "duration" }, doc: "how long the whole request may take (default 10 s; `timeout` is the action's)" },
  },
  rules(p, field) {
    const errors: string[] = [];
    const url = parseUrl(p.url as string);
    if (typeof url === "string") errors.push(`${field("url")}: ${url}`);
    if (p.insecure === true && p.ca_file !== undefined) errors.push(`${field("ca_file")}: not used with "insecure": true (remove one: ca_file verifies the server, insecure does not)`);
    if (p.method === "HEAD" && p.body_contains !== undefined) errors.push(`${field("body_contains")}: a HEAD request gets no body (use GET, or remove body_contains)`);
    return errors;
  },
  evaluate: evaluateHttp,
};

/** The URL, or why it cannot be requested. */
function parseUrl(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${JSON.stringify(text)} is not a URL (expected one such as "http://127.0.0.1:8080/health")`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `${JSON.stringify(text)}: expected an http:// or https:// URL, got ${url.protocol}`;
  return url;
}

interface Answer {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body went on past HTTP_BODY_LIMIT_BYTES and was not read further. */
  truncated: boolean;
}

async function evaluateHttp(p: Params): Promise<Evaluation> {
  const url = parseUrl(p.url as string) as URL;
  const method = (p.method as string | undefined) ?? "GET";
  const shown = `${method} ${shownUrl(url)}`;
  let ca: Buffer | undefined;
  if (p.ca_file !== undefined) {
    try {
      ca = await readFile(p.ca_file as string);
    } catch (e) {
      return { status: "error", message: `${shown}: cannot read ca_file ${quote(p.ca_file as string)}: ${fsReason(e)}` };
    }
  }
  const timeoutMs = (p.request_timeout as number | undefined) ?? HTTP_DEFAULT_TIMEOUT_MS;
  const started = performance.now();
  const got = await request(url, { method, insecure: p.insecure === true, ca, timeoutMs });
  const ms = Math.round(performance.now() - started);
  if (typeof got === "string") return { status: "fail", message: `${shown}: ${got}` };

  const problems: string[] = [];
  const wanted = (p.status as (number | string)[] | undefined) ?? [200];
  if (!wanted.some((s) => statusMatches(got.status, s))) problems.push(`status ${got.status}, expected ${wanted.join(" or ")}`);
  for (const t of (p.body_contains as string[] | undefined) ?? []) if (!got.body.includes(Buffer.from(t))) problems.push(`body lacks ${quote(t)}`);
  for (const [name, text] of Object.entries((p.headers as Record<string, string> | undefined) ?? {})) {
    const v = got.headers[name.toLowerCase()];
    const value = Array.isArray(v) ? v.join(", ") : v;
    if (value === undefined) problems.push(`no header ${quote(name)}`);
    else if (!value.includes(text)) problems.push(`header ${quote(name)} is ${quote(value)}, expected it to contain ${quote(text)}`);
  }
  const bytes = got.truncated ? `the first ${got.body.length} bytes (read no further)` : `${got.body.length} bytes`;
  const summary = `${got.status}${got.statusText ? ` ${got.statusText}` : ""}, ${bytes} in ${ms} ms`;
  if (problems.length === 0) return { status: "pass", message: `${shown}: ${summary}` };
  return { status: "fail", message: `${shown}: ${problems.join("; ")} (${summary})` };
}

function statusMatches(status: number, wanted: number | string): boolean {
  return typeof wanted === "number" ? status === wanted : String(status)[0] === wanted[0];
}

/** The URL for a message, a password in it masked: results travel the cluster and land in logs. */
function shownUrl(url: URL): string {
  if (url.password === "") return url.href;
  const u = new URL(url.href);
  u.password = "***";
  return u.href;
}

/** One request, its body read up to the limit; or what went wrong, for a person. */
function request(url: URL, o: { method: string; insecure: boolean; ca: Buffer | undefined; timeoutMs: number }): Promise<Answer | string> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (v: Answer | string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(v);
    };
    const options: RequestOptions = {
      method: o.method,
      // A fresh connection each time: the check is that the server answers now.
      agent: false,
      headers: { "user-agent": "gossipcheck", accept: "*/*" },
    };
    if (url.protocol === "https:") {
      options.rejectUnauthorized = !o.insecure;
      if (o.ca !== undefined) options.ca = o.ca;
    }
    let req: ClientRequest;
    try {
      req = (url.protocol === "https:" ? https() : http).request(url, options);
    } catch (e) {
      resolve(`cannot make the request: ${errorMessage(e)}`);
      return;
    }
    const timer = setTimeout(() => settle(`no complete answer within ${o.timeoutMs} ms`), o.timeoutMs);
    req.on("error", (e) => settle(connectionProblem(e)));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      const answer = (truncated: boolean): Answer => ({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", headers: res.headers, body: Buffer.concat(chunks), truncated });
      res.on("data", (chunk: Buffer) => {
        const room = HTTP_BODY_LIMIT_BYTES - kept;
        if (chunk.length <= room) {
          chunks.push(chunk);
          kept += chunk.length;
          return;
        }
        chunks.push(chunk.subarray(0, room));
        kept += room;
        settle(answer(true));
      });
      res.on("end", () => settle(answer(false)));
      res.on("error", (e) => settle(`the answer broke off after ${kept} bytes of body: ${connectionProblem(e)}`));
    });
    req.end();
  });
}

const TLS_CERT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME/;

function connectionProblem(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ECONNRESET: "connection reset",
    ENOTFOUND: "the host name does not resolve",
    EAI_AGAIN: "the host name could not be resolved now",
    EHOSTUNREACH: "no route to host",
    ENETUNREACH: "network unreachable",
  };
  const code = err.code;
  if (code && reasons[code]) return `${reasons[code]} (${code})`;
  const text = errorMessage(e);
  if (code && TLS_CERT_CODES.test(code)) return `TLS certificate not trusted: ${text} (${code}; give ca_file for a private CA, or insecure: true)`;
  return code && !text.includes(code) ? `${text} (${code})` : text;
}
