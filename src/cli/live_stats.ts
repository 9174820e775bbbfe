import type { NodeRef, NodeStats } from "../control/api_types.js";
import type { StatsStreamEvent } from "../control/stream_types.js";
import type { LiveView } from "./live_run.js";
import { statsSummary, statsTable } from "./output/stats.js";
import { formatTime } from "./output/table.js";
import { type SseEvent, SseProtocolError } from "./sse.js";
import { type StatsNodeOutcome, StatsReport } from "./stats_report.js";

/*
 * gcheck stats -watch: the rounds of /v1/streams/stats (round, one stats or
 * unreachable per node, round-done), each folded into the StatsReport that
 * gcheck stats itself prints, so the tables are the same. A terminal shows
 * every node's latest figures (a node keeps its last round's row until its
 * answer in this one arrives; an unreachable one is shown so until it
 * answers again; a node no longer targeted goes); a pipe gets one table and
 * summary per completed round, headed "round N at TIME", separated by a
 * blank line. A round cut by a lost connection is dropped.
 */

type Data<E extends StatsStreamEvent["event"]> = Extract<StatsStreamEvent, { event: E }>["data"];

export class LiveStats implements LiveView {
  private current: { round: number; intervalMs: number; report: StatsReport } | undefined;
  private readonly latest = new Map<string, StatsNodeOutcome>();
  private lastDone: Data<"round-done"> | undefined;
  private lastError: string | undefined;
  private printed = 0;

  /** what: names the stream in errors. */
  constructor(private readonly what: string) {}

  connected(): void {
    this.current = undefined;
  }

  apply(e: SseEvent): string {
    const d = e.data as { round?: unknown } | null;
    if (typeof d !== "object" || d === null || typeof d.round !== "number") {
      throw new SseProtocolError(`${this.what} sent a "${e.event}" event without a round number: is gcheck older than the daemon?`);
    }
    switch (e.event) {
      case "round":
        return this.start(e.data as Data<"round">);
      case "stats": {
        const s = e.data as Data<"stats">;
        if (typeof s.node !== "string" || !isNodeStats(s.stats)) throw new SseProtocolError(`${this.what} sent a stats event without a node's stats: is gcheck older than the daemon?`);
        if (s.round === this.current?.round) this.note(s.node, { type: "result", node: s.node, address: s.address, stats: s.stats, elapsedMs: s.elapsedMs });
        return "";
      }
      case "unreachable": {
        const u = e.data as Data<"unreachable">;
        if (typeof u.node !== "string") throw new SseProtocolError(`${this.what} sent an unreachable event without a node: is gcheck older than the daemon?`);
        if (u.round === this.current?.round) this.note(u.node, { type: "unreachable", node: u.node, address: u.address ?? "", reason: String(u.reason) });
        return "";
      }
      case "round-done":
        return this.end(e.data as Data<"round-done">);
      case "error": {
        const x = e.data as Data<"error">;
        this.lastError = `round ${x.round} could not start: ${x.error}`;
        return `${this.printed++ > 0 ? "\n" : ""}${this.lastError}\n`;
      }
      default:
        return ""; // an event this gcheck does not know (a newer daemon)
    }
  }

  table(): string {
    return statsTable({ outcomes: () => [...this.latest.values()].sort((a, b) => a.node.localeCompare(b.node)) });
  }

  summary(): string {
    const c = this.current;
    const every = c ? ` every ${intervalText(c.intervalMs)}` : "";
    const done = this.lastDone ? `, round ${this.lastDone.round}: ${this.lastDone.answered}/${this.lastDone.expected} answered` : "";
    const err = this.lastError ? `; ${this.lastError}` : "";
    return `${this.latest.size} node${this.latest.size === 1 ? "" : "s"}${every}${done}${err}`;
  }

  private start(r: Data<"round">): string {
    if (!Array.isArray(r.expected) || !r.expected.every(isNodeRef)) throw new SseProtocolError(`${this.what} sent a round without its expected nodes: is gcheck older than the daemon?`);
    const report = new StatsReport();
    report.apply({ type: "accepted", id: "", origin: "", createdMs: r.startedMs, expected: r.expected });
    this.current = { round: r.round, intervalMs: r.intervalMs, report };
    this.lastError = undefined;
    const targeted = new Set(r.expected.map((n) => n.name));
    for (const name of this.latest.keys()) if (!targeted.has(name)) this.latest.delete(name);
    return "";
  }

  private note(node: string, e: Parameters<StatsReport["apply"]>[0]): void {
    const report = this.current!.report;
    report.apply(e);
    const outcome = report.outcomes().find((o) => o.node === node);
    if (outcome) this.latest.set(node, outcome);
  }

  private end(d: Data<"round-done">): string {
    const c = this.current;
    if (d.round !== c?.round) return "";
    c.report.apply({ type: "done", elapsedMs: d.elapsedMs, timedOut: false });
    // Whoever stayed silent this round shows so now (until then it kept its last row).
    for (const o of c.report.outcomes()) if (o.state === "silent") this.latest.set(o.node, o);
    this.lastDone = d;
    const heading = `round ${d.round} at ${formatTime(c.report.createdMs)}\n`;
    return `${this.printed++ > 0 ? "\n" : ""}${heading}${statsTable(c.report)}${statsSummary(c.report, d.elapsedMs)}`;
  }
}

/** An interval as -interval and ?interval= write it: "2s", "1500ms". */
export function intervalText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** /v1/streams/stats with -interval and the targeting (-node, -tag: repeatable). */
export function statsStreamPath(intervalMs: number, nodes: string[], tags: string[]): string {
  const query = new URLSearchParams({ interval: intervalText(intervalMs) });
  for (const n of nodes) query.append("node", n);
  for (const t of tags) query.append("tag", t);
  return `/v1/streams/stats?${query.toString()}`;
}

function isNodeRef(x: unknown): x is NodeRef {
  const n = x as Partial<NodeRef> | null;
  return typeof n === "object" && n !== null && typeof n.name === "string" && typeof n.address === "string";
}

/** The fields the stats table reads (output/stats.ts), so a malformed answer is an error, not a crash. */
function isNodeStats(x: unknown): x is NodeStats {
  const s = x as { cpu?: { loadAverage?: unknown }; uptime?: { hostMs?: unknown }; process?: { rssBytes?: unknown }; errors?: unknown } | null;
  return (
    typeof s === "object" &&
    s !== null &&
    Array.isArray(s.cpu?.loadAverage) &&
    typeof s.cpu.loadAverage[0] === "number" &&
    typeof s.uptime?.hostMs === "number" &&
    typeof s.process?.rssBytes === "number" &&
    Array.isArray(s.errors)
  );
}
