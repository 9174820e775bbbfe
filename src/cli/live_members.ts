import type { MemberView } from "../control/api_types.js";
import type { MemberStreamEvent } from "../control/stream_types.js";
import type { LiveView } from "./live_run.js";
import { formatTime, membersTable } from "./output/table.js";
import { type SseEvent, SseProtocolError } from "./sse.js";

/*
 * gcheck members -watch: the member list kept current from
 * /v1/streams/members (a snapshot, then one event per change). A terminal
 * shows gcheck members' own table, its SINCE column moving with the
 * clock; a pipe gets that table once, then one line per change:
 *
 *     2025-06-01T14:03:09Z  web-03  suspect  suspect  10.0.0.3:2000
 *     (time, member, change, its status after it, its address)
 *
 * -status shows only the members with that status: a change line is
 * written when the member had it before or has it after.
 */

type Change = Extract<MemberStreamEvent, { event: "member" }>["data"]["change"];

interface Held {
  view: MemberView;
  /** When gcheck received it (ms, wall clock): the age the daemon gave grows from there. */
  receivedMs: number;
}

export class LiveMembers implements LiveView {
  private node = "";
  private readonly members = new Map<string, Held>();
  /** Until the snapshot of a new connection arrives, member events are not applied (nothing to apply them to). */
  private stale = true;
  private snapshots = 0;
  /** Width of the member column of change lines: the longest name seen. */
  private nameWidth = 0;

  /** onlyStatus: -status; what: names the stream in errors; now: wall clock (ms). */
  constructor(
    private readonly what: string,
    private readonly onlyStatus: MemberView["status"] | undefined,
    private readonly now: () => number,
  ) {}

  connected(): void {
    this.stale = true;
  }

  apply(e: SseEvent): string {
    if (e.event === "snapshot") return this.snapshot(e.data);
    if (e.event === "member" && !this.stale) return this.change(e.data);
    if (e.event === "coordinator" && !this.stale) return this.coordinators(e.data);
    return ""; // an event this gcheck does not know (a newer daemon): nothing to show
  }

  table(): string {
    const now = this.now();
    return membersTable(this.shown().map((h) => ({ ...h.view, statusAgeMs: h.view.statusAgeMs + Math.max(0, now - h.receivedMs) })));
  }

  summary(): string {
    if (!this.node) return "waiting for the member list";
    const by = new Map<string, number>();
    for (const { view } of this.members.values()) by.set(view.status, (by.get(view.status) ?? 0) + 1);
    const counts = [...by].map(([s, n]) => `${n} ${s}`).join(", ");
    return `${this.node} sees ${this.members.size} member${this.members.size === 1 ? "" : "s"}${counts ? ` (${counts})` : ""}`;
  }

  private snapshot(data: unknown): string {
    const d = data as { node?: unknown; members?: unknown };
    if (typeof d?.node !== "string" || !Array.isArray(d.members) || !d.members.every(isMemberView)) {
      throw new SseProtocolError(`${this.what} sent a snapshot that is not {node, members: [...]}: is gcheck older than the daemon?`);
    }
    const now = this.now();
    this.node = d.node;
    this.members.clear();
    for (const m of d.members) this.hold(m, now);
    this.stale = false;
    return (this.snapshots++ > 0 ? "\n" : "") + membersTable(this.shown().map((h) => h.view));
  }

  private change(data: unknown): string {
    const d = data as { change?: unknown; member?: unknown };
    if (typeof d?.change !== "string" || !isMemberView(d.member)) {
      throw new SseProtocolError(`${this.what} sent a member event that is not {change, member}: is gcheck older than the daemon?`);
    }
    const m = d.member;
    const before = this.members.get(m.name)?.view.status;
    if ((d.change as Change) === "reap") this.members.delete(m.name);
    else this.hold(m, this.now());
    if (this.onlyStatus !== undefined && before !== this.onlyStatus && m.status !== this.onlyStatus) return "";
    return `${formatTime(this.now())}  ${m.name.padEnd(this.nameWidth)}  ${d.change.padEnd(7)}  ${m.status.padEnd(7)}  ${m.address}\n`;
  }

  /** The coordinators changed (talk_types.ts): the marks move, and a line says so. */
  private coordinators(data: unknown): string {
    const names = (data as { coordinators?: unknown })?.coordinators;
    if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) return "";
    const set = new Set(names);
    const before = [...this.members.values()].filter((h) => h.view.coordinator).map((h) => h.view.name);
    const same = before.length === set.size && before.every((n) => set.has(n));
    for (const h of this.members.values()) {
      const { coordinator: _, ...rest } = h.view;
      h.view = set.has(h.view.name) ? { ...rest, coordinator: true } : rest;
    }
    // The event after a snapshot repeats its marks: nothing to say.
    if (same) return "";
    const withheld = (data as { withheld?: unknown }).withheld;
    return `${formatTime(this.now())}  coordinators: ${names.length ? names.join(", ") : `none${typeof withheld === "string" ? ` (${withheld})` : ""}`}\n`;
  }

  private hold(m: MemberView, receivedMs: number): void {
    this.members.set(m.name, { view: m, receivedMs });
    this.nameWidth = Math.max(this.nameWidth, m.name.length);
  }

  private shown(): Held[] {
    return [...this.members.values()].filter((h) => this.onlyStatus === undefined || h.view.status === this.onlyStatus).sort((a, b) => a.view.name.localeCompare(b.view.name));
  }
}

function isMemberView(x: unknown): x is MemberView {
  const m = x as Partial<MemberView> | null;
  return (
    typeof m === "object" &&
    m !== null &&
    typeof m.name === "string" &&
    typeof m.address === "string" &&
    typeof m.status === "string" &&
    typeof m.incarnation === "number" &&
    typeof m.tags === "object" &&
    m.tags !== null &&
    typeof m.statusAgeMs === "number"
  );
}
