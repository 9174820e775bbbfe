import type { VNode } from "preact";
import { useMemo, useRef, useState } from "preact/hooks";
import type { MemberStatus, MemberStreamEvent, MemberView } from "../contract.js";
import { useInvalidate } from "../invalidate.js";
import { useStream } from "../stream.js";
import { VirtualList } from "../virtual_list.js";
import { Ago, Badge } from "../widgets.js";

/*
 * Members: /v1/streams/members (a snapshot, then one event per change),
 * counts per status, a filter by status and by tag or name, one row per
 * member. Rows carry data-member and data-status for tests and scripts.
 */

const STATUSES: MemberStatus[] = ["alive", "suspect", "dead", "left"];
const ROW_PX = 36;

/** A member and when its status began on this browser's clock (the daemon sends the age, so clocks need not agree). */
type Member = MemberView & { sinceLocalMs: number };

/** "role=web dc=eu nginx": every k=v must be a tag of the member, every other word part of its name. */
export function matches(m: MemberView, query: string): boolean {
  for (const word of query.split(/[\s,]+/).filter(Boolean)) {
    const eq = word.indexOf("=");
    if (eq > 0) {
      if (m.tags[word.slice(0, eq)] !== word.slice(eq + 1)) return false;
    } else if (!m.name.toLowerCase().includes(word.toLowerCase())) return false;
  }
  return true;
}

export function Members(): VNode {
  const members = useRef(new Map<string, Member>());
  /** The coordinators as the daemon computes them (its "coordinator" events). */
  const coordinators = useRef(new Set<string>());
  const { invalidate, version } = useInvalidate();
  const put = (m: MemberView): void => void members.current.set(m.name, { ...m, sinceLocalMs: Date.now() - m.statusAgeMs });
  useStream<MemberStreamEvent>("/v1/streams/members", {
    snapshot: (d) => {
      members.current.clear();
      for (const m of d.members) put(m);
      invalidate();
    },
    member: (d) => {
      if (d.change === "reap") members.current.delete(d.member.name);
      else put(d.member);
      invalidate();
    },
    coordinator: (d) => {
      coordinators.current = new Set(d.coordinators);
      invalidate();
    },
  });
  const [status, setStatus] = useState<"" | MemberStatus>("");
  const [query, setQuery] = useState("");

  const counts = useMemo(() => {
    const c: Record<MemberStatus, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const m of members.current.values()) c[m.status]++;
    return c;
  }, [version]);
  const shown = useMemo(
    () => [...members.current.values()].filter((m) => (status === "" || m.status === status) && matches(m, query)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    [version, status, query],
  );

  return (
    <section class="view members">
      <div class="summary" aria-label="members by status">
        {STATUSES.map((s) => (
          <span class="count" key={s}>
            <Badge status={s} /> <b id={`count-${s}`}>{counts[s]}</b>
          </span>
        ))}
        <span class="count">
          total <b id="count-total">{members.current.size}</b>
        </span>
      </div>
      <div class="filters">
        <label>
          Status{" "}
          <select id="member-status-filter" value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value as "" | MemberStatus)}>
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Filter <input id="member-filter" type="search" placeholder="role=web or part of a name" value={query} onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <span class="muted">
          {shown.length} of {members.current.size} shown
        </span>
      </div>
      <VirtualList
        label="members"
        class="members-list"
        count={shown.length}
        rowHeight={ROW_PX}
        minWidth={760}
        rowKey={(i) => shown[i].name}
        header={
          <div class="row head" role="row">
            <span role="columnheader">Name</span>
            <span role="columnheader">Address</span>
            <span role="columnheader">Status</span>
            <span role="columnheader">Since</span>
            <span role="columnheader">Inc.</span>
            <span role="columnheader">Tags</span>
          </div>
        }
        row={(i) => <MemberRow m={shown[i]} coordinator={coordinators.current.has(shown[i].name)} />}
      />
      {members.current.size === 0 && <p class="empty">No members yet: waiting for the daemon's member list.</p>}
    </section>
  );
}

function MemberRow({ m, coordinator }: { m: Member; coordinator: boolean }): VNode {
  const tags = Object.entries(m.tags);
  return (
    <div class="row" role="row" tabindex={0} data-member={m.name} data-status={m.status}>
      <span role="cell" class="name" title={coordinator ? `${m.name} (coordinator)` : m.name}>
        {m.name}
        {coordinator && (
          <span class="chip coordinator" data-coordinator="true">
            coordinator
          </span>
        )}
      </span>
      <span role="cell" class="mono">
        {m.address}
      </span>
      <span role="cell">
        <Badge status={m.status} />
      </span>
      <span role="cell">
        <Ago atMs={m.sinceLocalMs} />
      </span>
      <span role="cell" class="num">
        {m.incarnation}
      </span>
      <span role="cell" class="tags" title={tags.map(([k, v]) => `${k}=${v}`).join(" ")}>
        {tags.map(([k, v]) => (
          <span class="chip" key={k}>
            {k}={v}
          </span>
        ))}
      </span>
    </div>
  );
}
