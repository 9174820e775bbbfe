/*
 * Reads a V8 .heapsnapshot (written by `node --heapsnapshot-signal=SIGUSR2`
 * or v8.writeHeapSnapshot) and says where the heap goes: self size by node
 * type, code and source by where it was loaded from (a package, a layer of
 * src/, Node's own modules), and objects by constructor. Two snapshots give
 * the difference by constructor, which is how a leak shows (a count that
 * grows with the batches run). Used by bench/footprint_flat.ts and by hand:
 *
 *   node dist/bench/heap_snapshot.js FILE.heapsnapshot [BASE.heapsnapshot]
 *
 * Attribution to a script is a first-come walk from each Script over code,
 * strings and internal arrays (its source, its functions' bytecode, constant
 * pools, scope infos), then each closure and its feedback vector go to its
 * function's script. It is self size, not retained size: the objects a
 * module builds at start (its tables, its caches) count under "objects".
 */
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** What a snapshot holds, in bytes. */
export interface HeapBreakdown {
  totalBytes: number;
  byType: Map<string, number>;
  /** Code, source and closures by origin ("pkg pino", "src/gossip", "node internals"). */
  byOrigin: Map<string, number>;
  /** The same by script (its file name, shortened after dist/ or node_modules/). */
  byScript: Map<string, number>;
  /** Objects (type object) by constructor name: bytes and count. */
  byConstructor: Map<string, { bytes: number; count: number }>;
}

/** Where a script comes from, coarse enough to name a lazy-loading candidate. */
export function originOf(scriptName: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(scriptName);
  if (pkg) return `pkg ${pkg[1]}`;
  const src = /\/dist\/(src\/[^/]+|bench|test)\//.exec(scriptName);
  if (src) return src[1]!;
  if (scriptName.startsWith("node:") || /^(internal|node)[/:]/.test(scriptName) || !scriptName.includes("/")) return "node internals";
  return "other";
}

export function analyseHeapSnapshot(path: string): HeapBreakdown {
  const s = JSON.parse(readFileSync(path, "utf8")) as Snapshot;
  const meta = s.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const types = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const n = s.nodes.length / nf;
  const first = new Uint32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) {
    first[i] = e;
    e += s.nodes[i * nf + 4]! * ef;
  }
  first[n] = s.edges.length;
  const typeOf = (i: number) => types[s.nodes[i * nf]!]!;
  const nameOf = (i: number) => s.strings[s.nodes[i * nf + 1]!]!;
  const selfOf = (i: number) => s.nodes[i * nf + 3]!;
  const edgeName = (e: number) => {
    const t = edgeTypes[s.edges[e]!];
    return t === "element" || t === "hidden" ? "" : s.strings[s.edges[e + 1]!]!;
  };
  const target = (e: number) => s.edges[e + 2]! / nf;

  const out: HeapBreakdown = { totalBytes: 0, byType: new Map(), byOrigin: new Map(), byScript: new Map(), byConstructor: new Map() };
  for (let i = 0; i < n; i++) {
    const t = typeOf(i);
    out.totalBytes += selfOf(i);
    out.byType.set(t, (out.byType.get(t) ?? 0) + selfOf(i));
    if (t === "object") {
      const c = out.byConstructor.get(nameOf(i)) ?? { bytes: 0, count: 0 };
      c.bytes += selfOf(i);
      c.count++;
      out.byConstructor.set(nameOf(i), c);
    }
  }

  // owner[i]: index+1 of the Script node i is attributed to (0: none).
  const owner = new Uint32Array(n);
  const isScript = (i: number) => {
    if (typeOf(i) !== "code") return false;
    for (let e = first[i]!; e < first[i + 1]!; e += ef) if (edgeName(e) === "source") return true;
    return false;
  };
  const claimable = (i: number) => {
    const t = typeOf(i);
    return (t === "code" || t === "string" || t === "array" || t === "hidden" || t === "concatenated string") && !nameOf(i).startsWith("system / Map") && nameOf(i) !== "system / NativeContext";
  };
  const scripts: number[] = [];
  for (let i = 0; i < n; i++) if (isScript(i)) scripts.push(i);
  for (const sc of scripts) owner[sc] = sc + 1;
  for (const sc of scripts) {
    const stack = [sc];
    while (stack.length) {
      const i = stack.pop()!;
      for (let e = first[i]!; e < first[i + 1]!; e += ef) {
        const to = target(e);
        if (owner[to] !== 0 || !claimable(to)) continue;
        owner[to] = sc + 1;
        stack.push(to);
      }
    }
  }
  // Closures and their feedback go to their function's script.
  for (let i = 0; i < n; i++) {
    if (typeOf(i) !== "closure") continue;
    let script = 0;
    const extra: number[] = [];
    for (let e = first[i]!; e < first[i + 1]!; e += ef) {
      const name = edgeName(e);
      if (name === "shared") script = owner[target(e)]!;
      if (name === "feedback_cell") {
        extra.push(target(e));
        const cell = target(e);
        for (let f = first[cell]!; f < first[cell + 1]!; f += ef) if (typeOf(target(f)) === "code") extra.push(target(f));
      }
    }
    if (script === 0) continue;
    owner[i] = script;
    for (const x of extra) if (owner[x] === 0) owner[x] = script;
  }
  for (let i = 0; i < n; i++) {
    if (owner[i] === 0) continue;
    const origin = originOf(nameOf(owner[i]! - 1));
    out.byOrigin.set(origin, (out.byOrigin.get(origin) ?? 0) + selfOf(i));
    const script = nameOf(owner[i]! - 1).replace(/^.*\/(dist|node_modules)\//, "");
    out.byScript.set(script, (out.byScript.get(script) ?? 0) + selfOf(i));
  }
  return out;
}

const kib = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
const top = <V>(m: Map<string, V>, size: (v: V) => number, k: number) => [...m].sort((a, b) => size(b[1]) - size(a[1])).slice(0, k);

/** A plain-text report of one breakdown (and, given a base, what grew since it). */
export function describeHeap(h: HeapBreakdown, base?: HeapBreakdown, rows = 25): string {
  const lines = [`total self size ${kib(h.totalBytes)}${base ? ` (base ${kib(base.totalBytes)})` : ""}`, "", "by node type:"];
  for (const [t, b] of top(h.byType, (v) => v, 20)) lines.push(`  ${kib(b).padStart(9)}  ${t}${base ? `  (base ${kib(base.byType.get(t) ?? 0)})` : ""}`);
  lines.push("", "code, source and closures by origin:");
  for (const [o, b] of top(h.byOrigin, (v) => v, rows)) lines.push(`  ${kib(b).padStart(9)}  ${o}${base ? `  (base ${kib(base.byOrigin.get(o) ?? 0)})` : ""}`);
  lines.push("", "code, source and closures by script:");
  for (const [o, b] of top(h.byScript, (v) => v, rows)) lines.push(`  ${kib(b).padStart(9)}  ${o}`);
  lines.push("", "objects by constructor:");
  for (const [c, v] of top(h.byConstructor, (v) => v.bytes, rows)) lines.push(`  ${kib(v.bytes).padStart(9)}  ${String(v.count).padStart(7)}  ${c}`);
  if (base) {
    lines.push("", "objects that grew since the base (count, bytes):");
    const growth = new Map<string, { bytes: number; count: number }>();
    for (const [c, v] of h.byConstructor) {
      const b = base.byConstructor.get(c) ?? { bytes: 0, count: 0 };
      growth.set(c, { bytes: v.bytes - b.bytes, count: v.count - b.count });
    }
    for (const [c, v] of top(growth, (v) => v.bytes, rows)) if (v.bytes > 0) lines.push(`  ${("+" + kib(v.bytes)).padStart(10)}  ${("+" + v.count).padStart(8)}  ${c}`);
  }
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/dist\//, "/dist/"))) {
  const [file, baseFile] = process.argv.slice(2);
  if (!file) {
    console.error("usage: node dist/bench/heap_snapshot.js FILE.heapsnapshot [BASE.heapsnapshot]");
    process.exit(2);
  }
  console.log(describeHeap(analyseHeapSnapshot(file), baseFile ? analyseHeapSnapshot(baseFile) : undefined));
}
