import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import { performance } from "node:perf_hooks";
import type { ActionOutcome } from "./types.js";

/**
 * Remediation actions: `/bin/sh -c <action>` in its own process group, with a
 * timeout after which the whole group is killed, stdout and stderr captured
 * together up to a bound, and env vars naming the check, batch and node.
 */

/** Action timeout when the check sets none (ms). */
export const DEFAULT_ACTION_TIMEOUT_MS = 60_000;
/** Captured output bound (bytes); output beyond it is read and dropped, and the outcome marked truncated. */
export const ACTION_OUTPUT_LIMIT_BYTES = 64 * 1024;
/** Node's timers overflow above 2^31-1 ms (they would fire at once); longer timeouts are clamped to it (~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * After the shell exits, how long to keep collecting output (ms). Output the
 * shell wrote before exiting may still be in the pipe; a process the action
 * started in the background may hold the pipe open for ever, so capture
 * stops here (the pipe is still drained, so that process never gets SIGPIPE).
 */
const OUTPUT_GRACE_MS = 100;

export interface ActionRequest {
  command: string;
  /** Check name, batch ID and node name: exported as GOSSIPCHECK_CHECK, GOSSIPCHECK_BATCH, GOSSIPCHECK_NODE. */
  check: string;
  batchId: string;
  node: string;
  /** Default DEFAULT_ACTION_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Default ACTION_OUTPUT_LIMIT_BYTES. */
  outputLimitBytes?: number;
}

/** Process group IDs of the actions running now (a group ID is the shell's PID). */
const running = new Set<number>();

/** The process groups of actions still running; process_running leaves them out. */
export function runningActionGroups(): ReadonlySet<number> {
  return running;
}

/**
 * Runs one action and resolves when its shell has exited (or was killed at
 * the timeout). Never rejects: a shell that cannot be started is an outcome
 * whose `skipped` says why.
 */
export function runAction(req: ActionRequest): Promise<ActionOutcome> {
  const timeoutMs = Math.min(req.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS, MAX_TIMER_MS);
  const limit = req.outputLimitBytes ?? ACTION_OUTPUT_LIMIT_BYTES;
  const started = performance.now();
  return new Promise((resolve) => {
    // The outer shell only points stderr at the stdout pipe and execs the
    // action's own shell, so both streams interleave in the order written and
    // the action's error messages keep their line numbers.
    const capture = new OutputCapture(limit);
    const notStarted = (reason: string) => ({
      command: req.command, exitCode: null, signal: null, timedOut: false, output: "", outputTruncated: false,
      durationMs: performance.now() - started, skipped: `action could not be started: ${reason}`,
    });
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn("/bin/sh", ["-c", 'exec /bin/sh -c "$1" 2>&1', "gossipcheck-action", req.command], {
        detached: true, // its own process group, so the timeout can kill every descendant
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, GOSSIPCHECK_CHECK: req.check, GOSSIPCHECK_BATCH: req.batchId, GOSSIPCHECK_NODE: req.node },
      });
    } catch (e) {
      // Thrown synchronously for arguments the OS cannot take (a NUL byte in the command).
      resolve(notStarted((e as Error).message));
      return;
    }
    child.stdout.on("data", (b: Buffer) => capture.add(b));
    child.stderr.on("data", (b: Buffer) => capture.add(b));
    const pgid = child.pid;
    if (pgid !== undefined) running.add(pgid);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pgid !== undefined) killGroup(pgid);
    }, timeoutMs);

    const outcome = (o: Partial<ActionOutcome>): ActionOutcome => ({
      command: req.command,
      exitCode: null,
      signal: null,
      timedOut,
      output: capture.text(),
      outputTruncated: capture.truncated,
      durationMs: performance.now() - started,
      ...o,
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      if (pgid !== undefined) running.delete(pgid);
      resolve(notStarted(e.message));
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (pgid !== undefined) running.delete(pgid);
      const durationMs = performance.now() - started;
      const finish = () => resolve(outcome({ exitCode: code, signal, durationMs }));
      let pending = 2;
      const ended = () => {
        if (--pending === 0) {
          clearTimeout(grace);
          finish();
        }
      };
      const grace = setTimeout(() => {
        // The pipes are sockets underneath: let a background holder not keep the daemon alive.
        for (const s of [child.stdout, child.stderr]) (s as Readable & { unref?: () => void }).unref?.();
        finish();
      }, OUTPUT_GRACE_MS);
      for (const s of [child.stdout, child.stderr]) {
        if (s.readableEnded) ended();
        else s.once("end", ended);
      }
    });
  });
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Keeps the first `limit` bytes of output; counts the rest as truncated. */
class OutputCapture {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  private frozen: string | undefined;

  constructor(private readonly limit: number) {}

  add(b: Buffer): void {
    if (this.frozen !== undefined) return;
    const room = this.limit - this.size;
    if (b.length > room) this.truncated = true;
    if (room <= 0) return;
    const part = b.length > room ? b.subarray(0, room) : b;
    this.chunks.push(part);
    this.size += part.length;
  }

  /** The captured text; later output is dropped (the result has been reported). */
  text(): string {
    if (this.frozen === undefined) {
      const all = Buffer.concat(this.chunks);
      this.frozen = all.subarray(0, utf8Boundary(all)).toString("utf8");
    }
    return this.frozen;
  }
}

/** Length of buf without a UTF-8 sequence cut short at its end (the bound may fall inside a character). */
function utf8Boundary(buf: Buffer): number {
  let start = buf.length - 1;
  while (start >= 0 && buf.length - start <= 4 && (buf[start]! & 0xc0) === 0x80) start--;
  if (start < 0 || buf.length - start > 4) return buf.length;
  const lead = buf[start]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - start < need ? start : buf.length;
}
