/*
 * V8's compile cache for gcheck and gossipcheckd (issue 18, targets 3 and 4):
 * Node 22.1+ can keep the code V8 compiled for each module on disk and reuse
 * it on the next start instead of parsing and compiling again. Both
 * executables call enableCompileCache() first thing, before their big
 * dynamic imports, so everything they load afterwards comes from the cache.
 *
 * Where it lives: $NODE_COMPILE_CACHE if set (Node's own variable; Node has
 * then already enabled it), else $XDG_CACHE_HOME/gossipcheck/node-compile-cache,
 * else ~/.cache/gossipcheck/node-compile-cache (the daemon's data dir is not
 * known until its flags are parsed, which is most of what there is to cache;
 * a per-user cache dir serves the daemon and the CLI alike). If that cannot
 * be created or written, Node's default, os.tmpdir()/node-compile-cache.
 * Node keeps one subfolder per Node version, so an upgrade never reads stale
 * code, and checks each entry against its source file's hash.
 *
 * It is an optimisation only: on Node 20 (no enableCompileCache) nothing
 * happens, enableCompileCache() never throws (it returns a status), and a
 * cache that cannot be used is skipped silently. NODE_DISABLE_COMPILE_CACHE=1
 * (Node's own switch) turns it off.
 */
// The default export (the builtin itself), read at run time: the bundle resolves named imports at build time, and
// these functions exist only on some Nodes.
import nodeModule from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";

/** What enableCompileCache() returns (Node 22.1+; @types/node 20 does not know it). */
interface CompileCacheResult {
  /** One of module.constants.compileCacheStatus: FAILED 0, ENABLED 1, ALREADY_ENABLED 2, DISABLED 3. */
  status: number;
  message?: string;
  directory?: string;
}

type EnableCompileCache = (dir?: string) => CompileCacheResult;

/** module.constants.compileCacheStatus.FAILED (the same number in every Node that has it). */
const FAILED = 0;

/**
 * The cache folder this user's gossipcheck processes share, or undefined when
 * $NODE_COMPILE_CACHE names one (Node's choice then) or there is no home.
 */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.NODE_COMPILE_CACHE) return undefined;
  const xdg = env.XDG_CACHE_HOME;
  // XDG: a relative $XDG_CACHE_HOME is invalid and must be ignored.
  if (xdg && xdg.startsWith("/")) return join(xdg, "gossipcheck", "node-compile-cache");
  let home: string;
  try {
    home = homedir();
  } catch {
    return undefined;
  }
  return home ? join(home, ".cache", "gossipcheck", "node-compile-cache") : undefined;
}

/**
 * Turns the compile cache on where this Node has it; returns the directory in
 * use, or undefined when it is off (Node 20, NODE_DISABLE_COMPILE_CACHE=1, no
 * usable folder). Never throws.
 */
export function enableCompileCache(): string | undefined {
  const enable = (nodeModule as unknown as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (typeof enable !== "function") return undefined;
  try {
    const dir = compileCacheDir();
    let r = enable(dir);
    // Ours not writable (a file in the way, a read-only home): Node's default under os.tmpdir().
    if (r.status === FAILED && dir !== undefined) r = enable();
    return r.directory;
  } catch {
    return undefined;
  }
}

/**
 * Writes what the compile cache holds now (Node 22.10 and later; a no-op
 * elsewhere). Node writes it only when the process exits normally, so a
 * daemon that is killed, or crashes, before it ever stops cleanly would
 * compile everything again at every start. The daemon calls this once it
 * is serving. Never throws.
 */
export function flushCompileCache(): void {
  const flush = (nodeModule as unknown as { flushCompileCache?: () => void }).flushCompileCache;
  if (typeof flush !== "function") return;
  try {
    flush();
  } catch {
    // An optimisation only: a cache that cannot be written is compiled again next time.
  }
}
