import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadCheckFile, parseCheckInput, runLocalCheck, type ParseResult } from "../src/checks/index.js";

const fixtures = fileURLToPath(new URL("../../test/fixtures/goss/", import.meta.url));

const yaml = (text: string, label = "f.yaml"): Promise<ParseResult> => parseCheckInput(Buffer.from(text), label, { yaml: true, baseDir: fixtures });

async function errorsOf(text: string): Promise<string[]> {
  const r = await yaml(text);
  assert.equal(r.ok, false, `expected errors, got ${JSON.stringify(r)}`);
  return r.ok ? [] : r.errors;
}

async function documentOf(text: string): Promise<Record<string, unknown>> {
  const r = await yaml(text);
  assert.ok(r.ok, `expected a valid file, got ${JSON.stringify(r)}`);
  return r.document ?? {};
}

describe("check files in YAML (gossipcheck's format)", () => {
  it("reads the same structure as the JSON", async () => {
    const r = await loadCheckFile(join(fixtures, "ours.yaml"));
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.checks, [
      { name: "hostname_exists", type: "file_exists", path: "/etc/hostname" },
      { name: "bash_installed", type: "package", params: { package: "bash" }, action: "apt-get install -y bash", timeoutMs: 300_000 },
    ]);
  });

  it("gives syntax errors with line and column", async () => {
    assert.deepEqual(await errorsOf('a:\n  type: file_exists\n  path: "/etc/hostname\n'), ['f.yaml:4:1: malformed YAML: Missing closing "quote']);
    assert.deepEqual(await errorsOf("a:\n  type: file_exists\n\tpath: /x\n"), ["f.yaml:3:1: malformed YAML: Tabs are not allowed as indentation"]);
  });

  it("gives a key defined twice with its line and column", async () => {
    const [e] = await errorsOf("a:\n  type: file_exists\n  path: /x\na:\n  type: file_exists\n");
    assert.match(e!, /^f\.yaml:4:1: malformed YAML: .*[Uu]nique/);
  });

  it("names the check's line and column in a field error", async () => {
    assert.deepEqual(await errorsOf("# a note\nok:\n  type: file_exists\n  path: /x\nbad:\n  type: package\n  package: bash\n  instaled: true\n"), [
      'f.yaml:5:1: check "bad": field "instaled" is unknown for type package (known fields: type, action, timeout, keep_children, description, interval, splay, quorum, package, installed, versions; did you mean "installed"?)',
    ]);
  });

  it("rejects an empty file and a top level that is not a mapping", async () => {
    assert.match((await errorsOf("# nothing\n"))[0]!, /^f\.yaml: the file is empty/);
    assert.match((await errorsOf("- a\n- b\n"))[0]!, /^f\.yaml: the top level is an array/);
  });

  it("standard input: JSON when it starts with {, YAML otherwise", async () => {
    const json = await parseCheckInput(Buffer.from('{"a": {"type": "file_exists", "path": "/x"}}'), "standard input");
    const yml = await parseCheckInput(Buffer.from("a:\n  type: file_exists\n  path: /x\n"), "standard input");
    assert.ok(json.ok && yml.ok);
    assert.deepEqual(json.checks, yml.checks);
    const bad = await parseCheckInput(Buffer.from('{"a": {"type": "file_exists",}}'), "standard input");
    assert.ok(!bad.ok && bad.errors[0]!.includes("malformed JSON"));
  });
});

describe("Goss gossfiles", () => {
  it("translates each resource type", async () => {
    const doc = await documentOf(`
file:
  /etc/passwd: {exists: true, mode: "0644", owner: root, group: root, filetype: file, size: 10, sha256: ${"a".repeat(64)}, title: the users}
package:
  nginx: {installed: true, versions: [1.17.8]}
  httpd: {name: apache2, installed: false}
addr:
  tcp://127.0.0.1:80: {reachable: true, timeout: 500}
port:
  tcp:22: {listening: true, ip: [0.0.0.0]}
service:
  sshd: {enabled: true, running: true}
user:
  nfsnobody: {exists: true, uid: 65534, gid: 65534, groups: [nfsnobody], home: /var/lib/nfs, shell: /sbin/nologin}
group:
  nfsnobody: {exists: true, gid: 65534}
command:
  go version: {exit-status: 0, stdout: [go version go1.6 linux/amd64], stderr: [], timeout: 10000}
  named: {exec: "echo '!x'", stdout: ["\\\\!x"]}
dns:
  localhost: {resolvable: true, addrs: [127.0.0.1], server: 8.8.8.8, timeout: 500}
  ip6-localhost: {addrs: ["::1"]}
  CNAME:c.dnstest.io: {resolvable: true, addrs: [a.dnstest.io.], server: 208.67.222.222}
process:
  chrome: {running: true}
kernel-param:
  kernel.ostype: {value: Linux}
  vm.swappiness: {value: 60}
mount:
  /home: {exists: true, opts: [rw, relatime], filesystem: xfs}
http:
  https://www.google.com: {status: 200, allow-insecure: false, timeout: 1000, body: [ok], headers: ["Content-Type: text/html"], method: GET, ca-file: /etc/ssl/cert.pem}
`);
    assert.deepEqual(doc, {
      "file: /etc/passwd": {
        type: "file",
        path: "/etc/passwd",
        exists: true,
        mode: "0644",
        owner: "root",
        group: "root",
        filetype: "file",
        size: 10,
        sha256: "a".repeat(64),
        description: "the users",
      },
      "package: nginx": { type: "package", package: "nginx", installed: true, versions: ["1.17.8"] },
      "package: httpd": { type: "package", package: "apache2", installed: false },
      "addr: tcp://127.0.0.1:80": { type: "tcp", address: "127.0.0.1:80", reachable: true, connect_timeout: "500ms" },
      "port: tcp:22": { type: "port", port: "tcp:22", listening: true, ip: "0.0.0.0" },
      "service: sshd": { type: "service", service: "sshd", enabled: true, running: true },
      "user: nfsnobody": { type: "user", user: "nfsnobody", exists: true, uid: 65534, gid: 65534, groups: ["nfsnobody"], home: "/var/lib/nfs", shell: "/sbin/nologin" },
      "group: nfsnobody": { type: "group", group: "nfsnobody", exists: true, gid: 65534 },
      "command: go version": { type: "command", command: "go version", exit_status: 0, stdout_contains: ["go version go1.6 linux/amd64"], timeout: "10000ms" },
      "command: named": { type: "command", command: "echo '!x'", stdout_contains: ["!x"] },
      "dns: localhost": { type: "dns", name: "localhost", addrs: ["127.0.0.1"], server: "8.8.8.8", query_timeout: "500ms" },
      "dns: ip6-localhost": { type: "dns", name: "ip6-localhost", record: "AAAA", addrs: ["::1"] },
      "dns: CNAME:c.dnstest.io": { type: "dns", name: "c.dnstest.io", record: "CNAME", addrs: ["a.dnstest.io."], server: "208.67.222.222" },
      "process: chrome": { type: "process_running", path: "chrome" },
      "kernel-param: kernel.ostype": { type: "kernel_param", key: "kernel.ostype", value: "Linux" },
      "kernel-param: vm.swappiness": { type: "kernel_param", key: "vm.swappiness", value: "60" },
      "mount: /home": { type: "mount", path: "/home", exists: true, filesystem: "xfs", opts: ["rw", "relatime"] },
      "http: https://www.google.com": {
        type: "http",
        url: "https://www.google.com",
        method: "GET",
        status: 200,
        body_contains: ["ok"],
        headers: { "Content-Type": "text/html" },
        insecure: false,
        ca_file: "/etc/ssl/cert.pem",
        request_timeout: "1000ms",
      },
    });
  });

  it("carries action (gossipcheck's extension) to the check's action", async () => {
    const r = await yaml("service:\n  nginx:\n    running: true\n    action: systemctl restart nginx\n");
    assert.ok(r.ok);
    assert.deepEqual(r.checks, [{ name: "service: nginx", type: "service", params: { service: "nginx", running: true }, action: "systemctl restart nginx" }]);
  });

  it("accepts skip: false (what goss add writes)", async () => {
    assert.ok((await yaml("package:\n  bash:\n    installed: true\n    skip: false\n")).ok);
  });

  it("tells a check file of ours with a check named like a Goss type by its type key", async () => {
    const r = await yaml("file:\n  type: file_exists\n  path: /etc/hostname\n");
    assert.ok(r.ok);
    assert.deepEqual(r.checks, [{ name: "file", type: "file_exists", path: "/etc/hostname" }]);
  });

  // Each unsupported feature: the line and column of the key, the resource, the attribute, and what to do.
  const unsupported: [string, string, RegExp][] = [
    ["a Go template", "package:\n  {{ .Vars.pkg }}:\n    installed: true\n", /^f\.yaml:2: Go templates \("\{\{"\) are not supported: render the file first/],
    [
      "an advanced matcher",
      "dns:\n  localhost:\n    resolvable: true\n    addrs:\n      consist-of: [127.0.0.1]\n",
      /^f\.yaml:4:5: dns "localhost": attribute "addrs": the advanced matcher "consist-of" is not supported/,
    ],
    ["an {and: ...} matcher", "mount:\n  /:\n    exists: true\n    opts: {and: [rw]}\n", /^f\.yaml:4:5: mount "\/": attribute "opts": the advanced matcher "and" is not supported/],
    [
      "a matcher in a list",
      "user:\n  root:\n    groups:\n    - {contain-element: root}\n",
      /^f\.yaml:3:5: user "root": attribute "groups": expected a list of strings, found an object \(advanced matchers are not supported\)/,
    ],
    ["a regex pattern", "command:\n  date:\n    stdout: [/20\\d\\d/]\n", /^f\.yaml:3:5: command "date": attribute "stdout": "\/20\\\\d\\\\d\/": regular-expression patterns are not supported/],
    ["a negated pattern", "command:\n  date:\n    stdout: ['!error']\n", /^f\.yaml:3:5: command "date": attribute "stdout": "!error": negated patterns/],
    ["stdout as a string", "command:\n  date:\n    stdout: 2024\n", /^f\.yaml:3:5: command "date": attribute "stdout": expected a list, got number 2024/],
    ["skip: true", "package:\n  bash:\n    skip: true\n", /^f\.yaml:3:5: package "bash": attribute "skip": true is not supported .*remove the resource, or the skip/],
    ["meta", "package:\n  bash:\n    meta: {owner: me}\n", /^f\.yaml:3:5: package "bash": attribute "meta": is not supported: remove it/],
    ["an attribute we lack", "file:\n  /etc/passwd:\n    md5: abc\n", /^f\.yaml:3:5: file "\/etc\/passwd": attribute "md5": md5 is not supported: give sha256 instead/],
    ["file contents", "file:\n  /etc/passwd:\n    contents: [root]\n", /^f\.yaml:3:5: file "\/etc\/passwd": attribute "contents": is not supported in a gossfile: add a file_contains check/],
    ["an unknown attribute", "package:\n  bash:\n    instaled: true\n", /^f\.yaml:3:5: package "bash": attribute "instaled": is not supported for package by gossipcheck/],
    ["the interface type", "interface:\n  eth0:\n    exists: true\n", /^f\.yaml:1:1: "interface": the Goss resource type interface is not supported/],
    ["the matching type", "package:\n  bash: {}\nmatching:\n  x: {content: 1, matches: 1}\n", /^f\.yaml:3:1: "matching": the Goss resource type matching is not supported/],
    ["an unknown type", "package:\n  bash: {}\npackages:\n  x: {}\n", /^f\.yaml:3:1: "packages": not a Goss resource type/],
    [
      "dns addresses of both families",
      "dns:\n  localhost:\n    addrs: [127.0.0.1, '::1']\n",
      /^f\.yaml:3:5: dns "localhost": attribute "addrs": mixes IPv4 and IPv6 addresses.*split it into A:NAME and AAAA:NAME/,
    ],
    ["a udp addr", "addr:\n  udp://127.0.0.1:53:\n    reachable: true\n", /^f\.yaml:2:3: addr "udp:\/\/127.0.0.1:53": attribute "address": udp addresses are not supported/],
    ["local-address", "addr:\n  tcp://127.0.0.1:80:\n    local-address: 127.0.0.1\n", /^f\.yaml:3:5: addr "tcp:\/\/127.0.0.1:80": attribute "local-address": is not supported/],
    ["two port ips", "port:\n  tcp:22:\n    ip: [0.0.0.0, '::']\n", /^f\.yaml:3:5: port "tcp:22": attribute "ip": more than one address is not supported/],
    ["process running: false", "process:\n  foobar:\n    running: false\n", /^f\.yaml:3:5: process "foobar": attribute "running": false is not supported/],
    ["dns resolvable: false", "dns:\n  nx.invalid:\n    resolvable: false\n", /^f\.yaml:3:5: dns "nx.invalid": attribute "resolvable": false is not supported/],
    ["service runlevels", "service:\n  sshd:\n    runlevels: ['3']\n", /^f\.yaml:3:5: service "sshd": attribute "runlevels": is not supported/],
    ["mount usage", "mount:\n  /:\n    usage: {lt: 95}\n", /^f\.yaml:3:5: mount "\/": attribute "usage": is not supported/],
    ["http basic auth", "http:\n  http://x/:\n    status: 200\n    username: u\n", /^f\.yaml:4:5: http "http:\/\/x\/": attribute "username": is not supported by gossipcheck's http check/],
    ["a gossfile glob", "gossfile:\n  '*.yaml': {}\n", /^f\.yaml:2:3: gossfile "\*\.yaml": attribute "file": "\*\.yaml": glob patterns are not supported/],
    ["a value of the wrong kind", "package:\n  bash:\n    installed: yes please\n", /^f\.yaml:3:5: package "bash": attribute "installed": expected true or false, got the string "yes please"/],
  ];
  for (const [what, text, expected] of unsupported) {
    it(`refuses ${what}, naming the line and the key`, async () => {
      const errors = await errorsOf(text);
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.match(errors[0]!, expected);
    });
  }

  it("validates the translated check with our rules, at the resource's line", async () => {
    assert.deepEqual(await errorsOf("port:\n  tcp:99999:\n    listening: true\n"), [(await errorsOf("port:\n  tcp:99999:\n    listening: true\n"))[0]!]);
    assert.match((await errorsOf("port:\n  tcp:99999:\n    listening: true\n"))[0]!, /^f\.yaml:2:3: check "port: tcp:99999": field "port"/);
  });

  describe("includes (gossfile)", () => {
    it("reads an included file relative to the including file", async () => {
      const r = await loadCheckFile(join(fixtures, "goss.yaml"));
      assert.ok(r.ok, JSON.stringify(r));
      const names = r.checks.map((c) => c.name);
      assert.ok(names.includes("package: bash") && names.includes("command: echo 'hi'") && names.includes("file: /tmp"), names.join(", "));
    });

    it("names a missing include, a loop and a check defined twice", async () => {
      const dir = await mkdtemp(join(tmpdir(), "gcheck-goss-"));
      try {
        await writeFile(join(dir, "a.yaml"), "package:\n  bash: {}\ngossfile:\n  b.yaml: {}\n  missing.yaml: {}\n");
        await writeFile(join(dir, "b.yaml"), "package:\n  bash: {}\ngossfile:\n  a.yaml: {}\n");
        const a = join(dir, "a.yaml");
        const r = await loadCheckFile(a);
        assert.ok(!r.ok);
        assert.deepEqual(r.errors, [
          `${join(dir, "b.yaml")}:4:3: gossfile "a.yaml" includes itself (directly or through other files): remove the loop`,
          `${a}:5:3: gossfile "missing.yaml": no such file (${join(dir, "missing.yaml")}): includes are relative to the including file's directory`,
          `${join(dir, "b.yaml")}:2:3: check "package: bash" is defined twice (first at ${a}:2:3): keep one`,
        ]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  it("a real gossfile gives, on this machine, the verdicts Goss would", async () => {
    const r = await loadCheckFile(join(fixtures, "goss.yaml"));
    assert.ok(r.ok, JSON.stringify(r));
    const results = await runLocalCheck(r.checks);
    const verdicts = Object.fromEntries(results.map((x) => [x.name, x.status]));
    const failing = ["package: gossipcheck-no-such-package", "file: /does/not/exist"];
    for (const x of results) {
      assert.equal(x.status, failing.includes(x.name) ? "fail" : "pass", `${x.name}: ${x.message}`);
    }
    assert.equal(verdicts["package: bash"], "pass");
    assert.equal(results.length, 21);
    // The action extension came through (local-check runs none).
    assert.match(results.find((x) => x.name === failing[0])!.message, /action skipped/);
  });
});
