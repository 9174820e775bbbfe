import { fromWireReport } from "../../checks/codec.js";
import type { Clock, Timer } from "../../base/clock.js";
import type { Logger } from "../../base/logger.js";
import type { BatchEvent, NodeRef, RolloutOutcome, RolloutStatus, RolloutWave } from "../../control/api_types.js";
import { resolveSize } from "../../control/rollout_rules.js";
import type { Publication, PublishEvent } from "../../gossip/publication.js";
import type { pb } from "../../proto/index.js";
import type { RolloutSpec } from "../api/backend.js";
import { countOrder, type PlanMember, planWaves } from "../../control/rollout_plan.js";

/*
 * One rollout, run by its origin daemon (README: Rollouts). The plan is made
 * once, from the targeted running members at the start; each wave is its own
 * CHECK_BATCH envelope targeted at exactly that wave's nodes (the others
 * relay it and run nothing). A wave starts only when every node of the
 * previous one answered, was declared gone, or stayed silent past the
 * wave's timeout, and the pause (batchWaitMs) has passed. Failures (a node
 * with a fail or error result, a refusal, a node gone or silent) are counted
 * over the whole rollout; once they exceed maxFailures no further wave
 * starts and every node not reached is reported skipped.
 *
 * Mode count: the first `count` nodes in hash order get one envelope; a
 * chosen node the membership declares failed or left before it answered is
 * replaced by the next running node in that order, with a new envelope
 * targeted at the replacement only and published only after that
 * declaration. So at most `count` nodes that the origin believes alive
 * ever hold a runnable envelope (caveat in README: a node declared dead that
 * was in fact alive, or that comes back within the TTL, may still run it).
 *
 * A signed rollout arrives planned (deps.plan, one signed envelope per wave,
 * published as signed): the same wave logic, no planning here.
 *
 * Events go to a log (like a Publication's), so the client stream and
 * GET /v1/rollouts/:id see the same story; the rollout runs on whether or
 * not anyone follows it.
 */

export interface RolloutDeps {
  id: string;
  origin: string;
  clock: Clock;
  log: Logger;
  /** The targeted running members at the start, this node included if targeted. */
  members: (PlanMember & { address: string })[];
  /** Whether a node is running (alive or suspect) now. */
  isRunning: (node: string) => boolean;
  addressOf: (node: string) => string | undefined;
  /** Publishes the batch targeted at exactly these nodes (expected = them); wave: 1-based (a signed rollout publishes that wave's envelope). */
  publish: (nodes: string[], wave: number) => { ok: true; pub: Publication } | { ok: false; error: string };
  /** The waves, when they were planned (and signed) by gcheck; default: planned here from members. */
  plan?: string[][];
  /** How long the origin waits for one wave's answers (ms); mode count: for all of them. */
  timeoutMs: number;
  ttlMs: number;
  /** The checks' descriptions by name (codec.ts descriptionsOf): nodes leave them out of their reports. */
  descriptions?: ReadonlyMap<string, string>;
}

type NodeState = RolloutStatus["nodes"][number];

const UNREACHABLE = { failed: "declared dead by the membership", left: "left the cluster", "not a member": "not a member" } as const;

/** Whether a node's answer counts as a failure of the rollout: any fail or error (a warning does not). */
function failing(results: { status: string }[]): boolean {
  return results.some((r) => r.status === "fail" || r.status === "error");
}

export class Rollout {
  private readonly startedMs: number;
  private readonly log: BatchEvent[] = [];
  private wakers: (() => void)[] = [];
  private readonly nodes = new Map<string, NodeState>();
  private readonly waves: RolloutWave[] = [];
  private failures = 0;
  private readonly maxFailures: number;
  private currentWave = 0;
  private outcome: RolloutOutcome = "running";
  private reason: string | undefined;
  /** Set by abort or a client gone without detach: no further wave starts. */
  private stopRequest: { outcome: "aborted" | "disconnected"; why: string } | null = null;
  private wakePause: (() => void) | null = null;
  private acceptedSent = false;
  private timedOut = false;
  /** mode count: the nodes in choice order. */
  private readonly choice: string[] = [];

  constructor(
    private readonly spec: RolloutSpec,
    private readonly d: RolloutDeps,
  ) {
    this.startedMs = d.clock.now();
    const total = d.members.length;
    this.maxFailures = resolveSize(spec.maxFailures, total, "down");
    if (spec.mode === "count") {
      this.choice = countOrder(d.members, d.id);
      this.planWave(this.choice.slice(0, spec.count));
    } else {
      for (const nodes of d.plan ?? planWaves(d.members, spec, d.id)) this.planWave(nodes);
    }
  }

  get id(): string {
    return this.d.id;
  }

  get finished(): boolean {
    return this.outcome !== "running";
  }

  /** Runs the rollout to its end in the background. */
  start(): void {
    const run = this.spec.mode === "count" ? this.runCount() : this.runWaves();
    run.catch((err: unknown) => {
      this.d.log.error({ rollout: this.d.id, err: String(err) }, `rollout ${this.d.id} failed: ${String(err)}`);
      this.emit({ type: "error", error: `rollout ${this.d.id} failed on ${this.d.origin}: ${String(err)}` });
      this.outcome = "stopped";
    });
  }

  /** gcheck rollout abort: the current wave finishes (its envelope is out), no further wave starts. */
  abort(): void {
    this.requestStop({ outcome: "aborted", why: "gcheck rollout abort" });
  }

  /** The client stream went away: without detach, the current wave finishes and the rollout stops. */
  clientGone(): void {
    if (!this.spec.detach) this.requestStop({ outcome: "disconnected", why: "gcheck disconnected (-detach carries on without it)" });
  }

  /** Every event from the first, ending after done (or error); a client that goes away calls clientGone. */
  async *events(signal: AbortSignal): AsyncGenerator<BatchEvent> {
    let gone = signal.aborted;
    const onAbort = () => {
      gone = true;
      const w = this.wakers;
      this.wakers = [];
      for (const wake of w) wake();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    let seenEnd = false;
    try {
      for (let i = 0; ;) {
        if (gone) return;
        while (i < this.log.length) {
          const e = this.log[i++]!;
          yield e;
          if (e.type === "done" || e.type === "error") {
            seenEnd = true;
            return;
          }
        }
        await new Promise<void>((wake) => this.wakers.push(wake));
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      // However the reader stopped before the end (the signal, or the stream closed under it), it is gone.
      if (!seenEnd) this.clientGone();
    }
  }

  status(): RolloutStatus {
    return {
      id: this.d.id,
      origin: this.d.origin,
      startedMs: this.startedMs,
      mode: this.spec.mode,
      outcome: this.outcome,
      ...(this.reason !== undefined && { reason: this.reason }),
      failures: this.failures,
      maxFailures: this.maxFailures,
      currentWave: this.currentWave,
      waves: this.waves.map((w) => ({ ...w, nodes: [...w.nodes] })),
      nodes: [...this.nodes.values()].map((n) => ({ ...n })),
    };
  }

  // ---- waves ----

  private async runWaves(): Promise<void> {
    for (let i = 0; i < this.waves.length; i++) {
      await this.runWave(this.waves[i]!, this.waves[i]!.nodes);
      if (this.failures > this.maxFailures) return this.end("stopped", `rollout stopped after wave ${i + 1} (${this.failures} failures > max ${this.maxFailures})`);
      if (i + 1 === this.waves.length) break;
      if (!this.stopRequest && this.spec.batchWaitMs > 0) await this.pause(this.spec.batchWaitMs);
      if (this.stopRequest) return this.end(this.stopRequest.outcome, `rollout ${this.stopRequest.outcome === "aborted" ? "aborted" : "stopped"} after wave ${i + 1}: ${this.stopRequest.why}`);
    }
    this.end("complete");
  }

  /** Publishes one wave to its nodes that are still running and follows it until each is accounted for. */
  private async runWave(wave: RolloutWave, nodes: string[]): Promise<void> {
    const n = wave.wave;
    this.currentWave = n;
    wave.state = "running";
    // The wave starts now: publishing (and its synchronous burst) is part of the wave's round trip, as it is a plain batch's.
    const startedMs = this.elapsed();
    const present = nodes.filter((node) => this.d.isRunning(node));
    const published = present.length ? this.d.publish(present, n) : null;
    if (published?.ok) wave.batchId = published.pub.idHex;
    this.ensureAccepted(wave.batchId);
    for (const node of nodes) if (!present.includes(node)) this.gone(node, n, "unreachable", `not running when wave ${n} started`);
    if (published && !published.ok) {
      for (const node of present) this.gone(node, n, "rejected", `not published by ${this.d.origin}: ${published.error}`);
    } else if (published) {
      for (const node of present) this.setNode(node, n, "running");
      this.emit({ type: "wave", wave: n, batchId: wave.batchId, nodes: present, elapsedMs: startedMs });
      await this.follow(published.pub, n, this.d.timeoutMs);
    }
    wave.state = "done";
  }

  /**
   * Follows one wave's publication until every expected node answered or is
   * gone, or until waitMs (its silent nodes then count as unreachable).
   * onGone (mode count) decides what a node declared gone becomes.
   */
  private follow(pub: Publication, wave: number, waitMs: number, onGone?: (node: string, reason: string) => void): Promise<void> {
    return new Promise((resolve) => {
      let over = false;
      let timer: Timer | undefined;
      let unsubscribe: (() => void) | undefined;
      const finish = () => {
        if (over) return;
        over = true;
        timer?.cancel();
        unsubscribe?.();
        resolve();
      };
      const gone = onGone ?? ((node: string, reason: string) => this.gone(node, wave, "unreachable", reason));
      const onEvent = (e: PublishEvent) => {
        if (over) return;
        if (e.type === "reply" && e.expected) this.reply(e.reply, wave);
        else if (e.type === "unreachable") gone(e.node, UNREACHABLE[e.reason]);
        else if (e.type === "done") {
          for (const node of e.missing) this.gone(node, wave, "unreachable", `no answer before the batch expired (-ttl)`);
          finish();
        }
      };
      unsubscribe = pub.subscribe(onEvent);
      if (over) return unsubscribe();
      timer = this.d.clock.setTimeout(() => {
        this.timedOut ||= pub.pending().length > 0;
        for (const node of pub.pending()) this.gone(node, wave, "unreachable", `no answer within ${waitMs} ms (-timeout) in wave ${wave}`);
        finish();
      }, waitMs);
    });
  }

  private reply(r: pb.NodeReply, wave: number): void {
    const address = r.address || (this.d.addressOf(r.node) ?? "");
    if (r.rejected != null) return this.gone(r.node, wave, "rejected", r.rejected);
    if (!r.checks) return;
    const results = fromWireReport(r.checks, this.d.descriptions);
    const bad = failing(results);
    if (bad) this.failures++;
    this.setNode(r.node, wave, bad ? "fail" : "pass");
    this.emit({ type: "result", node: r.node, address, results, elapsedMs: this.elapsed(), wave });
  }

  /** A planned node that did not answer (unreachable) or refused (rejected): a failure of the rollout. */
  private gone(node: string, wave: number, state: "unreachable" | "rejected", reason: string): void {
    const s = this.nodes.get(node);
    if (s && s.state !== "pending" && s.state !== "running") return;
    this.failures++;
    this.setNode(node, wave, state, reason);
    const address = this.d.addressOf(node);
    this.emit({ type: state, node, ...(address !== undefined && { address }), reason, wave });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.d.clock.setTimeout(() => {
        this.wakePause = null;
        resolve();
      }, ms);
      this.wakePause = () => {
        timer.cancel();
        resolve();
      };
    });
  }

  private requestStop(stop: { outcome: "aborted" | "disconnected"; why: string }): void {
    if (this.finished || this.stopRequest) return;
    this.stopRequest = stop;
    this.d.log.info({ rollout: this.d.id, wave: this.currentWave }, `rollout ${this.d.id}: ${stop.why}: no further wave starts`);
    const wake = this.wakePause;
    this.wakePause = null;
    wake?.();
  }

  // ---- count ----

  private async runCount(): Promise<void> {
    const chosen = this.waves[0]!;
    if (this.choice.length < this.spec.count) {
      this.emit({
        type: "error",
        error: `-count ${this.spec.count}: only ${this.choice.length} targeted nodes are running (${this.choice.join(", ") || "none"}); nothing was published`,
      });
      this.outcome = "stopped";
      return;
    }
    let next = this.spec.count;
    const deadline = this.d.clock.now() + this.d.timeoutMs;
    /** Chosen nodes declared gone, waiting for their replacement to answer (the replacement -> the nodes it replaces). */
    const held = new Map<string, string[]>();
    const running: Promise<void>[] = [];
    const launch = (wave: RolloutWave) => {
      const present = wave.nodes.filter((n) => this.d.isRunning(n));
      const absent = wave.nodes.filter((n) => !present.includes(n));
      const published = present.length ? this.d.publish(present, wave.wave) : null;
      if (published?.ok) wave.batchId = published.pub.idHex;
      wave.state = "running";
      this.currentWave = wave.wave;
      this.ensureAccepted(wave.batchId);
      if (published && !published.ok) {
        for (const n of present) this.gone(n, wave.wave, "rejected", `not published by ${this.d.origin}: ${published.error}`);
      } else if (published) {
        for (const n of present) this.setNode(n, wave.wave, "running");
        this.emit({ type: "wave", wave: wave.wave, batchId: wave.batchId, nodes: present, elapsedMs: this.elapsed() });
        running.push(
          this.follow(published.pub, wave.wave, Math.max(0, deadline - this.d.clock.now()), (node, reason) => replace(node, wave.wave, reason)).then(() => {
            wave.state = "done";
            settle(wave.nodes);
          }),
        );
      }
      for (const n of absent) replace(n, wave.wave, `not running when wave ${wave.wave} started`);
    };
    /** A chosen node gone before it answered: the next running node in choice order takes its place, in an envelope of its own. */
    const replace = (node: string, wave: number, reason: string) => {
      const s = this.nodes.get(node);
      if (s && s.state !== "pending" && s.state !== "running") return;
      while (next < this.choice.length && !this.d.isRunning(this.choice[next]!)) next++;
      const replacement = this.choice[next++];
      const replaced = [node, ...(held.get(node) ?? [])];
      held.delete(node);
      if (replacement === undefined) {
        for (const n of replaced) this.gone(n, wave, "unreachable", `${reason}; no running targeted node is left to replace it`);
        return;
      }
      held.set(replacement, replaced);
      this.setNode(node, wave, "replaced", `${reason}: replaced by ${replacement}`);
      launch(this.planWave([replacement]));
    };
    /** Once a replacement is accounted for, the nodes it replaced are reported skipped (after its answer, so a client waits for it). */
    const settle = (nodes: string[]) => {
      for (const r of nodes) {
        const replaced = held.get(r);
        if (!replaced) continue;
        held.delete(r);
        for (const n of replaced) {
          const address = this.d.addressOf(n);
          const why = this.nodes.get(n)?.reason ?? `replaced by ${r}`;
          this.setNode(n, this.nodes.get(n)?.wave ?? 1, "replaced", why);
          this.emit({ type: "skipped", node: n, ...(address !== undefined && { address }), reason: `-count: ${why}`, wave: this.nodes.get(n)?.wave ?? 1 });
        }
      }
    };
    launch(chosen);
    // Replacements add to running while earlier ones are awaited.
    for (let i = 0; i < running.length; i++) await running[i];
    this.end("complete");
  }

  // ---- plumbing ----

  private planWave(nodes: string[]): RolloutWave {
    const wave: RolloutWave = { wave: this.waves.length + 1, nodes, batchId: "", state: "planned" };
    this.waves.push(wave);
    for (const node of nodes) this.nodes.set(node, { node, wave: wave.wave, state: "pending" });
    return wave;
  }

  private setNode(node: string, wave: number, state: NodeState["state"], reason?: string): void {
    this.nodes.set(node, { node, wave, state, ...(reason !== undefined && { reason }) });
  }

  private ensureAccepted(batchId: string): void {
    if (this.acceptedSent) return;
    this.acceptedSent = true;
    const expected: NodeRef[] = this.waves.flatMap((w) => w.nodes.map((name) => ({ name, address: this.d.addressOf(name) ?? "" })));
    this.emit({
      type: "accepted",
      batchId,
      origin: this.d.origin,
      createdMs: this.startedMs,
      ttlMs: this.d.ttlMs,
      expected,
      rollout: { id: this.d.id, waves: this.waves.map((w) => [...w.nodes]) },
    });
  }

  /** The end: nodes never reached are skipped (with why), then done. */
  private end(outcome: Exclude<RolloutOutcome, "running">, reason?: string): void {
    this.ensureAccepted("");
    if (reason !== undefined) {
      for (const w of this.waves) {
        if (w.state !== "planned") continue;
        w.state = "skipped";
        for (const node of w.nodes) {
          this.setNode(node, w.wave, "skipped", reason);
          const address = this.d.addressOf(node);
          this.emit({ type: "skipped", node, ...(address !== undefined && { address }), reason: `skipped: ${reason}`, wave: w.wave });
        }
      }
    }
    this.outcome = outcome;
    this.reason = reason;
    this.d.log.info({ rollout: this.d.id, outcome, failures: this.failures }, `rollout ${this.d.id} ${outcome}${reason ? `: ${reason}` : ""}`);
    const wavesRun = this.waves.filter((w) => w.state === "done").length;
    this.emit({
      type: "done",
      elapsedMs: this.elapsed(),
      timedOut: this.timedOut,
      rollout: { id: this.d.id, outcome, ...(reason !== undefined && { reason }), wavesRun, failures: this.failures },
    });
  }

  private elapsed(): number {
    return this.d.clock.now() - this.startedMs;
  }

  private emit(e: BatchEvent): void {
    this.log.push(e);
    const w = this.wakers;
    this.wakers = [];
    for (const wake of w) wake();
  }
}
