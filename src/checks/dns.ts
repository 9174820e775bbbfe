import * as dns from "node:dns/promises";
import { isIP, isIPv4, isIPv6 } from "node:net";
import { errorMessage } from "../base/result.js";
import { quote, type Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";
import type { CheckTypeDef } from "./check_type.js";

/*
 * `dns`: `name` resolves to at least one `record` (default A) within
 * `query_timeout` (default 5 s), and every one of `addrs`, when given, is
 * among the answers.
 *
 * Who answers: with `server`, that DNS server alone (node:dns Resolver, one
 * try). Without it, A and AAAA go through the system's lookup (getaddrinfo:
 * /etc/hosts, nsswitch, then DNS), which is what a program on this node
 * gets; other record types through the system's DNS servers
 * (/etc/resolv.conf), since getaddrinfo knows only addresses.
 *
 * An answer as written in `addrs`: an address (A, AAAA, compared as
 * addresses, so "::1" matches "0:0:0:0:0:0:0:1"); a name (CNAME, NS, PTR;
 * case and a trailing dot ignored); for MX the exchange name or
 * "PRIORITY NAME"; for SRV the target name, "NAME:PORT" or "PRIORITY WEIGHT
 * PORT NAME"; for TXT the whole text of one record (its strings joined).
 *
 * No answer (NXDOMAIN, no such records, server silent or refusing) is `fail`.
 */

export const DNS_DEFAULT_TIMEOUT_MS = 5_000;
const RECORDS = ["A", "AAAA", "CNAME", "MX", "NS", "PTR", "SRV", "TXT"] as const;
type RecordType = (typeof RECORDS)[number];

export const dnsCheck: CheckTypeDef = {
  type: "dns",
  subject: "name",
  fields: {
    name: { type: { kind: "string" }, required: true, doc: "the name to resolve (for PTR also an address)" },
    record: { type: { kind: "enum", values: RECORDS }, doc: "the record type to ask for (default A)" },
    addrs: { type: { kind: "strings" }, doc: "answers that must all be among those found (addresses for A and AAAA)" },
    server: { type: { kind: "string" }, doc: 'the DNS server to ask, "IP", "IP:PORT" or "[IPv6]:PORT" (default: the system\'s resolution)' },
    query_timeout: { type: { kind: "duration" }, doc: "how long resolving may take (default 5 s; `timeout` is the action's)" },
  },
  rules(p, field) {
    const errors: string[] = [];
    const record = (p.record as RecordType | undefined) ?? "A";
    if (record === "A" || record === "AAAA") {
      const ok = record === "A" ? isIPv4 : isIPv6;
      for (const a of (p.addrs as string[] | undefined) ?? []) {
        if (!ok(a)) errors.push(`${field("addrs")}: ${JSON.stringify(a)} is not an IPv${record === "A" ? 4 : 6} address (expected for ${record} records)`);
      }
    }
    if (p.server !== undefined && parseServer(p.server as string) === undefined) {
      errors.push(`${field("server")}: expected an IP address, IP:PORT or [IPv6]:PORT ("127.0.0.53", "10.0.0.2:53", "[::1]:53"), got ${JSON.stringify(p.server)}`);
    }
    return errors;
  },
  evaluate: evaluateDns,
};

/** The server in the form Resolver.setServers takes, or undefined when it is not IP[:PORT]. */
function parseServer(text: string): string | undefined {
  if (isIP(text)) return text;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):([1-9][0-9]{0,4})$/.exec(text);
  if (!m || Number(m[3]) > 65535) return undefined;
  if (m[1] !== undefined ? !isIPv6(m[1]) : !isIPv4(m[2]!)) return undefined;
  return text;
}

/** One answer: its canonical text, and the other spellings `addrs` may use for it. */
interface Answer {
  text: string;
  also: string[];
}

async function evaluateDns(p: Params): Promise<Evaluation> {
  const name = p.name as string;
  const record = (p.record as RecordType | undefined) ?? "A";
  const server = p.server as string | undefined;
  const timeoutMs = (p.query_timeout as number | undefined) ?? DNS_DEFAULT_TIMEOUT_MS;
  const via = server !== undefined ? `server ${server}` : record === "A" || record === "AAAA" ? "the system's lookup" : "the system's DNS servers";
  const what = `${record} ${name} (via ${via})`;
  const started = performance.now();
  let answers: Answer[];
  try {
    answers = await withTimeout(resolve(name, record, server, timeoutMs), timeoutMs);
  } catch (e) {
    return { status: "fail", message: `${what}: ${dnsReason(e, timeoutMs)}` };
  }
  const ms = Math.round(performance.now() - started);
  const found = answers.map((a) => a.text);
  const shown = `${found.map((t) => quote(t, 60)).join(", ")} in ${ms} ms`;
  if (answers.length === 0) return { status: "fail", message: `${what}: no ${record} records (in ${ms} ms)` };
  const missing = ((p.addrs as string[] | undefined) ?? []).filter((want) => {
    const w = canonical(record, want);
    return !answers.some((a) => a.text === w || a.also.includes(w));
  });
  if (missing.length > 0) return { status: "fail", message: `${what}: lacks ${missing.map((m) => quote(m, 60)).join(", ")}; answered ${shown}` };
  return { status: "pass", message: `${what}: ${shown}` };
}

/** How `addrs` text compares with an answer: addresses in one spelling, names without case or trailing dot. */
function canonical(record: RecordType, text: string): string {
  if (record === "TXT") return text;
  if (isIPv6(text)) return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  return text.toLowerCase().replace(/\.$/, "");
}

async function resolve(name: string, record: RecordType, server: string | undefined, timeoutMs: number): Promise<Answer[]> {
  const n = (x: string) => canonical(record, x);
  const plain = (xs: string[]) => xs.map((x) => ({ text: n(x), also: [] }));
  if (server === undefined && (record === "A" || record === "AAAA")) {
    // hints 0: no ADDRCONFIG (localhost's ::1 counts on a host without a
    // global IPv6 address) and no V4MAPPED (an AAAA answer is a real one).
    const found = await dns.lookup(name, { family: record === "A" ? 4 : 6, all: true, hints: 0 });
    return plain([...new Set(found.map((a) => a.address))]);
  }
  // One try, bounded by the timeout (withTimeout bounds the whole; the
  // resolver's own timeout ends the query it sent).
  const r = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
  if (server !== undefined) r.setServers([server]);
  switch (record) {
    case "A":
      return plain(await r.resolve4(name));
    case "AAAA":
      return plain(await r.resolve6(name));
    case "CNAME":
      return plain(await r.resolveCname(name));
    case "NS":
      return plain(await r.resolveNs(name));
    case "PTR":
      return plain(isIP(name) ? await r.reverse(name) : await r.resolvePtr(name));
    case "TXT":
      return (await r.resolveTxt(name)).map((chunks) => ({ text: chunks.join(""), also: [] }));
    case "MX":
      return (await r.resolveMx(name)).map((m) => ({ text: `${m.priority} ${n(m.exchange)}`, also: [n(m.exchange)] }));
    case "SRV":
      return (await r.resolveSrv(name)).map((s) => ({ text: `${s.priority} ${s.weight} ${s.port} ${n(s.name)}`, also: [n(s.name), `${n(s.name)}:${s.port}`] }));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error("timed out"), { code: "ETIMEOUT" })), ms);
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

function dnsReason(e: unknown, timeoutMs: number): string {
  const code = (e as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOTFOUND: "the name does not exist",
    ENODATA: "no records of this type",
    ETIMEOUT: `no answer within ${timeoutMs} ms`,
    ECONNREFUSED: "the server refused the query",
    EREFUSED: "the server refused the query",
    ESERVFAIL: "the server failed (SERVFAIL)",
    EAI_AGAIN: "the name could not be resolved now (temporary failure)",
    EBADNAME: "not a valid name",
  };
  const reason = code ? reasons[code] : undefined;
  if (reason) return `${reason} (${code})`;
  const text = errorMessage(e);
  return code && !text.includes(code) ? `${text} (${code})` : text;
}
