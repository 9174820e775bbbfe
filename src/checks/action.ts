import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { performance } from "node:perf_hooks";
import { ActionCgroup, actionContainment, giveUpCgroups } from "./cgroup.js";
import { endActionProcesses, type ActionProcesses } from "./leftovers.js";
import type { ActionOutcome } from "./types.js";
import { errorMessage } from "../base/result.js";

/*
 * Remediation actions: `/bin/sh -c <action>` in its own process group (and
 * its own cgroup where one can be made, see cgroup.ts), with a timeout,
 * stdout and stderr captured together up to a bound, and env vars naming the
 * check, batch and node. When the shell exits or times out, whatever it left
 * running is ended (leftovers.ts), unless the check keeps its children.
 *
 * What can survive an action (keep_children off):
 * - with a cgroup: nothing, short of a process that a cgroup manager moves
 *   out (`systemd-run`, `systemctl start`: the service manager's own units)
 *   or one in uninterruptible sleep past the SIGKILL wait;
 * - with the process group only (no writable cgroup2: non-root, most
 *   containers, cgroup v1-only hosts): any process that left the group,
 *   i.e. `setsid`, a daemon that double-forks, `nohup ... &` under a shell
 *   with job control.
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
  /**
   * Leave running what the action started once its shell has exited (a
   * service started with `nginx &`); no cgroup is made then, so the service
   * does not live in ours. A timeout still ends the shell's whole group.
   */
  keepChildren?: boolean;
  /**
   * Capture stderr apart from stdout (a command check matches each on its
   * own); by default both go to one capture, interleaved as written.
   */
  stderrApart?: boolean;
  /** SIGTERM-to-SIGKILL grace for leftovers (ms); default LEFTOVER_TERM_GRACE_MS. */
  termGraceMs?: number;
  /** The GOSSIPCHECK_* variables to add to the daemon's environment instead of CHECK, BATCH and NODE (a trigger names an event). */
  env?: Record<string, string>;
  /** Written to the command's standard input (a trigger's event as JSON, a user event's payload as raw bytes); by default it reads /dev/null. */
  stdin?: string | Uint8Array;
  /** Also hand back the captured stdout as raw bytes (outputBytes): a query's answer may be binary. */
  rawOutput?: boolean;
  /** Ends the command and what it started, as the timeout does (the daemon shutting down); `timedOut` is then set. */
  abort?: AbortSignal;
}

/** Process group IDs of the actions running now (a group ID is the shell's PID). */
const running = new Set<number>();
/** Actions started by this process, to name their cgroups. */
let actionsStarted = 0;

/** The process groups of actions still running; process_running leaves them out. */
export function runningActionGroups(): ReadonlySet<number> {
  return running;
}

/**
 * Runs one action and resolves when its shell has exited (or was killed at
 * the timeout) and its leftovers are ended. Never rejects: a shell that
 * cannot be started is an outcome whose `skipped` says why.
 */
export function runAction(req: ActionRequest): Promise<ActionOutcome> {
  const timeoutMs = Math.min(req.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS, MAX_TIMER_MS);
  const limit = req.outputLimitBytes ?? ACTION_OUTPUT_LIMIT_BYTES;
  const started = performance.now();
  return new Promise((resolve) => {
    const capture = new OutputCapture(limit);
    const errCapture = req.stderrApart ? new OutputCapture(limit) : capture;
    const notStarted = (reason: string): ActionOutcome => ({
      command: req.command,
      exitCode: null,
      signal: null,
      timedOut: false,
      output: "",
      outputTruncated: false,
      durationMs: performance.now() - started,
      leftoversKilled: 0,
      skipped: `action could not be started: ${reason}`,
    });
    const cgroup = req.keepChildren ? undefined : makeCgroup(req.batchId);
    let child: ChildProcessByStdio<Writable, Readable, Readable>;
    try {
      // The outer shell waits on stdin until we have moved it into the
      // action's cgroup, so nothing the action forks can start outside it
      // (joining after the action runs would race its first fork); then it
      // points stderr at the stdout pipe and execs the action's own shell, so
      // both streams interleave in the order written and the action's error
      // messages keep their line numbers. If we die first, it reads EOF and
      // runs nothing.
      // With req.stdin the action reads what follows the gate line (`read` takes
      // a pipe byte by byte, so it consumes nothing past the newline).
      const redirect = req.stderrApart ? "" : " 2>&1";
      const input = req.stdin === undefined ? " </dev/null" : "";
      child = spawn("/bin/sh", ["-c", `read -r gate || exit 1; exec /bin/sh -c "$1"${redirect}${input}`, "gossipcheck-action", req.command], {
        detached: true, // its own process group, so the timeout can kill every descendant
        stdio: ["pipe", "pipe", "pipe"],
        env: { ...process.env, ...(req.env ?? { GOSSIPCHECK_CHECK: req.check, GOSSIPCHECK_BATCH: req.batchId, GOSSIPCHECK_NODE: req.node }) },
      });
    } catch (e) {
      // Thrown synchronously for arguments the OS cannot take (a NUL byte in the command).
      cgroup?.remove();
      resolve(notStarted(errorMessage(e)));
      return;
    }
    child.stdout.on("data", (b: Buffer) => capture.add(b));
    child.stderr.on("data", (b: Buffer) => errCapture.add(b));
    child.stdin.on("error", () => {}); // EPIPE: the shell is already gone; its exit is reported
    const pgid = child.pid;
    let scope: ActionProcesses | undefined;
    if (pgid !== undefined) {
      scope = { pgid };
      const joinError = cgroup?.join(pgid);
      if (joinError !== undefined) {
        cgroup!.remove();
        giveUpCgroups(`${joinError}; actions run in their process group only from now on`);
      } else if (cgroup) {
        scope.cgroup = cgroup;
      }
      running.add(pgid);
    }
    child.stdin.end(req.stdin === undefined ? "go\n" : typeof req.stdin === "string" ? "go\n" + req.stdin : Buffer.concat([Buffer.from("go\n"), req.stdin]));

    let timedOut = false;
    let ending: Promise<number> | undefined;
    const end = () => (ending ??= scope ? endActionProcesses(scope, scope.pgid, req.termGraceMs).then((r) => r.killed) : Promise.resolve(0));
    const stop = () => {
      timedOut = true;
      void end();
    };
    const timer = setTimeout(stop, timeoutMs);
    if (req.abort?.aborted) stop();
    else req.abort?.addEventListener("abort", stop, { once: true });

    child.on("error", (e) => {
      clearTimeout(timer);
      req.abort?.removeEventListener("abort", stop);
      if (pgid !== undefined) running.delete(pgid);
      cgroup?.remove();
      resolve(notStarted(e.message));
    });
    child.on("exit", async (code, signal) => {
      clearTimeout(timer);
      req.abort?.removeEventListener("abort", stop);
      const durationMs = performance.now() - started;
      // After a timeout `ending` is already under way; keep_children skips only the end of a clean exit.
      const leftoversKilled = await (ending ?? (req.keepChildren ? Promise.resolve(0) : end()));
      scope?.cgroup?.remove();
      if (pgid !== undefined) running.delete(pgid);
      const finish = () =>
        resolve({
          command: req.command,
          exitCode: code,
          signal,
          timedOut,
          output: capture.text(),
          outputTruncated: capture.truncated,
          durationMs,
          leftoversKilled,
          ...(req.stderrApart && { stderr: errCapture.text(), stderrTruncated: errCapture.truncated }),
          ...(req.rawOutput && { outputBytes: capture.bytes() }),
        });
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

/** A cgroup for the next action, or undefined where actions run in their process group only. */
function makeCgroup(batchId: string): ActionCgroup | undefined {
  const where = actionContainment();
  if (where.kind !== "cgroup") return undefined;
  // Our PID keeps daemons (or test runs) that share a cgroup apart; the batch ID is for a person reading the tree.
  const label = `${batchId.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 40)}-${process.pid}-${++actionsStarted}`;
  const made = ActionCgroup.create(where.base, label);
  if ("error" in made) {
    giveUpCgroups(`${made.error}; actions run in their process group only from now on`);
    return undefined;
  }
  return made.cgroup;
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

  /** The captured bytes as they came (no UTF-8 trimming). */
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
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
