import { accessSync, constants, statSync } from "node:fs";
import type { Clock } from "../base/clock.js";
import { RateLimitedLog, type Logger } from "../base/logger.js";
import { errorMessage } from "../base/result.js";
import { runAction, type ActionRequest } from "../checks/action.js";
import type { ActionOutcome } from "../checks/types.js";
import { defaultTriggerConfig, type TriggerConfig } from "./config.js";
import { triggerEnv, triggerStdin, type TriggerNode } from "./env.js";
import type { TriggerEvent, TriggerSpec } from "./events.js";

/*
 * Runs trigger scripts: every trigger whose event matches gets one run. A run
 * is `/bin/sh -c SCRIPT` through the checks' action runner (src/checks/
 * action.ts): its own process group (and cgroup where one can be made), the
 * event in GOSSIPCHECK_* variables and as JSON on standard input, output
 * captured up to a bound, the whole group ended at the timeout and whatever
 * the script left running ended when it exits (a script that must start
 * something lasting hands it to the service manager: `systemctl start`,
 * `systemd-run`).
 *
 * fire() only enqueues (it never throws, never waits on a process): up to
 * `concurrency` runs go at once, so a slow script holds one slot and never
 * delays the others, nor membership or checks. The queue is bounded: when
 * full, the oldest waiting run is dropped. Runs start in the order they were
 * fired; they may end in any order.
 *
 * Runs already queued keep the script they were fired with across a reload
 * (setTriggers): the event happened under the old configuration.
 */

/** How one run goes (runAction in the daemon; a fake in tests of the queue). */
export type ScriptRunner = (req: ActionRequest) => Promise<ActionOutcome>;

export interface TriggerCounters {
  /** Events handed to fire(). */
  fired: number;
  /** Script runs that ended, whatever the outcome (a missing script included). */
  ran: number;
  /** Runs that ended badly: exit status not 0, ended by a signal, missing script, could not start. */
  failed: number;
  /** Runs killed at the timeout (not counted in failed). */
  timedOut: number;
  /** Runs dropped from a full queue, or at shutdown before they started. */
  dropped: number;
  /** Runs waiting for a slot now. */
  queued: number;
  /** Runs going now. */
  running: number;
}

interface Job {
  spec: TriggerSpec;
  event: TriggerEvent;
  /** Set by fireAndFollow: told how the run ended (dropped ones too). */
  follow?: { options: FollowOptions; onEnd: (r: HandlerRun) => void };
}

/** How fireAndFollow's runs go. */
export interface FollowOptions {
  /** Each run's timeout (ms), at most the config's timeoutMs. */
  timeoutMs?: number;
  /** Capture standard output apart, as bytes, up to this many (a query's answer); by default output is only logged. */
  stdoutBytes?: number;
}

/** What fireAndFollow started: one run per matching trigger, in trigger order. */
export interface Followed {
  handlers: number;
  runs: { script: string; ended: Promise<HandlerRun> }[];
  /** Every run's end, once the last has ended. */
  ended: Promise<HandlerRun[]>;
}

/** How one run of fireAndFollow ended. */
export interface HandlerRun {
  script: string;
  /** null when it has none: killed, never started, dropped. */
  exitCode: number | null;
  /** Why there is no exit code ("SIGKILL", "timeout after 30000 ms", "dropped: ..."). */
  signal?: string;
  durationMs: number;
  /** With stdoutBytes: its standard output, and whether more was cut. */
  output?: Uint8Array;
  truncated: boolean;
}

export interface TriggerRunnerOptions {
  triggers: TriggerSpec[];
  node: TriggerNode;
  config?: Partial<TriggerConfig>;
  clock: Clock;
  log: Logger;
  /** Default runAction. */
  runScript?: ScriptRunner;
}

export class TriggerRunner {
  private triggers: TriggerSpec[];
  private readonly node: TriggerNode;
  private readonly config: TriggerConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly limited: RateLimitedLog;
  private readonly runScript: ScriptRunner;
  private readonly queue: Job[] = [];
  /** Runs going now, each with the way to end it at shutdown. */
  private readonly active = new Map<Promise<void>, AbortController>();
  private pumpScheduled = false;
  private stopped = false;
  private readonly c = { fired: 0, ran: 0, failed: 0, timedOut: 0, dropped: 0 };

  constructor(o: TriggerRunnerOptions) {
    this.triggers = [...o.triggers];
    this.node = o.node;
    this.config = { ...defaultTriggerConfig(), ...o.config };
    this.clock = o.clock;
    this.log = o.log;
    this.limited = new RateLimitedLog(o.log, () => o.clock.now());
    this.runScript = o.runScript ?? runAction;
    this.warnMissing();
  }

  /** The triggers from now on (SIGHUP). */
  setTriggers(triggers: TriggerSpec[]): void {
    this.triggers = [...triggers];
    this.warnMissing();
  }

  /** Enqueues one run per matching trigger; never throws, never waits. */
  fire(e: TriggerEvent): void {
    this.enqueue(e);
  }

  /**
   * fire(), and how it went: the number of runs enqueued (the matching
   * triggers), and a promise of each run's end, in trigger order, that
   * resolves when the last has ended (a run dropped from a full queue or at
   * shutdown ends at once, as dropped). A user event or query
   * (src/daemon/cluster/user_events.ts) answers its origin with them.
   */
  fireAndFollow(e: TriggerEvent, options: FollowOptions = {}): Followed {
    const runs: Followed["runs"] = [];
    this.enqueue(e, (spec) => {
      let onEnd!: (r: HandlerRun) => void;
      runs.push({ script: spec.script, ended: new Promise<HandlerRun>((resolve) => (onEnd = resolve)) });
      return { options, onEnd };
    });
    return { handlers: runs.length, runs, ended: Promise.all(runs.map((r) => r.ended)) };
  }

  private enqueue(e: TriggerEvent, follow?: (spec: TriggerSpec) => Job["follow"]): void {
    this.c.fired++;
    for (const spec of this.triggers) {
      if (spec.event !== e.event) continue;
      const job: Job = { spec, event: e, ...(follow && { follow: follow(spec) }) };
      if (this.stopped) {
        this.c.dropped++;
        dropped(job, "the daemon is shutting down");
        continue;
      }
      // Free slots take runs at the next pump: they are not waiting.
      if (this.queue.length >= this.config.queueLimit + Math.max(0, this.config.concurrency - this.active.size)) {
        const old = this.queue.shift()!;
        this.c.dropped++;
        dropped(old, `the trigger queue was full (${this.config.queueLimit} runs waiting)`);
        this.limited.warn(
          "trigger-queue-full",
          { event: old.spec.event, script: old.spec.script, dropped: this.c.dropped },
          `trigger queue full (${this.config.queueLimit} runs waiting, ${this.config.concurrency} running): dropped the oldest, ${old.spec.event} ${old.spec.script}`,
        );
      }
      this.queue.push(job);
    }
    if (this.queue.length > 0 && !this.pumpScheduled) {
      // Processes start after fire() returns: the caller (a membership event, a transition) never waits on a spawn.
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  counters(): TriggerCounters {
    return { ...this.c, queued: this.queue.length, running: this.active.size };
  }

  /**
   * Stops taking events, drops the runs still waiting, lets the running ones
   * finish for up to graceMs, then ends their process groups (SIGTERM, then
   * SIGKILL after killGraceMs) and resolves when they are gone.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    this.c.dropped += this.queue.length;
    for (const job of this.queue) dropped(job, "the daemon is shutting down");
    this.queue.length = 0;
    if (this.active.size === 0) return;
    const all = Promise.all([...this.active.keys()]);
    let timer: { cancel(): void } | undefined;
    const graceOver = new Promise<void>((r) => (timer = this.clock.setTimeout(r, graceMs)));
    await Promise.race([all, graceOver]);
    timer?.cancel();
    for (const abort of this.active.values()) abort.abort();
    await all;
  }

  private pump(): void {
    while (!this.stopped && this.active.size < this.config.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      const abort = new AbortController();
      const run: Promise<void> = this.run(job, abort.signal)
        .catch((e: unknown) => {
          this.log.error({ event: job.spec.event, script: job.spec.script }, `trigger ${job.spec.event}: ${job.spec.script}: ${errorMessage(e)}`);
          dropped(job, `failed: ${errorMessage(e)}`);
        })
        .finally(() => {
          this.active.delete(run);
          this.pump();
        });
      this.active.set(run, abort);
    }
  }

  private async run(job: Job, abort: AbortSignal): Promise<void> {
    const { spec, event } = job;
    const what = `trigger ${spec.event}: ${spec.script}`;
    const fields = { event: spec.event, script: spec.script };
    const missing = scriptProblem(spec.script);
    if (missing !== undefined) {
      this.c.ran++;
      this.c.failed++;
      this.log.warn(fields, `trigger ${spec.event}: ${missing}`);
      job.follow?.onEnd({ script: spec.script, exitCode: null, signal: `not run: ${missing}`, durationMs: 0, truncated: false });
      return;
    }
    const f = job.follow?.options;
    const timeoutMs = Math.min(f?.timeoutMs ?? this.config.timeoutMs, this.config.timeoutMs);
    let o: ActionOutcome;
    try {
      o = await this.runScript({
        command: spec.script,
        check: `trigger-${spec.event}`,
        batchId: `trigger-${spec.event}`,
        node: this.node.name,
        env: triggerEnv(event, this.node),
        stdin: triggerStdin(event, this.node),
        timeoutMs,
        termGraceMs: this.config.killGraceMs,
        // A query's handler: its standard output alone, kept as bytes, is the answer (stderr is only logged).
        ...(f?.stdoutBytes !== undefined ? { outputLimitBytes: f.stdoutBytes, stderrApart: true, rawOutput: true } : { outputLimitBytes: this.config.outputLimitBytes }),
        abort,
      });
    } catch (e) {
      // runAction never rejects; a fake might.
      this.c.ran++;
      this.c.failed++;
      this.log.warn(fields, `${what}: ${errorMessage(e)}`);
      job.follow?.onEnd({ script: spec.script, exitCode: null, signal: `not run: ${errorMessage(e)}`, durationMs: 0, truncated: false });
      return;
    }
    job.follow?.onEnd(handlerRun(spec.script, o, timeoutMs, f?.stdoutBytes !== undefined));
    this.c.ran++;
    const ms = Math.round(o.durationMs);
    const out = { ...fields, durationMs: ms, output: o.output, outputTruncated: o.outputTruncated, leftoversKilled: o.leftoversKilled };
    const first = firstLine(o.output);
    const said = first ? `: ${first}` : "";
    if (o.skipped !== undefined) {
      this.c.failed++;
      this.log.warn(out, `${what}: ${o.skipped}`);
    } else if (o.timedOut) {
      this.c.timedOut++;
      const why = abort.aborted ? "ended at shutdown" : `timed out after ${this.config.timeoutMs} ms`;
      this.log.warn(out, `${what}: ${why}; its process group was killed${said}`);
    } else if (o.exitCode !== 0) {
      this.c.failed++;
      const how = o.exitCode === null ? `ended by ${o.signal}` : `exit status ${o.exitCode}`;
      this.log.warn(out, `${what}: ${how}${said}`);
    } else {
      this.log.debug(out, `${what}: exit status 0 after ${ms} ms`);
    }
  }

  /** A missing script is said once at load, and again on each run. */
  private warnMissing(): void {
    for (const t of this.triggers) {
      const problem = scriptProblem(t.script);
      if (problem !== undefined) this.log.warn({ event: t.event, script: t.script }, `trigger ${t.event}: ${problem} (each ${t.event} will fail until it is there)`);
    }
  }
}

/**
 * Why a script's program cannot run, when its command line starts with a
 * plain path ("/usr/local/bin/page-me --urgent"): "/usr/local/bin/page-me: no
 * such file". A command line that starts otherwise (`logger`, `FOO=1 cmd`, a
 * quoted path) is left to the shell, which says "not found" itself (exit 127).
 */
export function scriptProblem(script: string): string | undefined {
  const first = script.trimStart().split(/\s/, 1)[0] ?? "";
  if (!first.includes("/") || !/^[A-Za-z0-9_./+@%:,-]+$/.test(first)) return undefined;
  let st;
  try {
    st = statSync(first);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return `${first}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : errorMessage(e)}`;
  }
  if (!st.isFile()) return `${first}: not a file`;
  try {
    accessSync(first, constants.X_OK);
  } catch {
    return `${first}: not executable (chmod +x it, or run it as "sh ${first}")`;
  }
  return undefined;
}

/** A followed run dropped before it started ends at once, saying why. */
function dropped(job: Job, why: string): void {
  job.follow?.onEnd({ script: job.spec.script, exitCode: null, signal: `dropped: ${why}`, durationMs: 0, truncated: false });
}

/** A run's outcome as fireAndFollow reports it. */
function handlerRun(script: string, o: ActionOutcome, timeoutMs: number, withOutput: boolean): HandlerRun {
  const signal = o.skipped ?? (o.timedOut ? `timeout after ${timeoutMs} ms (process group killed)` : (o.signal ?? undefined));
  return {
    script,
    exitCode: o.timedOut || o.skipped !== undefined ? null : o.exitCode,
    ...(signal !== undefined && { signal }),
    durationMs: o.durationMs,
    ...(withOutput && { output: o.outputBytes ?? Buffer.from(o.output) }),
    truncated: withOutput && o.outputTruncated,
  };
}

function firstLine(text: string): string {
  const t = text.trimStart();
  const nl = t.indexOf("\n");
  return (nl < 0 ? t : t.slice(0, nl)).trimEnd().slice(0, 200);
}
