import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Cluster, allAlive, startCluster, waitForViews } from "../support/cluster.js";
import { runGcheck, tempDir } from "../support/proc.js";

/*
 * `gcheck check` against ten real gossipcheckd processes on loopback: the
 * batch runs on every node (each node's action leaves a file named after
 * it), every node's result comes back in the JSON and JUnit documents, and
 * the exit code tells a CI script what happened: 0 all passed (or fixed),
 * 1 some check failed, 3 a node never answered.
 */

interface JsonNode {
  node: string;
  state: string;
  results: { name: string; status: string; action?: { exitCode: number | null } }[];
}
interface JsonDoc {
  exitCode: number;
  expected: { name: string }[];
  nodes: JsonNode[];
  summary: { expected: number; answered: number };
}

const N = 10;
const t = tempDir("gc-cluster-check-");
let cluster: Cluster;

function checkFile(name: string, checks: Record<string, unknown>): string {
  const p = join(t.path, name);
  writeFileSync(p, JSON.stringify(checks));
  return p;
}

/** Runs gcheck check against the first node. */
function check(file: string, ...args: string[]) {
  return runGcheck(["-server", cluster.seed.cliAddress, "-file", file, "check", "-timeout", "30s", ...args], { timeoutMs: 45_000 });
}

function parseDoc(stdout: string, stderr: string): JsonDoc {
  try {
    return JSON.parse(stdout) as JsonDoc;
  } catch {
    throw new Error(`gcheck -output json printed no JSON document:\n${stdout}\n${stderr}`);
  }
}

describe("gcheck check on a 10-node cluster", () => {
  before(async () => {
    cluster = await startCluster(N, { namePrefix: "c-" });
    await waitForViews(cluster.nodes, allAlive(cluster.names), { timeoutMs: 20_000, what: `every node lists all ${N} alive` });
  });
  after(async () => {
    await cluster?.close("SIGKILL");
    t.cleanup();
  });

  it("all checks pass on every node: exit 0 and 10 results", async () => {
    const file = checkFile("pass.json", { tmp_exists: { type: "file_exists", path: t.path } });
    const r = await check(file, "-output", "json");
    assert.equal(r.code, 0, r.stderr);
    const doc = parseDoc(r.stdout, r.stderr);
    assert.deepEqual(doc.expected.map((e) => e.name).sort(), cluster.names.slice().sort());
    assert.deepEqual(
      doc.nodes.map((n) => [n.node, n.state, n.results.map((x) => x.status).join()]),
      cluster.names
        .slice()
        .sort()
        .map((n) => [n, "answered", "pass"]),
    );
  });

  it("a failing check runs its action on every node (one file per node) and exits 1 with every node's result", async () => {
    const missing = join(t.path, "never-created");
    const file = checkFile("fail.json", {
      missing_file: { type: "file_exists", path: missing, action: `touch "${t.path}/acted-$GOSSIPCHECK_NODE" && echo ran on $GOSSIPCHECK_NODE` },
      tmp_exists: { type: "file_exists", path: t.path },
    });
    const r = await check(file, "-output", "json");
    assert.equal(r.code, 1, r.stderr);
    for (const name of cluster.names) assert.ok(existsSync(join(t.path, `acted-${name}`)), `the action ran on ${name}`);
    const doc = parseDoc(r.stdout, r.stderr);
    assert.equal(doc.exitCode, 1);
    assert.deepEqual([doc.summary.expected, doc.summary.answered], [N, N]);
    for (const n of doc.nodes) {
      const byName = new Map(n.results.map((x) => [x.name, x]));
      assert.equal(n.state, "answered", n.node);
      assert.equal(byName.get("missing_file")?.status, "fail", `${n.node}: the action does not create the file, so the check still fails`);
      assert.equal(byName.get("missing_file")?.action?.exitCode, 0, `${n.node}: its action ran and succeeded`);
      assert.equal(byName.get("tmp_exists")?.status, "pass", n.node);
    }
  });

  it("a check fixed by its action counts as passed: exit 0", async () => {
    const marker = join(t.path, "fixed-marker");
    const file = checkFile("fixed.json", { marker: { type: "file_exists", path: marker, action: `touch "${marker}"` } });
    const r = await check(file, "-output", "json");
    assert.equal(r.code, 0, r.stderr);
    const statuses = parseDoc(r.stdout, r.stderr).nodes.map((n) => n.results[0]!.status);
    assert.equal(statuses.length, N);
    // All daemons share this host: the first to evaluate finds no marker and fixes it; later ones may find it there.
    assert.ok(
      statuses.every((s) => s === "fixed" || s === "pass"),
      statuses.join(),
    );
    assert.ok(statuses.includes("fixed"), statuses.join());
  });

  it("-output junit is well-formed XML: a testsuite per node, a testcase per check, a failure per failing check", async () => {
    const file = checkFile("junit.json", {
      missing_file: { type: "file_exists", path: join(t.path, "absent"), action: `echo "<no & fix>"` },
      tmp_exists: { type: "file_exists", path: t.path },
    });
    const r = await check(file, "-output", "junit");
    assert.equal(r.code, 1, r.stderr);
    const root = parseXml(r.stdout);
    assert.equal(root.name, "testsuites");
    assert.deepEqual([root.attrs.tests, root.attrs.failures, root.attrs.errors], [String(2 * N), String(N), "0"]);
    const suites = root.children.filter((c) => c.name === "testsuite");
    assert.deepEqual(suites.map((s) => s.attrs.name).sort(), cluster.names.slice().sort());
    for (const s of suites) {
      const cases = s.children.filter((c) => c.name === "testcase");
      assert.deepEqual(cases.map((c) => c.attrs.name).sort(), ["missing_file", "tmp_exists"], s.attrs.name);
      assert.deepEqual([s.attrs.tests, s.attrs.failures, s.attrs.errors], ["2", "1", "0"], s.attrs.name);
      const failure = cases.find((c) => c.attrs.name === "missing_file")!.children;
      assert.equal(failure.length, 1);
      assert.equal(failure[0]!.name, "failure");
      assert.match(failure[0]!.text, /<no & fix>/, "the action's output, unescaped by the parser");
      assert.equal(cases.find((c) => c.attrs.name === "tmp_exists")!.children.length, 0, "a passing testcase is empty");
    }
  });

  it("a node killed (kill -9) just before submission is reported as not answering: exit 3", async () => {
    const victim = cluster.node("c-6");
    await victim.kill9();
    const file = checkFile("after-kill.json", { tmp_exists: { type: "file_exists", path: t.path } });
    const r = await check(file, "-output", "json");
    const doc = parseDoc(r.stdout, r.stderr);
    assert.ok(
      doc.expected.some((e) => e.name === victim.name),
      `the origin still counted ${victim.name} alive at submission`,
    );
    assert.equal(r.code, 3, r.stderr);
    for (const n of doc.nodes) {
      // The origin stops waiting for a node once it declares it dead (well before the 30 s timeout).
      if (n.node === victim.name) assert.equal(n.state, "unreachable", `${n.node} is reported unreachable`);
      else assert.deepEqual([n.node, n.state, n.results[0]?.status], [n.node, "answered", "pass"]);
    }
  });
});

describe("the strict XML reader used above", () => {
  it("rejects what is not well-formed", () => {
    for (const bad of ["<a><b></a></b>", "<a>x & y</a>", "<a b=c/>", "<a/><b/>", "<a>", '<a b="1" b="2"/>', "<a>&bogus;</a>", "<a><!-- --></a>"]) {
      assert.throws(() => parseXml(`<?xml version="1.0" encoding="UTF-8"?>\n${bad}`), /XML/, bad);
    }
    const ok = parseXml(`<?xml version="1.0"?>\n<a x="1 &amp; 2"><b>t &lt;&#65;&#x42;</b><c/></a>\n`);
    assert.deepEqual([ok.attrs.x, ok.children.map((c) => c.name), ok.children[0]!.text], ["1 & 2", ["b", "c"], "t <AB"]);
  });
});

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Character data directly inside, entities decoded. */
  text: string;
}

/**
 * A strict reader for the XML subset JUnit reports use: one declaration,
 * one root element, elements with double-quoted attributes (each once),
 * character data with the five named entities and numeric references. No
 * comments, CDATA, doctype or processing instructions. Throws "XML: ..." at
 * the first thing that is not well-formed.
 */
function parseXml(doc: string): XmlElement {
  const fail = (at: number, why: string): never => {
    throw new Error(`XML: ${why} at offset ${at}: ${JSON.stringify(doc.slice(at, at + 30))}`);
  };
  const decode = (s: string, at: number) => {
    if (/[<]/.test(s)) fail(at, "raw < in character data");
    return s.replace(/&([^;]*);?/g, (m, ent: string) => {
      const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
      if (!m.endsWith(";")) fail(at, "unterminated entity");
      if (named[ent] !== undefined) return named[ent]!;
      const num = /^#(\d+)$/.exec(ent)?.[1] ?? (/^#x([0-9a-fA-F]+)$/.exec(ent) ? String(parseInt(ent.slice(2), 16)) : undefined);
      return num !== undefined ? String.fromCodePoint(Number(num)) : fail(at, `unknown entity &${ent};`);
    });
  };
  let i = 0;
  const decl = /^<\?xml\s[^?]*\?>\s*/.exec(doc);
  if (!decl) fail(0, "missing <?xml ...?> declaration");
  i = decl![0].length;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const tag = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>/y;
  while (i < doc.length) {
    if (doc[i] !== "<") {
      const end = doc.indexOf("<", i);
      const raw = doc.slice(i, end < 0 ? doc.length : end);
      const text = decode(raw, i);
      if (stack.length) stack.at(-1)!.text += text;
      else if (raw.trim() !== "") fail(i, "text outside the root element");
      i += raw.length;
      continue;
    }
    tag.lastIndex = i;
    const m = tag.exec(doc);
    if (!m) fail(i, "malformed tag");
    const [whole, closing, name, attrText, selfClosing] = m!;
    if (closing) {
      if (attrText || selfClosing) fail(i, "attributes on a closing tag");
      const open = stack.pop();
      if (open?.name !== name) fail(i, `</${name}> closes <${open?.name ?? "nothing"}>`);
    } else {
      if (root && stack.length === 0) fail(i, "a second root element");
      const el: XmlElement = { name: name!, attrs: {}, children: [], text: "" };
      for (const a of attrText!.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
        if (Object.hasOwn(el.attrs, a[1]!)) fail(i, `attribute ${a[1]} given twice`);
        el.attrs[a[1]!] = decode(a[2]!, i);
      }
      if (stack.length) stack.at(-1)!.children.push(el);
      else root = el;
      if (!selfClosing) stack.push(el);
    }
    i += whole!.length;
  }
  if (stack.length) fail(i, `<${stack.at(-1)!.name}> is never closed`);
  if (!root) fail(i, "no root element");
  return root!;
}
