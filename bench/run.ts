/**
 * `npm run bench`: runs every benchmark module and prints a markdown report
 * (also written to .bench-tmp/last-report.md). Pass section names to run a
 * subset: `npm run bench -- checks swim`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { formatSection, type BenchSection } from "./report.js";

const modules: Record<string, () => Promise<{ run(): Promise<BenchSection[]> }>> = {
  checks: () => import("./checks.js"),
  check_types: () => import("./check_types.js"),
  net: () => import("./net.js"),
  cluster: () => import("./cluster.js"),
  cluster_200: () => import("./cluster_200.js"),
  sim: () => import("./sim.js"),
  sim_scale: () => import("./sim_scale.js"),
  sim_rejoin: () => import("./sim_rejoin.js"),
  member_entry: () => import("./member_entry.js"),
  startup: () => import("./startup.js"),
  startup_daemon: () => import("./startup_daemon.js"),
  compile_cache: () => import("./compile_cache.js"),
  watch: () => import("./watch.js"),
  schedule: () => import("./schedule.js"),
  history: () => import("./history.js"),
  rollout: () => import("./rollout.js"),
  streams: () => import("./streams.js"),
  events: () => import("./events.js"),
  channels: () => import("./channels.js"),
  idle_cost: () => import("./idle_cost.js"),
  batch_cost: () => import("./batch_cost.js"),
  footprint_flat: () => import("./footprint_flat.js"),
  footprint_burst: () => import("./footprint_burst.js"),
  heap_release: () => import("./heap_release.js"),
};

const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : Object.keys(modules);
const cpu = cpus()[0]?.model ?? "unknown cpu";
const header = [`# gossipcheck benchmark`, "", `Machine: ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString()}`, ""];
console.log(header.join("\n"));
const parts = [...header];
for (const name of names) {
  const load = modules[name];
  if (!load) {
    console.error(`bench: unknown section "${name}" (known: ${Object.keys(modules).join(", ")})`);
    process.exit(2);
  }
  const mod = await load();
  for (const section of await mod.run()) {
    const text = formatSection(section);
    console.log(text + "\n");
    parts.push(text, "");
  }
}
mkdirSync(".bench-tmp", { recursive: true });
writeFileSync(".bench-tmp/last-report.md", parts.join("\n"));
