import { describe } from "../fields.js";
import { isToolKey } from "../validate.js";

/*
 * Goss gossfiles (https://github.com/goss-org/goss, docs/gossfile.md)
 * translated to gossipcheck checks: one check per resource, named
 * "<resource type>: <key>", with Goss's plain values (equality) and lists
 * (every listed item must be found) mapped to our fields. What we cannot
 * express the same way is an error naming the line, the resource and the
 * attribute, never a check that passes where Goss would fail.
 *
 * Which document is a gossfile: one whose top-level keys include a Goss
 * resource type name (file, package, port...) and none of whose top-level
 * values is a mapping with a "type" key (that is a check of our format).
 */

export const GOSS_TYPES = ["file", "package", "addr", "port", "service", "user", "group", "command", "dns", "process", "kernel-param", "mount", "http", "gossfile", "interface", "matching"] as const;
const UNSUPPORTED_TYPES: Record<string, string> = {
  interface: "gossipcheck has no network interface check: check it with a command resource (e.g. ip -o addr show eth0)",
  matching: "gossipcheck has no matching resource (it compares values given in the file, usually through templates): remove it",
};

export interface GossCheck {
  name: string;
  /** "file:line:column" of the resource's key. */
  where: string;
  fields: Record<string, unknown>;
}

export interface GossInclude {
  /** The path as written (relative to the including file's directory). */
  file: string;
  where: string;
}

export interface GossTranslation {
  checks: GossCheck[];
  includes: GossInclude[];
  errors: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function isGossfile(value: unknown): boolean {
  if (!isObject(value)) return false;
  const keys = Object.keys(value).filter((k) => !isToolKey(k));
  return keys.some((k) => (GOSS_TYPES as readonly string[]).includes(k)) && !keys.some((k) => isObject(value[k]) && "type" in value[k]);
}

type At = (path: readonly string[]) => string;

/** Reads one resource's attributes; every attribute not taken is reported as unsupported at the end. */
class Attrs {
  private readonly taken = new Set<string>();
  constructor(
    readonly type: string,
    readonly key: string,
    private readonly attrs: Record<string, unknown>,
    private readonly at: At,
    private readonly errors: string[],
  ) {}

  private where(attr: string): string {
    return `${this.at([this.type, this.key, attr])}: ${this.type} ${JSON.stringify(this.key)}: attribute ${JSON.stringify(attr)}`;
  }

  error(attr: string, message: string): void {
    this.errors.push(`${this.where(attr)}: ${message}`);
  }

  has(attr: string): boolean {
    return this.attrs[attr] !== undefined && this.attrs[attr] !== null;
  }

  /** The raw value, unless it is an advanced matcher (a mapping), which is reported. */
  private plain(attr: string): unknown {
    this.taken.add(attr);
    const v = this.attrs[attr];
    if (v === undefined || v === null) return undefined;
    if (isObject(v)) {
      const m = Object.keys(v)[0] ?? "";
      this.error(attr, `the advanced matcher ${JSON.stringify(m)} is not supported: give a plain value${Array.isArray(v) ? "" : " or a list"}, or write the check in gossipcheck's format`);
      return undefined;
    }
    return v;
  }

  bool(attr: string): boolean | undefined {
    const v = this.plain(attr);
    if (v === undefined || typeof v === "boolean") return v;
    this.error(attr, `expected true or false, got ${describe(v)}`);
    return undefined;
  }

  int(attr: string): number | undefined {
    const v = this.plain(attr);
    if (v === undefined || (typeof v === "number" && Number.isInteger(v))) return v;
    this.error(attr, `expected a whole number, got ${describe(v)}`);
    return undefined;
  }

  /** A string; numbers and booleans are taken as written (a kernel-param's value 1, "exec: true"), as Goss's YAML reader takes them. */
  str(attr: string): string | undefined {
    const v = this.plain(attr);
    if (v === undefined || typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    this.error(attr, `expected a string, got ${describe(v)}`);
    return undefined;
  }

  /**
   * A list of strings. `patterns`: Goss reads them as patterns, "!text"
   * (must not contain) and "/regex/", which are reported; "\\!text" is the
   * text "!text".
   */
  list(attr: string, patterns = false): string[] | undefined {
    const v = this.plain(attr);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) {
      this.error(attr, `expected a list, got ${describe(v)} (write it as a list, e.g. ${attr}: [${JSON.stringify(String(v))}])`);
      return undefined;
    }
    const out: string[] = [];
    for (const item of v) {
      if (typeof item !== "string" && typeof item !== "number") {
        this.error(attr, `expected a list of strings, found ${describe(item)}${isObject(item) ? " (advanced matchers are not supported)" : ""}`);
        return undefined;
      }
      let s = String(item);
      if (patterns && s.startsWith("!")) {
        this.error(attr, `${JSON.stringify(s)}: negated patterns ("!text": must not contain) are not supported: write a command check in gossipcheck's format (e.g. ! grep -q TEXT FILE)`);
        return undefined;
      }
      if (patterns && s.length > 1 && s.startsWith("/") && s.endsWith("/")) {
        this.error(attr, `${JSON.stringify(s)}: regular-expression patterns are not supported here: list plain texts to contain, or write the check in gossipcheck's format`);
        return undefined;
      }
      if (patterns && s.startsWith("\\!")) s = s.slice(1);
      out.push(s);
    }
    return out;
  }

  /** Goss's timeouts are milliseconds. */
  ms(attr: string): string | undefined {
    const n = this.int(attr);
    if (n === undefined) return undefined;
    if (n <= 0) {
      this.error(attr, `expected a number of milliseconds greater than 0, got ${n}`);
      return undefined;
    }
    return `${n}ms`;
  }

  unsupported(attr: string, why: string): void {
    if (!this.has(attr)) return;
    this.taken.add(attr);
    this.error(attr, why);
  }

  /** Reports every attribute nobody took. */
  finish(): void {
    for (const attr of Object.keys(this.attrs)) {
      if (this.taken.has(attr) || isToolKey(attr)) continue;
      this.error(attr, `is not supported for ${this.type} by gossipcheck: remove it, or write this check in gossipcheck's format`);
    }
  }
}

/** The fields of the check one resource becomes (without the common ones), or undefined after an error. */
type Translate = (a: Attrs) => Record<string, unknown> | undefined;

const defined = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const TRANSLATE: Record<string, { type: string; translate: Translate }> = {
  file: {
    type: "file",
    translate(a) {
      a.unsupported("contents", "is not supported in a gossfile: add a file_contains check per text in gossipcheck's format");
      a.unsupported("md5", "md5 is not supported: give sha256 instead");
      a.unsupported("sha512", "sha512 is not supported: give sha256 instead");
      a.unsupported("linked-to", "is not supported: check the link with a command resource (readlink PATH)");
      return defined({
        path: a.str("path") ?? a.key,
        exists: a.bool("exists"),
        mode: a.str("mode"),
        owner: a.str("owner"),
        group: a.str("group"),
        filetype: a.str("filetype"),
        size: a.int("size"),
        sha256: a.str("sha256"),
      });
    },
  },
  package: {
    type: "package",
    translate: (a) => defined({ package: a.str("name") ?? a.key, installed: a.bool("installed"), versions: a.list("versions") }),
  },
  addr: {
    type: "tcp",
    translate(a) {
      const address = a.str("address") ?? a.key;
      a.unsupported("local-address", "is not supported: gossipcheck connects from the address the system chooses");
      const fields = { reachable: a.bool("reachable"), connect_timeout: a.ms("timeout") };
      const m = /^(tcp|udp):\/\/(.+)$/.exec(address);
      if (!m || m[1] === "udp") {
        a.error("address", m ? "udp addresses are not supported (only tcp://HOST:PORT)" : `expected tcp://HOST:PORT, got ${JSON.stringify(address)}`);
        return undefined;
      }
      return defined({ address: m[2], ...fields });
    },
  },
  port: {
    type: "port",
    translate(a) {
      const ips = a.list("ip");
      if (ips !== undefined && ips.length > 1) {
        a.error("ip", "more than one address is not supported: write one port check per address in gossipcheck's format");
        return undefined;
      }
      return defined({ port: a.str("port") ?? a.key, listening: a.bool("listening"), ip: ips?.[0] });
    },
  },
  service: {
    type: "service",
    translate(a) {
      a.unsupported("runlevels", "is not supported: gossipcheck checks systemd units");
      return defined({ service: a.str("name") ?? a.key, enabled: a.bool("enabled"), running: a.bool("running") });
    },
  },
  user: {
    type: "user",
    translate: (a) =>
      defined({
        user: a.str("username") ?? a.key,
        exists: a.bool("exists"),
        uid: a.int("uid"),
        gid: a.int("gid"),
        groups: a.list("groups"),
        home: a.str("home"),
        shell: a.str("shell"),
      }),
  },
  group: {
    type: "group",
    translate: (a) => defined({ group: a.str("groupname") ?? a.key, exists: a.bool("exists"), gid: a.int("gid") }),
  },
  command: {
    type: "command",
    translate: (a) =>
      defined({
        command: a.str("exec") ?? a.key,
        exit_status: a.int("exit-status"),
        stdout_contains: nonEmpty(a.list("stdout", true)),
        stderr_contains: nonEmpty(a.list("stderr", true)),
        // The command's bound: our "timeout" bounds a command check's command.
        timeout: a.ms("timeout"),
      }),
  },
  dns: {
    type: "dns",
    translate(a) {
      const resolvable = a.bool("resolvable");
      if (resolvable === false) {
        a.error("resolvable", "false is not supported (gossipcheck's dns check passes only when the name resolves): check it with a command resource");
        return undefined;
      }
      const key = a.str("resolve") ?? a.key;
      const m = /^(A|AAAA|CAA|CNAME|MX|NS|PTR|SRV|TXT):(.+)$/.exec(key);
      if (m?.[1] === "CAA") {
        a.error("resolve", "CAA records are not supported");
        return undefined;
      }
      const addrs = a.list("addrs");
      let record = m?.[1];
      // Goss looks a plain name up for both families; our dns check asks one record type.
      if (record === undefined && addrs !== undefined && addrs.length > 0) {
        const v6 = addrs.filter((x) => x.includes(":")).length;
        if (v6 > 0 && v6 < addrs.length) {
          a.error("addrs", "mixes IPv4 and IPv6 addresses, and gossipcheck's dns check asks for one record type: split it into A:NAME and AAAA:NAME resources");
          return undefined;
        }
        if (v6 > 0) record = "AAAA";
      }
      return defined({ name: m ? m[2] : key, record, addrs, server: a.str("server"), query_timeout: a.ms("timeout") });
    },
  },
  process: {
    type: "process_running",
    translate(a) {
      if (a.bool("running") === false) {
        a.error("running", "false is not supported (gossipcheck's process_running passes only when a process runs): check it with a command resource (! pgrep -x NAME)");
        return undefined;
      }
      // Goss compares the binary's name (comm); process_running looks for text in the executable's path.
      return { path: a.str("comm") ?? a.key };
    },
  },
  "kernel-param": {
    type: "kernel_param",
    translate: (a) => defined({ key: a.str("name") ?? a.key, value: a.str("value") }),
  },
  mount: {
    type: "mount",
    translate(a) {
      for (const attr of ["source", "vfs-opts", "usage"]) a.unsupported(attr, "is not supported: gossipcheck's mount check looks at the mount point, file system and options");
      a.unsupported("timeout", "is not supported: gossipcheck reads /proc/self/mountinfo, which does not hang; remove it");
      return defined({ path: a.str("mountpoint") ?? a.key, exists: a.bool("exists"), filesystem: a.str("filesystem"), opts: a.list("opts") });
    },
  },
  http: {
    type: "http",
    translate(a) {
      const headers = a.list("headers", true);
      let headerMap: Record<string, string> | undefined;
      if (headers !== undefined) {
        headerMap = {};
        for (const h of headers) {
          const i = h.indexOf(":");
          if (i <= 0) {
            a.error("headers", `${JSON.stringify(h)}: expected "Name: text" (gossipcheck checks a header by name)`);
            return undefined;
          }
          headerMap[h.slice(0, i).trim()] = h.slice(i + 1).trim();
        }
      }
      for (const attr of ["no-follow-redirects", "request-headers", "request-body", "username", "password", "cert-file", "key-file", "proxy"]) {
        a.unsupported(attr, "is not supported by gossipcheck's http check: remove it, or check the URL with a command resource (curl)");
      }
      return defined({
        url: a.str("url") ?? a.key,
        method: a.str("method"),
        status: a.int("status"),
        body_contains: nonEmpty(a.list("body", true)),
        headers: headerMap,
        insecure: a.bool("allow-insecure"),
        ca_file: a.str("ca-file") || undefined,
        request_timeout: a.ms("timeout"),
      });
    },
  },
};

const nonEmpty = (l: string[] | undefined): string[] | undefined => (l === undefined || l.length === 0 ? undefined : l);

/** Translates one gossfile's document; `at` gives the position of a key path. */
export function translateGossfile(value: Record<string, unknown>, at: At): GossTranslation {
  const out: GossTranslation = { checks: [], includes: [], errors: [] };
  for (const [type, resources] of Object.entries(value)) {
    if (isToolKey(type)) continue;
    const here = `${at([type])}: ${JSON.stringify(type)}`;
    if (UNSUPPORTED_TYPES[type] !== undefined) {
      out.errors.push(`${here}: the Goss resource type ${type} is not supported: ${UNSUPPORTED_TYPES[type]}`);
      continue;
    }
    if (type !== "gossfile" && TRANSLATE[type] === undefined) {
      out.errors.push(`${here}: not a Goss resource type (known: ${GOSS_TYPES.join(", ")})`);
      continue;
    }
    if (resources === null || resources === undefined) continue;
    if (!isObject(resources)) {
      out.errors.push(`${here}: expected a mapping of ${type} resources (key: attributes), got ${describe(resources)}`);
      continue;
    }
    for (const [key, raw] of Object.entries(resources)) {
      const where = at([type, key]);
      const attrs = raw === null ? {} : raw;
      if (!isObject(attrs)) {
        out.errors.push(`${where}: ${type} ${JSON.stringify(key)}: expected a mapping of attributes, got ${describe(raw)}`);
        continue;
      }
      const a = new Attrs(type, key, attrs, at, out.errors);
      const before = out.errors.length;
      // skip: false (what goss add writes) changes nothing; skip: true would report the resource as neither passed nor failed.
      if (a.bool("skip") === true) a.error("skip", "true is not supported (gossipcheck has no skipped checks): remove the resource, or the skip");
      a.unsupported("meta", "is not supported: remove it (a note can go in title, which becomes the check's description)");
      const description = a.str("title");
      const action = a.str("action");
      if (type === "gossfile") {
        const file = a.str("file") ?? key;
        if (/[*?[]/.test(file)) a.error("file", `${JSON.stringify(file)}: glob patterns are not supported: include each file by name`);
        a.finish();
        if (out.errors.length === before) out.includes.push({ file, where });
        continue;
      }
      const t = TRANSLATE[type]!;
      const fields = t.translate(a);
      a.finish();
      if (out.errors.length > before || fields === undefined) continue;
      out.checks.push({
        name: `${type}: ${key}`,
        where,
        fields: { type: t.type, ...fields, ...(action !== undefined && { action }), ...(description !== undefined && { description }) },
      });
    }
  }
  return out;
}
