/*
 * Does V8 give memory back after a burst of allocation, and what makes it
 * (issue 18, target 1; src/daemon/heap_trim.ts)? One child process per
 * variant and Node binary (this one, plus BENCH_NODES=/path/to/node,...):
 * 10 s of allocation with a sliding window of 20,000 live objects (like a
 * daemon's in-flight batches), then idle for BENCH_HEAP_RELEASE_IDLE_S
 * (60 by default), its resident memory read every 5 s. Variants, set up
 * before the burst:
 *   none       nothing;
 *   flag       --expose-gc set at run time (setFlagsFromString), nothing else;
 *   context    a second V8 context (vm.runInNewContext), one of its
 *              functions kept, as the heap trimmer keeps its gc function;
 *   dropped    a second context made and let go at once.
 * All variants of one binary run at the same time, so they share whatever
 * else the host is doing.
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import type { BenchSection } from "./report.js";

const VARIANTS = ["none", "flag", "context", "dropped"] as const;
const BURST_S = 10;
const STEP_S = 5;

const CHILD = `
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
const [variant, burstS, idleS, stepS] = process.argv.slice(1);
let keep;
if (variant === "flag") setFlagsFromString("--expose-gc");
if (variant === "context") keep = runInNewContext("(function () { return 1; })");
if (variant === "dropped") runInNewContext("1");
const mib = () => process.memoryUsage.rss() / 2 ** 20;
const window = [];
const end = Date.now() + Number(burstS) * 1000;
for (let i = 0; Date.now() < end; i++) {
  window.push({ id: i, buf: Buffer.alloc(256), list: Array.from({ length: 20 }, (_, k) => ({ k, s: "x" + k + i })) });
  if (window.length > 20000) window.shift();
}
window.length = 0;
const samples = [mib()];
for (let s = Number(stepS); s <= Number(idleS); s += Number(stepS)) {
  await new Promise((r) => setTimeout(r, Number(stepS) * 1000));
  samples.push(mib());
}
process.stdout.write(JSON.stringify({ samples, keep: typeof keep }));
`;

interface Run {
  node: string;
  version: string;
  variant: string;
  samples: number[];
}

function child(node: string, version: string, variant: string, idleS: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(node, ["--input-type=module", "-e", CHILD, variant, String(BURST_S), String(idleS), String(STEP_S)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    p.stderr.on("data", (b: Buffer) => (err += b.toString()));
    p.on("error", (e) => reject(new Error(`heap_release: cannot run ${node}: ${e.message}`)));
    p.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`heap_release: ${node} (${variant}) exited ${code}: ${err.slice(-500)}`));
      resolve({ node, version, variant, samples: (JSON.parse(out) as { samples: number[] }).samples });
    });
  });
}

function versionOf(node: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(node, ["-p", "process.version"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    p.on("error", (e) => reject(new Error(`heap_release: cannot run ${node}: ${e.message}`)));
    p.on("exit", () => resolve(out.trim()));
  });
}

export async function run(): Promise<BenchSection[]> {
  const idleS = Number(process.env.BENCH_HEAP_RELEASE_IDLE_S ?? 60);
  if (!(idleS >= STEP_S)) throw new Error(`heap_release: BENCH_HEAP_RELEASE_IDLE_S is "${process.env.BENCH_HEAP_RELEASE_IDLE_S}"; give seconds, at least ${STEP_S}`);
  const nodes = [process.execPath, ...(process.env.BENCH_NODES ?? "").split(",").filter((p) => p !== "" && p !== process.execPath)];
  const runs: Run[] = [];
  const t0 = performance.now();
  for (const node of nodes) {
    const version = await versionOf(node);
    runs.push(...(await Promise.all(VARIANTS.map((v) => child(node, version, v, idleS)))));
  }
  const released = (r: Run) => {
    const peak = r.samples[0]!;
    const i = r.samples.findIndex((m) => m < peak * 0.6);
    return i < 0 ? "-" : String(i * STEP_S);
  };
  return [
    {
      title: "heap_release: resident memory after a 10 s allocation burst, then idle, by what the process set up before it",
      columns: ["Node", "variant", "after the burst MiB", `after ${idleS} s idle MiB`, "fell below 60% after (s)"],
      rows: runs.map((r) => [r.version, r.variant, r.samples[0]!.toFixed(0), r.samples.at(-1)!.toFixed(0), released(r)]),
      notes: [
        `One child process per Node and variant; the variants of one Node run at the same time. Burst: ${BURST_S} s of objects (a 256-byte Buffer and 20 small objects each) with the newest 20,000 kept alive; then idle, resident memory every ${STEP_S} s ("-": never below 60% of the first reading).`,
        `Variants: none; flag = --expose-gc set at run time only; context = a second V8 context (vm.runInNewContext) with one of its functions kept; dropped = a second context made and let go. src/daemon/heap_trim.ts takes its gc function from such a context on Node 22 and later.`,
        `Wall time of the section: ${((performance.now() - t0) / 1000).toFixed(0)} s. Other binaries: BENCH_NODES=/path/to/node,... .`,
      ],
    },
  ];
}
