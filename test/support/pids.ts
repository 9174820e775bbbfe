import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

/** True when the PID no longer runs: gone from /proc, or a zombie waiting for its (new) parent. */
export function isDead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return /^\) [ZX] /.test(stat.slice(stat.lastIndexOf(")")));
  } catch {
    return true;
  }
}

/** Polls cond every 20 ms until it holds; fails naming `what` after timeoutMs. */
export async function waitUntil(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
