import { randomBytes } from "node:crypto";
import { runBatch, runLocalCheck } from "../checks/index.js";
import type { CheckResult, CheckSpec } from "../checks/types.js";
import type { Envelope } from "../gossip/envelope.js";
import { type TrustedKeys, verifyEnvelope } from "../gossip/signing.js";
import { pb, PROTOCOL_VERSION } from "../proto/index.js";
import type { Member } from "../swim/types.js";
import type { BatchEvent, BatchSummary, DaemonInfo } from "./api_types.js";
import type { BatchRequest, ControlBackend } from "./backend.js";
import { PromText } from "./prometheus.js";

/**
 * The backend of a daemon that is its own whole cluster: it answers for this
 * node only and runs a submitted batch locally with the checks engine. The
 * cluster backend (swim + gossip) replaces it; everything the API and gcheck
 * see keeps its shape.
 */

export interface SingleNodeOptions {
  name: string;
  /** Cluster address (host:port) as advertised. */
  address: string;
  tags: Record<string, string>;
  version: string;
  actionsEnabled: boolean;
  /** With -trusted-keys: only batches signed by one of these run. */
  trustedKeys?: TrustedKeys;
  now?: () => number;
}

/** Batches kept for GET /v1/batches. */
const BATCH_HISTORY = 100;

export class SingleNodeBackend implements ControlBackend {
  private readonly now: () => number;
  private readonly startedMs: number;
  private readonly history: BatchSummary[] = [];
  private readonly statusCounts = new Map<string, number>();
  private localChecks = 0;

  constructor(private readonly o: SingleNodeOptions) {
    this.now = o.now ?? Date.now;
    this.startedMs = this.now();
  }

  info(): Omit<DaemonInfo, "cliAddress"> {
    return {
      name: this.o.name,
      version: this.o.version,
      protocolVersion: PROTOCOL_VERSION,
      address: this.o.address,
      pid: process.pid,
      startedMs: this.startedMs,
      uptimeMs: this.now() - this.startedMs,
      tags: this.o.tags,
      actionsEnabled: this.o.actionsEnabled,
      members: { alive: 1, suspect: 0, dead: 0, left: 0 },
      counters: {},
    };
  }

  async localCheck(checks: CheckSpec[]): Promise<CheckResult[]> {
    this.localChecks++;
    return runLocalCheck(checks);
  }

  members(): Member[] {
    return [{ name: this.o.name, address: this.o.address, status: "alive", incarnation: 0, tags: this.o.tags, statusSinceMs: this.startedMs }];
  }

  batches(): BatchSummary[] {
    return this.history.slice();
  }

  async *submitBatch(request: BatchRequest, signal: AbortSignal): AsyncIterable<BatchEvent> {
    const batchId = Buffer.from(request.signed?.id ?? randomBytes(16)).toString("hex");
    const createdMs = request.signed?.createdMs ?? this.now();
    const targeted = this.isTargeted(request);
    const expected = targeted ? [{ name: this.o.name, address: this.o.address }] : [];
    const summary: BatchSummary = {
      batchId,
      origin: this.o.name,
      createdMs,
      ttlMs: request.ttlMs,
      checks: request.checks.length,
      dryRun: request.dryRun,
      expected: expected.length,
      answered: 0,
      state: "running",
    };
    this.history.unshift(summary);
    this.history.length = Math.min(this.history.length, BATCH_HISTORY);
    yield { type: "accepted", batchId, origin: this.o.name, createdMs, ttlMs: request.ttlMs, expected };

    const refusal = targeted ? this.refusal(request) : undefined;
    let timedOut = false;
    if (refusal) {
      summary.state = "done";
      yield { type: "rejected", node: this.o.name, address: this.o.address, reason: refusal };
    } else if (targeted) {
      const started = this.now();
      const runActions = this.o.actionsEnabled && !request.dryRun;
      const run = runBatch(request.checks, {
        batchId,
        node: this.o.name,
        runActions,
        ...(!runActions && { skipReason: request.dryRun ? "dry run" : "actions disabled on this node" }),
      });
      // The batch runs to its end whatever happens; only the waiting stops.
      run.then((results) => {
        summary.answered = 1;
        summary.state = "done";
        for (const r of results) this.statusCounts.set(r.status, (this.statusCounts.get(r.status) ?? 0) + 1);
      });
      const outcome = await waitFor(run, signal, request.timeoutMs);
      if (outcome.kind === "aborted") return;
      if (outcome.kind === "timeout") timedOut = true;
      else yield { type: "result", node: this.o.name, address: this.o.address, results: outcome.value, elapsedMs: this.now() - started };
    } else {
      summary.state = "done";
    }
    yield { type: "done", elapsedMs: this.now() - createdMs, timedOut };
  }

  metrics(): string {
    const t = new PromText()
      .family("gossipcheck_info", "gauge", "Always 1; labels say which node and version.", [{ labels: { node: this.o.name, version: this.o.version }, value: 1 }])
      .family("gossipcheck_uptime_seconds", "gauge", "Seconds since the daemon started.", (this.now() - this.startedMs) / 1000)
      .family("gossipcheck_members", "gauge", "Known members by status.", [{ labels: { status: "alive" }, value: 1 }])
      .family("gossipcheck_batches_total", "counter", "Batches submitted to this node.", this.history.length)
      .family("gossipcheck_local_checks_total", "counter", "local-check requests served.", this.localChecks);
    const results = [...this.statusCounts].map(([status, value]) => ({ labels: { status }, value }));
    if (results.length) t.family("gossipcheck_check_results_total", "counter", "Check results of batches run on this node, by status.", results);
    return t.toString();
  }

  /**
   * Why this node will not run a batch, or undefined: with trusted keys, the
   * signature must verify ("unsigned", "bad signature", "untrusted key"); a
   * signed batch must name this node as its origin and still be live.
   */
  private refusal(r: BatchRequest): string | undefined {
    const s = r.signed;
    if (s) {
      if (s.origin !== this.o.name || s.originAddress !== this.o.address) return `signed for origin ${s.origin} (${s.originAddress}), but this node is ${this.o.name} (${this.o.address})`;
      if (s.createdMs + s.ttlMs <= this.now()) return "expired";
    }
    if (!this.o.trustedKeys) return undefined;
    const empty = new Uint8Array(0);
    const env: Envelope = s
      ? { id: s.id, origin: s.origin, originAddress: s.originAddress, createdMs: s.createdMs, ttlMs: s.ttlMs, kind: pb.EnvelopeKind.CHECK_BATCH, payload: s.payload, signature: s.signature, signerKey: s.signerKey }
      : { id: empty, origin: this.o.name, originAddress: this.o.address, createdMs: 0, ttlMs: 0, kind: pb.EnvelopeKind.CHECK_BATCH, payload: empty, signature: empty, signerKey: empty };
    const verdict = verifyEnvelope(env, this.o.trustedKeys);
    return verdict === "ok" ? undefined : verdict;
  }

  /** Targeting as the cluster path applies it: listed names, and every listed tag exactly. */
  private isTargeted(r: BatchRequest): boolean {
    if (r.nodes.length && !r.nodes.includes(this.o.name)) return false;
    return Object.entries(r.tags).every(([k, v]) => this.o.tags[k] === v);
  }
}

type Waited<T> = { kind: "done"; value: T } | { kind: "timeout" } | { kind: "aborted" };

/** Waits for p, but no longer than timeoutMs (ms) or until signal aborts. */
function waitFor<T>(p: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<Waited<T>> {
  if (signal.aborted) return Promise.resolve({ kind: "aborted" });
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish({ kind: "timeout" }), timeoutMs);
    const onAbort = () => finish({ kind: "aborted" });
    signal.addEventListener("abort", onAbort, { once: true });
    function finish(w: Waited<T>) {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(w);
    }
    p.then((value) => finish({ kind: "done", value }));
  });
}
