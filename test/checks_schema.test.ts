import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { registeredTypes } from "../src/checks/registry.js";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { fileURLToPath } from "node:url";
import { CHECK_FIELDS, CHECK_TYPES, DURATION_PATTERN, parseCheckFile } from "../src/checks/index.js";

/*
 * Keeps schema/checks.schema.json and the validator (src/checks/validate.ts)
 * in step: both judge a table of sample documents and must agree, and the
 * schema's lists (fields, types, duration pattern) must be the code's. The
 * schema is evaluated by the small draft 2020-12 evaluator below, which
 * refuses any keyword it does not implement, so a schema change it cannot
 * judge fails loudly instead of being ignored.
 */

const root = fileURLToPath(new URL("../../", import.meta.url));
const schema = JSON.parse(readFileSync(join(root, "schema/checks.schema.json"), "utf8")) as Schema;

type Schema = boolean | { [k: string]: unknown };
const annotations = new Set(["$schema", "$id", "$comment", "title", "description", "$defs", "examples"]);

function valid(s: Schema, v: unknown): boolean {
  if (s === true) return true;
  if (s === false) return false;
  const isObj = typeof v === "object" && v !== null && !Array.isArray(v);
  const obj = v as Record<string, unknown>;
  for (const [k, arg] of Object.entries(s)) {
    const a = arg as never;
    let ok: boolean;
    switch (k) {
      case "$ref": {
        const m = /^#\/\$defs\/(.+)$/.exec(arg as string);
        assert.ok(m, `unsupported $ref ${String(arg)}`);
        ok = valid(((schema as Record<string, unknown>).$defs as Record<string, Schema>)[m[1]!]!, v);
        break;
      }
      case "type":
        ok =
          arg === "object"
            ? isObj
            : arg === "number"
              ? typeof v === "number"
              : arg === "string"
                ? typeof v === "string"
                : arg === "boolean"
                  ? typeof v === "boolean"
                  : arg === "integer"
                    ? Number.isInteger(v)
                    : arg === "array"
                      ? Array.isArray(v)
                      : assert.fail(`type ${String(arg)}`);
        break;
      case "enum":
        ok = (a as unknown[]).includes(v);
        break;
      case "const":
        ok = v === arg;
        break;
      case "required":
        ok = !isObj || (a as string[]).every((f) => f in obj);
        break;
      case "properties":
        ok = !isObj || Object.entries(a as Record<string, Schema>).every(([f, sub]) => !(f in obj) || valid(sub, obj[f]));
        break;
      case "additionalProperties": {
        const known = Object.keys((s.properties as object | undefined) ?? {});
        const patterns = Object.keys((s.patternProperties as object | undefined) ?? {}).map((p) => new RegExp(p, "u"));
        ok =
          !isObj ||
          Object.keys(obj)
            .filter((f) => !known.includes(f) && !patterns.some((p) => p.test(f)))
            .every((f) => valid(a, obj[f]));
        break;
      }
      case "patternProperties":
        ok = !isObj || Object.entries(a as Record<string, Schema>).every(([p, sub]) => Object.keys(obj).every((f) => !new RegExp(p, "u").test(f) || valid(sub, obj[f])));
        break;
      case "not":
        ok = !valid(a, v);
        break;
      case "propertyNames":
        ok = !isObj || Object.keys(obj).every((f) => valid(a, f));
        break;
      case "minProperties":
        ok = !isObj || Object.keys(obj).length >= a;
        break;
      case "minLength":
        ok = typeof v !== "string" || [...v].length >= a;
        break;
      case "maxLength":
        ok = typeof v !== "string" || [...v].length <= a;
        break;
      case "pattern":
        ok = typeof v !== "string" || new RegExp(arg as string, "u").test(v);
        break;
      case "minimum":
        ok = typeof v !== "number" || v >= a;
        break;
      case "maximum":
        ok = typeof v !== "number" || v <= a;
        break;
      case "items":
        ok = !Array.isArray(v) || v.every((x) => valid(a, x));
        break;
      case "minItems":
        ok = !Array.isArray(v) || v.length >= a;
        break;
      case "exclusiveMinimum":
        ok = typeof v !== "number" || v > a;
        break;
      case "allOf":
        ok = (a as Schema[]).every((sub) => valid(sub, v));
        break;
      case "anyOf":
        ok = (a as Schema[]).some((sub) => valid(sub, v));
        break;
      case "oneOf":
        ok = (a as Schema[]).filter((sub) => valid(sub, v)).length === 1;
        break;
      case "if":
        ok = valid(valid(a, v) ? ((s.then as Schema | undefined) ?? true) : ((s.else as Schema | undefined) ?? true), v);
        break;
      case "then":
      case "else":
        ok = true; // judged with "if"
        break;
      default:
        assert.ok(annotations.has(k), `schema keyword "${k}" is not implemented by this test's evaluator: implement it here`);
        ok = true;
    }
    if (!ok) return false;
  }
  return true;
}

/** Documents both must judge alike: [what, document]. */
const samples: [string, unknown][] = [
  ["the original three checks", JSON.parse(readFileSync(join(root, "examples/checks/original.json"), "utf8"))],
  ["every field", { a: { type: "file_contains", path: "/x", check: "y", action: "z", timeout: "1m30s", keep_children: true, description: "d" } }],
  ["a scheduled check with every field", { a: { type: "http", url: "http://x/", interval: "30s", splay: "10s", quorum: "majority" } }],
  ["a scheduled check with numbers", { a: { type: "file_exists", path: "/x", interval: 10, splay: 0, quorum: 2 } }],
  ["an interval of a day", { a: { type: "file_exists", path: "/x", interval: 86400 } }],
  ["an interval under a second", { a: { type: "file_exists", path: "/x", interval: 0.5 } }],
  ["an interval over a day", { a: { type: "file_exists", path: "/x", interval: 86401 } }],
  ["a zero interval", { a: { type: "file_exists", path: "/x", interval: "0s" } }],
  ["a worded interval", { a: { type: "file_exists", path: "/x", interval: "every minute" } }],
  ["a negative splay", { a: { type: "file_exists", path: "/x", interval: "1m", splay: -1 } }],
  ["splay without interval", { a: { type: "file_exists", path: "/x", splay: "1s" } }],
  ["quorum without interval", { a: { type: "tcp", address: "db:5432", quorum: 2 } }],
  ["quorum zero", { a: { type: "tcp", address: "db:5432", interval: "10s", quorum: 0 } }],
  ["quorum as a string count", { a: { type: "tcp", address: "db:5432", interval: "10s", quorum: "2" } }],
  ["quorum fractional", { a: { type: "tcp", address: "db:5432", interval: "10s", quorum: 1.5 } }],
  ["keep_children false", { a: { type: "file_exists", path: "/x", action: "z", keep_children: false } }],
  ["keep_children as a string", { a: { type: "file_exists", path: "/x", action: "z", keep_children: "true" } }],
  ["keep_children as a number", { a: { type: "file_exists", path: "/x", action: "z", keep_children: 1 } }],
  ["keep_children null", { a: { type: "file_exists", path: "/x", action: "z", keep_children: null } }],
  ["numeric timeout", { a: { type: "file_exists", path: "/x", timeout: 2.5 } }],
  ["numeric-string timeout", { a: { type: "file_exists", path: "/x", timeout: "45" } }],
  ["zero timeout", { a: { type: "file_exists", path: "/x", timeout: 0 } }],
  ["zero string timeout", { a: { type: "file_exists", path: "/x", timeout: "0m0s" } }],
  ["negative timeout", { a: { type: "file_exists", path: "/x", timeout: -1 } }],
  ["worded timeout", { a: { type: "file_exists", path: "/x", timeout: "30 seconds" } }],
  ["boolean timeout", { a: { type: "file_exists", path: "/x", timeout: true } }],
  ["empty action and description", { a: { type: "file_exists", path: "/x", action: "", description: "" } }],
  ["process by path", { a: { type: "process_running", path: "nginx" } }],
  ["process by command line", { a: { type: "process_running", check: "nginx: master" } }],
  ["process by both", { a: { type: "process_running", path: "/usr/sbin/nginx", check: "master" } }],
  ["process with empty path but a check", { a: { type: "process_running", path: "", check: "x" } }],
  ["process with neither", { a: { type: "process_running" } }],
  ["process with both empty", { a: { type: "process_running", path: "", check: "" } }],
  ["file_exists without path", { a: { type: "file_exists" } }],
  ["file_exists with empty path", { a: { type: "file_exists", path: "" } }],
  ["file_exists with a check", { a: { type: "file_exists", path: "/x", check: "y" } }],
  ["file_exists with an empty check", { a: { type: "file_exists", path: "/x", check: "" } }],
  ["file_contains without check", { a: { type: "file_contains", path: "/x" } }],
  ["file_contains with empty check", { a: { type: "file_contains", path: "/x", check: "" } }],
  ["file_contains without path", { a: { type: "file_contains", check: "y" } }],
  ["command with every field", { a: { type: "command", command: "true", exit_status: 3, stdout_contains: ["a", "b"], stderr_contains: "c", stdout_matches: "^x", action: "y", timeout: "5s" } }],
  ["command without command", { a: { type: "command" } }],
  ["command with an empty command", { a: { type: "command", command: "" } }],
  ["command with a path", { a: { type: "command", command: "true", path: "/x" } }],
  ["command with an exit status out of range", { a: { type: "command", command: "true", exit_status: 256 } }],
  ["command with a fractional exit status", { a: { type: "command", command: "true", exit_status: 1.5 } }],
  ["command with an empty list", { a: { type: "command", command: "true", stdout_contains: [] } }],
  ["command with a list of numbers", { a: { type: "command", command: "true", stderr_contains: [1] } }],
  ["nagios plugin", { a: { type: "nagios", command: "/usr/lib/nagios/plugins/check_load -w 5 -c 10", action: "x" } }],
  ["nagios without command", { a: { type: "nagios" } }],
  ["nagios with a command-check field", { a: { type: "nagios", command: "check_x", exit_status: 1 } }],
  ["file_exists with a command field", { a: { type: "file_exists", path: "/x", exit_status: 0 } }],
  ["file_exists with every attribute", { a: { type: "file_exists", path: "/x", mode: "0644", owner: "root", group: 0, filetype: "file", size: 12, sha256: "a".repeat(64), max_age: "1h" } }],
  ["file_exists with empty attributes", { a: { type: "file_exists", path: "/x", mode: "", owner: "", filetype: "", sha256: "" } }],
  ["file_exists with a mode of 9s", { a: { type: "file_exists", path: "/x", mode: "0999" } }],
  ["file_exists with a numeric mode", { a: { type: "file_exists", path: "/x", mode: 644 } }],
  ["file_exists with an unknown filetype", { a: { type: "file_exists", path: "/x", filetype: "dir" } }],
  ["file_exists with a short sha256", { a: { type: "file_exists", path: "/x", sha256: "abc" } }],
  ["file_exists with a negative size", { a: { type: "file_exists", path: "/x", size: -1 } }],
  ["file_exists with an owner with a space", { a: { type: "file_exists", path: "/x", owner: "a b" } }],
  ["file_exists with a zero max_age", { a: { type: "file_exists", path: "/x", max_age: "0s" } }],
  ["file_exists with exists", { a: { type: "file_exists", path: "/x", exists: true } }],
  ["file_contains with a mode", { a: { type: "file_contains", path: "/x", check: "y", mode: "0644" } }],
  ["process_running with a sha256", { a: { type: "process_running", path: "x", sha256: "a".repeat(64) } }],
  ["command with an owner", { a: { type: "command", command: "true", owner: "root" } }],
  ["file with every field", { a: { type: "file", path: "/x", exists: true, mode: "755", owner: 0, group: "root", filetype: "symlink", size: 0, sha256: "A".repeat(64), max_age: 30 } }],
  ["file expected absent", { a: { type: "file", path: "/x", exists: false } }],
  ["file expected absent with a mode", { a: { type: "file", path: "/x", exists: false, mode: "0644" } }],
  ["file expected absent with an owner id", { a: { type: "file", path: "/x", exists: false, owner: 0 } }],
  ["file without path", { a: { type: "file", mode: "0644" } }],
  ["file with a check", { a: { type: "file", path: "/x", check: "y" } }],
  ["file with exists as a string", { a: { type: "file", path: "/x", exists: "no" } }],
  ["file with a command field", { a: { type: "file", path: "/x", stdout_contains: "y" } }],
  ["disk_usage with every threshold", { a: { type: "disk_usage", path: "/", max_used_percent: 90.5, min_free: 1073741824, max_inodes_used_percent: 95 } }],
  ["disk_usage without a threshold", { a: { type: "disk_usage", path: "/" } }],
  ["disk_usage without path", { a: { type: "disk_usage", min_free: 1 } }],
  ["disk_usage over 100 percent", { a: { type: "disk_usage", path: "/", max_used_percent: 101 } }],
  ["disk_usage with fractional bytes", { a: { type: "disk_usage", path: "/", min_free: 1.5 } }],
  ["disk_usage with a memory threshold", { a: { type: "disk_usage", path: "/", min_free: 1, min_available_bytes: 1 } }],
  ["memory in bytes", { a: { type: "memory", min_available_bytes: 1 } }],
  ["memory in percent", { a: { type: "memory", min_available_percent: 12.5, action: "sync" } }],
  ["memory without a threshold", { a: { type: "memory" } }],
  ["memory with a path", { a: { type: "memory", path: "/", min_available_bytes: 1 } }],
  ["memory with a percent as a string", { a: { type: "memory", min_available_percent: "10%" } }],
  ["load over 1 and 15 minutes", { a: { type: "load", max_per_cpu_1m: 2, max_per_cpu_15m: 0.75 } }],
  ["load without a threshold", { a: { type: "load" } }],
  ["load with a negative threshold", { a: { type: "load", max_per_cpu_5m: -1 } }],
  ["load with a disk threshold", { a: { type: "load", max_per_cpu_5m: 1, max_used_percent: 50 } }],
  ["port with every field", { a: { type: "port", port: "tcp6:443", ip: "::1", listening: false, action: "y" } }],
  ["port udp4 at the top of the range", { a: { type: "port", port: "udp4:65535" } }],
  ["port out of range", { a: { type: "port", port: "tcp:65536" } }],
  ["port zero", { a: { type: "port", port: "udp:0" } }],
  ["port with a leading zero", { a: { type: "port", port: "tcp:022" } }],
  ["port without protocol", { a: { type: "port", port: "22" } }],
  ["port as a number", { a: { type: "port", port: 22 } }],
  ["port with a path", { a: { type: "port", port: "tcp:22", path: "/x" } }],
  ["port with a command field", { a: { type: "port", port: "tcp:22", exit_status: 0 } }],
  ["command with a port field", { a: { type: "command", command: "true", listening: true } }],
  ["service with every field", { a: { type: "service", service: "nginx", running: true, enabled: false } }],
  ["service named like an option", { a: { type: "service", service: "--all" } }],
  ["service without a name", { a: { type: "service", running: true } }],
  ["service with running as a string", { a: { type: "service", service: "x", running: "yes" } }],
  ["package with versions", { a: { type: "package", package: "bash", versions: ["5.2.15-2+b8", "5.2.21-2"] } }],
  ["package with one version as a string", { a: { type: "package", package: "bash", versions: "5.2" } }],
  ["package not installed with versions", { a: { type: "package", package: "bash", installed: false, versions: ["1"] } }],
  ["package not installed", { a: { type: "package", package: "telnetd", installed: false } }],
  ["user with every field", { a: { type: "user", user: "root", exists: true, uid: 0, gid: 0, groups: ["root"], home: "/root", shell: "/bin/bash" } }],
  ["user that must not exist, with a uid", { a: { type: "user", user: "x", exists: false, uid: 5 } }],
  ["user that must not exist", { a: { type: "user", user: "x", exists: false } }],
  ["user with a negative uid", { a: { type: "user", user: "x", uid: -1 } }],
  ["user with a group field", { a: { type: "user", user: "x", group: "y" } }],
  ["group with a gid", { a: { type: "group", group: "root", gid: 0 } }],
  ["group with groups", { a: { type: "group", group: "root", groups: ["x"] } }],
  ["group that must not exist, with a gid", { a: { type: "group", group: "x", exists: false, gid: 3 } }],
  ["kernel_param with value and contains", { a: { type: "kernel_param", key: "kernel.ostype", value: "Linux", contains: "in" } }],
  ["kernel_param without key", { a: { type: "kernel_param", value: "1" } }],
  ["kernel_param with a number value", { a: { type: "kernel_param", key: "net.ipv4.ip_forward", value: 1 } }],
  ["mount with every field", { a: { type: "mount", path: "/proc", exists: true, filesystem: "proc", opts: ["rw", "nosuid"] } }],
  ["mount with a relative path", { a: { type: "mount", path: "proc" } }],
  ["mount without path", { a: { type: "mount", filesystem: "tmpfs" } }],
  ["mount that must not exist, with opts", { a: { type: "mount", path: "/mnt/x", exists: false, opts: "ro" } }],
  ["mount with a check", { a: { type: "mount", path: "/proc", check: "x" } }],
  ["file_exists with a mount field", { a: { type: "file_exists", path: "/x", filesystem: "ext4" } }],
  ["file_exists with exists", { a: { type: "file_exists", path: "/x", exists: true } }],
  [
    "http with every field",
    {
      a: {
        type: "http",
        url: "https://127.0.0.1:8443/health",
        method: "GET",
        status: ["2xx", 301],
        body_contains: ["ok"],
        headers: { "Content-Type": "json", "X-A": "" },
        ca_file: "/etc/ca.pem",
        request_timeout: "2s",
        action: "y",
      },
    },
  ],
  ["http insecure with a status number", { a: { type: "http", url: "http://x/", status: 204, insecure: true } }],
  ["http without url", { a: { type: "http" } }],
  ["http with an ftp url", { a: { type: "http", url: "ftp://x/" } }],
  ["http with a status out of range", { a: { type: "http", url: "http://x/", status: 600 } }],
  ["http with a status class typo", { a: { type: "http", url: "http://x/", status: ["2xy"] } }],
  ["http with a lowercase method", { a: { type: "http", url: "http://x/", method: "get" } }],
  ["http with a header not a string", { a: { type: "http", url: "http://x/", headers: { a: 1 } } }],
  ["http with empty headers", { a: { type: "http", url: "http://x/", headers: {} } }],
  ["http insecure with a ca_file", { a: { type: "http", url: "https://x/", insecure: true, ca_file: "/ca.pem" } }],
  ["http HEAD with body_contains", { a: { type: "http", url: "http://x/", method: "HEAD", body_contains: "x" } }],
  ["http with a tcp field", { a: { type: "http", url: "http://x/", reachable: true } }],
  ["tcp with every field", { a: { type: "tcp", address: "[::1]:22", reachable: false, connect_timeout: 1.5 } }],
  ["tcp without a port", { a: { type: "tcp", address: "db1" } }],
  ["tcp with a port out of range", { a: { type: "tcp", address: "db1:65536" } }],
  ["tcp with a zero timeout", { a: { type: "tcp", address: "db1:5432", connect_timeout: "0s" } }],
  ["dns with every field", { a: { type: "dns", name: "svc.test", record: "A", addrs: ["192.0.2.7"], server: "10.0.0.2:53", query_timeout: "2s" } }],
  ["dns MX with names", { a: { type: "dns", name: "x.test", record: "MX", addrs: "mail.x.test", server: "[::1]:53" } }],
  ["dns A with a name among addrs", { a: { type: "dns", name: "x.test", addrs: ["mail.x.test"] } }],
  ["dns AAAA with an IPv4 address", { a: { type: "dns", name: "x.test", record: "AAAA", addrs: "10.0.0.1" } }],
  ["dns with a server name", { a: { type: "dns", name: "x.test", server: "dns.example:53" } }],
  ["dns with an unknown record type", { a: { type: "dns", name: "x.test", record: "mx" } }],
  ["dns with a path", { a: { type: "dns", name: "x.test", path: "/x" } }],
  ["file_exists with an http field", { a: { type: "file_exists", path: "/x", url: "http://x/" } }],
  ["command with a dns field", { a: { type: "command", command: "true", name: "x" } }],
  ["missing type", { a: { path: "/x" } }],
  ["unknown type", { a: { type: "file_exist", path: "/x" } }],
  ["type not a string", { a: { type: 3, path: "/x" } }],
  ["unknown field", { a: { type: "file_exists", pth: "/x" } }],
  ["path not a string", { a: { type: "file_exists", path: 42 } }],
  ["action not a string", { a: { type: "file_exists", path: "/x", action: ["sh"] } }],
  ["description not a string", { a: { type: "file_exists", path: "/x", description: null } }],
  ["check not an object", { a: "file_exists /x" }],
  ["check is null", { a: null }],
  ["empty name", { "": { type: "file_exists", path: "/x" } }],
  ["no checks", {}],
  ["top-level array", [{ type: "file_exists", path: "/x" }]],
  ["top-level string", "checks"],
  ["top-level null", null],
  ["one good check and one bad", { a: { type: "file_exists", path: "/x" }, b: { type: "file_contains", path: "/x" } }],
  ["a $schema key", { $schema: "../../schema/checks.schema.json", a: { type: "file_exists", path: "/x" } }],
  ["$ keys of any value, top level and in a check", { $comment: ["x"], $x: null, a: { type: "file_exists", path: "/x", $comment: { n: 1 } } }],
  ["only a $schema key", { $schema: "checks.schema.json" }],
  ["a $schema key and a bad check", { $schema: "checks.schema.json", a: { type: "file_exists" } }],
  ["a key that only contains $", { a$: { type: "file_exists", path: "/x" } }],
];

for (const name of readdirSync(join(root, "examples/checks"))) {
  const text = readFileSync(join(root, "examples/checks", name), "utf8");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    continue; // malformed JSON is outside what a schema judges
  }
  samples.push([`examples/checks/${name}`, doc]);
}

describe("schema/checks.schema.json and the validator", () => {
  for (const [what, doc] of samples) {
    it(`agree on ${what}`, () => {
      const byValidator = parseCheckFile(JSON.stringify(doc), "sample.json");
      const bySchema = valid(schema, doc);
      assert.equal(bySchema, byValidator.ok, `schema says ${bySchema ? "valid" : "invalid"}, validator says ${JSON.stringify(byValidator)}`);
    });
  }

  it("sees shipped examples the way their names say", () => {
    const verdicts = samples.filter(([w]) => w.startsWith("examples/")).map(([w, d]) => [w, valid(schema, d)]);
    assert.ok(verdicts.length >= 3);
    for (const [w, ok] of verdicts) assert.equal(ok, !String(w).includes("invalid-"), String(w));
  });

  it("agree on random check documents built from the values the rules turn on", () => {
    // Each field is usually absent or valid, sometimes the edge a rule turns on.
    const pick = (...vs: unknown[]) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: fc.constantFrom(vs[0]), weight: 6 }, { arbitrary: fc.constantFrom(...vs), weight: 1 });
    const check = fc
      .record({
        type: fc.oneof({ arbitrary: fc.constantFrom("file_exists", "file_contains", "process_running"), weight: 8 }, { arbitrary: fc.constantFrom(undefined, "file_exist", 1), weight: 1 }),
        path: pick("/etc/hostname", "", 7, null),
        check: pick("x", "", ["x"]),
        action: pick("true", "", {}),
        timeout: pick("30s", "45", 2.5, "1m30s", "0s", "30 s", 0, -1, true),
        keep_children: pick(true, false, "true", 0),
        description: pick("d", "", false),
        pth: fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: fc.constant("/x"), weight: 1 }),
        $comment: fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: fc.constantFrom<unknown>("note", 3), weight: 1 }),
      })
      .map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)));
    const doc = fc.dictionary(
      fc.oneof({ arbitrary: fc.constantFrom("a", "b", "c"), weight: 18 }, { arbitrary: fc.constantFrom("", "$schema"), weight: 2 }),
      fc.oneof({ arbitrary: check, weight: 19 }, { arbitrary: fc.constantFrom<unknown>("x", null, []), weight: 1 }),
      { minKeys: 0, maxKeys: 2 },
    );
    let validSeen = 0;
    fc.assert(
      fc.property(doc, (d) => {
        const byValidator = parseCheckFile(JSON.stringify(d), "sample.json").ok;
        assert.equal(valid(schema, d), byValidator, `disagree on ${JSON.stringify(d)}`);
        if (byValidator) validSeen++;
      }),
      { numRuns: 3000 },
    );
    // Both verdicts must be well represented, or the agreement proves little.
    assert.ok(validSeen > 300 && validSeen < 2700, `only ${validSeen} of 3000 random documents were valid`);
  });

  it("lists exactly the validator's fields and types", () => {
    const check = ((schema as Record<string, unknown>).$defs as Record<string, { properties: Record<string, { enum?: string[] }> }>).check!;
    const registered = registeredTypes().flatMap((d) => Object.keys(d.fields));
    // A field several types share (path) is listed once, where it first appears.
    // Types may share a field ("exists", "gid", mount's "path"): listed once, where it first appears.
    assert.deepEqual(Object.keys(check.properties), [...new Set([...CHECK_FIELDS, ...registered])]);
    assert.deepEqual(check.properties.type!.enum, [...CHECK_TYPES]);
  });

  // Beyond the schema (its $comment says so): a written interval's bounds ("500ms", "25h") and splay <= interval; gcheck validate judges them.
  it("uses the validator's duration pattern", () => {
    assert.ok(JSON.stringify(schema).includes(JSON.stringify(DURATION_PATTERN)), "the timeout pattern in the schema differs from DURATION_PATTERN in src/checks/duration.ts");
  });
});
