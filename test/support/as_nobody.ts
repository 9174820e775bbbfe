import { execFile } from "node:child_process";
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Runs ES module code in a child process as user nobody (uid 65534), so a
 * permission-denied path or an unreadable /proc/PID/exe can be tested while
 * the suite runs as root.
 *
 * The checks modules are imported from a world-readable copy of
 * dist/src/checks: the checkout itself may sit under a directory nobody may
 * not enter (a CI clone in a 0700 temp dir, a home directory), and the child
 * could not load the code under test from there. The checks layer imports
 * nothing but node: modules and the ground floor (src/base), so those two
 * folders, side by side as in dist/src, are enough.
 */
let copy: string | null = null;

function readableChecksCopy(): string {
  if (copy) return copy;
  const root = mkdtempSync(join(tmpdir(), "gossipcheck-nobody-"));
  const dst = join(root, "checks");
  cpSync(fileURLToPath(new URL("../../src/checks/", import.meta.url)), dst, { recursive: true });
  cpSync(fileURLToPath(new URL("../../src/base/", import.meta.url)), join(root, "base"), { recursive: true });
  const open = (p: string) => {
    chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) open(join(p, e));
  };
  open(root);
  process.on("exit", () => rmSync(root, { recursive: true, force: true }));
  copy = dst;
  return dst;
}

/** Absolute path of a compiled checks module (e.g. "file_exists.js") that nobody can import. */
export function checksModuleForNobody(file: string): string {
  return join(readableChecksCopy(), file);
}

/** Runs code (an ES module body) as nobody and resolves with what it wrote to stdout. */
export function runAsNobody(code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", code], { uid: 65534, gid: 65534, cwd: "/" }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child as nobody failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}
