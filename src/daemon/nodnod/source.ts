import type { NodeStats } from "../../control/api_types.js";
import type { ControlBackend } from "../api/backend.js";
import { errorMessage, fail, ok, type Result } from "../../base/result.js";

/*
 * Where the NodNod server gets its figures: this node's stats (STAT) and
 * every member's (STATALL). The server sees only this interface; the
 * daemon's implementation asks the cluster through its ControlBackend, the
 * same path as POST /v1/stats (a STATS_REQUEST envelope, one answer per
 * node, each node sampling at most once a second however many ask).
 */

/** One member's answer to STATALL: its stats, or why there are none. */
export interface NodnodAnswer {
  node: string;
  stats?: NodeStats;
  error?: string;
}

export interface NodnodStatsSource {
  /** This node's name: the response's `host`. */
  readonly node: string;
  /** This node's stats; never rejects (a failed probe is a line in `errors`). */
  local(): Promise<NodeStats>;
  /** Every member's answer within timeoutMs; an error when the request could not even start. */
  all(timeoutMs: number, signal: AbortSignal): Promise<Result<NodnodAnswer[]>>;
}

type StatsBackend = Required<Pick<ControlBackend, "localStats" | "clusterStats">> & Pick<ControlBackend, "members">;

/**
 * The daemon's source: STATALL is one cluster stats request, followed to
 * its end. Members expected to answer (alive or suspect when asked) that
 * did not within timeoutMs get "no answer within N ms"; members the
 * membership holds as dead or left (until it reaps them) are listed with
 * that as their error, as NodNod lists a peer it lost.
 */
export function clusterStatsSource(node: string, backend: StatsBackend): NodnodStatsSource {
  return {
    node,
    local: () => backend.localStats(),
    async all(timeoutMs, signal) {
      const started = backend.clusterStats({ nodes: [], tags: {}, timeoutMs }, signal);
      if (!started.ok) return fail(started.error);
      const answers = new Map<string, NodnodAnswer>();
      let expected: string[] = [];
      try {
        for await (const e of started.events) {
          if (e.type === "accepted") expected = e.expected.map((r) => r.name);
          else if (e.type === "result") answers.set(e.node, { node: e.node, stats: e.stats });
          else if (e.type === "unreachable" || e.type === "rejected") answers.set(e.node, { node: e.node, error: e.reason });
          else if (e.type === "error") return fail(e.error);
        }
      } catch (err) {
        return fail(`the stats request failed: ${errorMessage(err)}`);
      }
      for (const name of expected) if (!answers.has(name)) answers.set(name, { node: name, error: `no answer within ${timeoutMs} ms` });
      for (const m of backend.members()) {
        if (answers.has(m.name) || (m.status !== "dead" && m.status !== "left")) continue;
        answers.set(m.name, { node: m.name, error: m.status === "dead" ? "declared dead by the membership" : "left the cluster" });
      }
      return ok([...answers.values()]);
    },
  };
}
