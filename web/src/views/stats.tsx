import type { VNode } from "preact";
import { useMemo, useRef, useState } from "preact/hooks";
import type { NodeStats, StatsStreamEvent } from "../contract.js";
import { bytes, pct, share } from "../format.js";
import { useInvalidate } from "../invalidate.js";
import { Ring } from "../ring.js";
import { Sparkline } from "../sparkline.js";
import { useStream } from "../stream.js";
import { VirtualList } from "../virtual_list.js";

/*
 * Stats: /v1/streams/stats, one round per interval (each node's NodeStats
 * as it answers). Kept in mutable rows and rendered at most twice a second
 * whatever the number of nodes; sparklines of CPU and memory over the last
 * 15 minutes from each node's Ring. A node that missed the last round is
 * greyed with "no answer" and keeps its previous figures.
 */

const INTERVAL = "2s";
const ROW_PX = 40;
const RENDER_MIN_MS = 500;

interface NodeRow {
  name: string;
  address: string;
  stats?: NodeStats;
  /** The node did not answer the last finished round (reason, when the daemon gave one). */
  missed: boolean;
  reason?: string;
  ring: Ring;
}

type SortKey = "node" | "cpu" | "load1" | "load5" | "load15" | "mem" | "disk" | "rss";
const COLUMNS: { key: SortKey; label: string }[] = [
  { key: "node", label: "Node" },
  { key: "cpu", label: "CPU %" },
  { key: "load1", label: "Load 1" },
  { key: "load5", label: "5" },
  { key: "load15", label: "15" },
  { key: "mem", label: "Memory" },
  { key: "disk", label: "Disk" },
  { key: "rss", label: "Daemon RSS" },
];

function sortValue(r: NodeRow, key: SortKey): number | string {
  const s = r.stats;
  switch (key) {
    case "node":
      return r.name;
    case "cpu":
      return s?.cpu.loadPercent ?? -1;
    case "load1":
      return s?.cpu.loadAverage[0] ?? -1;
    case "load5":
      return s?.cpu.loadAverage[1] ?? -1;
    case "load15":
      return s?.cpu.loadAverage[2] ?? -1;
    case "mem":
      return share(s?.memory?.usedBytes, s?.memory?.totalBytes) ?? -1;
    case "disk":
      return share(s?.disk?.usedBytes, s?.disk?.totalBytes) ?? -1;
    case "rss":
      return s?.process.rssBytes ?? -1;
  }
}

export function Stats(): VNode {
  const rows = useRef(new Map<string, NodeRow>());
  /** The page's round counter (seq) and the daemon's round it stands for; capacity from the interval. */
  const round = useRef({ seq: -1, daemonRound: -1, capacity: Ring.capacityFor(2000), answered: 0, expected: 0 });
  const { invalidate, version } = useInvalidate(RENDER_MIN_MS);
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "node", desc: false });

  useStream<StatsStreamEvent>(`/v1/streams/stats?interval=${INTERVAL}`, {
    round: (d) => {
      const r = round.current;
      r.seq++;
      r.daemonRound = d.round;
      const capacity = Ring.capacityFor(d.intervalMs);
      const fresh = capacity !== r.capacity;
      r.capacity = capacity;
      const expected = new Set(d.expected.map((n) => n.name));
      for (const name of rows.current.keys()) if (!expected.has(name)) rows.current.delete(name);
      for (const n of d.expected) {
        const row = rows.current.get(n.name);
        if (!row) rows.current.set(n.name, { name: n.name, address: n.address, missed: false, ring: new Ring(capacity) });
        else if (fresh) row.ring = new Ring(capacity);
      }
      invalidate();
    },
    stats: (d) => {
      const r = round.current;
      if (d.round !== r.daemonRound) return;
      let row = rows.current.get(d.node);
      if (!row) rows.current.set(d.node, (row = { name: d.node, address: d.address, missed: false, ring: new Ring(r.capacity) }));
      row.stats = d.stats;
      row.missed = false;
      row.reason = undefined;
      row.ring.put(r.seq, d.stats.cpu.loadPercent ?? NaN, share(d.stats.memory?.usedBytes, d.stats.memory?.totalBytes) ?? NaN);
      invalidate();
    },
    unreachable: (d) => {
      const row = rows.current.get(d.node);
      if (row) {
        row.missed = true;
        row.reason = d.reason;
      }
      invalidate();
    },
    "round-done": (d) => {
      round.current.answered = d.answered;
      round.current.expected = d.expected;
      for (const name of d.missing) {
        const row = rows.current.get(name);
        if (row) row.missed = true;
      }
      invalidate();
    },
  });

  const list = useMemo(() => {
    const all = [...rows.current.values()];
    const dir = sort.desc ? -1 : 1;
    return all.sort((a, b) => {
      const x = sortValue(a, sort.key);
      const y = sortValue(b, sort.key);
      return (x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : 1) * dir;
    });
  }, [version, sort]);

  const totals = useMemo(() => {
    let cpuSum = 0;
    let cpuN = 0;
    const mem = { used: 0, total: 0 };
    const disk = { used: 0, total: 0 };
    for (const r of rows.current.values()) {
      const s = r.stats;
      if (!s || r.missed) continue;
      if (s.cpu.loadPercent !== undefined) {
        cpuSum += s.cpu.loadPercent;
        cpuN++;
      }
      if (s.memory) {
        mem.used += s.memory.usedBytes;
        mem.total += s.memory.totalBytes;
      }
      if (s.disk) {
        disk.used += s.disk.usedBytes;
        disk.total += s.disk.totalBytes;
      }
    }
    return { cpu: cpuN ? cpuSum / cpuN : undefined, mem, disk };
  }, [version]);

  const r = round.current;
  const answering = r.expected > 0 ? `${r.answered}/${r.expected}` : `${list.filter((x) => x.stats && !x.missed).length}/${list.length}`;
  return (
    <section class="view stats">
      <div class="summary totals" aria-label="cluster totals">
        <span class="count">
          nodes answering <b id="stats-answering">{answering}</b>
        </span>
        <span class="count">
          mean CPU <b id="stats-cpu">{totals.cpu === undefined ? "–" : `${pct(totals.cpu)} %`}</b>
        </span>
        <span class="count">
          memory <b id="stats-memory">{totals.mem.total ? `${bytes(totals.mem.used)} / ${bytes(totals.mem.total)} (${pct(share(totals.mem.used, totals.mem.total))} %)` : "–"}</b>
        </span>
        <span class="count">
          disk <b id="stats-disk">{totals.disk.total ? `${bytes(totals.disk.used)} / ${bytes(totals.disk.total)} (${pct(share(totals.disk.used, totals.disk.total))} %)` : "–"}</b>
        </span>
      </div>
      <VirtualList
        label="stats per node"
        class="stats-list"
        count={list.length}
        rowHeight={ROW_PX}
        minWidth={1000}
        rowKey={(i) => list[i].name}
        header={
          <div class="row head" role="row">
            {COLUMNS.map((c) => (
              <span role="columnheader" key={c.key} aria-sort={sort.key === c.key ? (sort.desc ? "descending" : "ascending") : "none"}>
                <button type="button" class="sort" data-sort={c.key} onClick={() => setSort((s) => ({ key: c.key, desc: s.key === c.key ? !s.desc : c.key !== "node" }))}>
                  {c.label}
                  {sort.key === c.key ? (sort.desc ? " ▼" : " ▲") : ""}
                </button>
              </span>
            ))}
            <span role="columnheader">CPU, 15 min</span>
            <span role="columnheader">Memory, 15 min</span>
          </div>
        }
        row={(i) => <StatsRow r={list[i]} seq={r.seq} />}
      />
      {list.length === 0 && <p class="empty">Waiting for the first round of stats.</p>}
    </section>
  );
}

function StatsRow({ r, seq }: { r: NodeRow; seq: number }): VNode {
  const s = r.stats;
  const cpu = pct(s?.cpu.loadPercent);
  const memPct = share(s?.memory?.usedBytes, s?.memory?.totalBytes);
  const diskPct = share(s?.disk?.usedBytes, s?.disk?.totalBytes);
  const la = s?.cpu.loadAverage;
  return (
    <div class={`row${r.missed ? " missed" : ""}`} role="row" tabindex={0} data-stats-node={r.name} data-missed={r.missed ? "true" : undefined}>
      <span role="cell" class="name" title={`${r.name} (${r.address})${r.reason ? `: ${r.reason}` : ""}${s?.errors.length ? `\n${s.errors.join("\n")}` : ""}`}>
        {r.name}
        {r.missed && <span class="badge st-missed">no answer</span>}
        {s && s.errors.length > 0 && <span class="badge st-warn">{s.errors.length} probe errors</span>}
      </span>
      <span role="cell" class="num" data-cpu={cpu}>
        {cpu || "–"}
      </span>
      <span role="cell" class="num">
        {la ? la[0].toFixed(2) : "–"}
      </span>
      <span role="cell" class="num">
        {la ? la[1].toFixed(2) : "–"}
      </span>
      <span role="cell" class="num">
        {la ? la[2].toFixed(2) : "–"}
      </span>
      <UsedCell data="mem" share={memPct} used={s?.memory?.usedBytes} total={s?.memory?.totalBytes} />
      <UsedCell data="disk" share={diskPct} used={s?.disk?.usedBytes} total={s?.disk?.totalBytes} />
      <span role="cell" class="num">
        {s ? bytes(s.process.rssBytes) : "–"}
      </span>
      <span role="cell">
        <Sparkline ring={r.ring} which="cpu" seq={seq} label={`${r.name} CPU`} />
      </span>
      <span role="cell">
        <Sparkline ring={r.ring} which="mem" seq={seq} label={`${r.name} memory`} />
      </span>
    </div>
  );
}

/** "49.4 %" over "7.91 GiB / 16.0 GiB"; data-mem / data-disk hold the percentage. */
function UsedCell(p: { data: "mem" | "disk"; share?: number; used?: number; total?: number }): VNode {
  const attr = { [`data-${p.data}`]: pct(p.share) };
  return (
    <span role="cell" class="num two" {...attr}>
      {p.used === undefined || p.total === undefined ? (
        "–"
      ) : (
        <>
          <span>{pct(p.share)} %</span>
          <small>
            {bytes(p.used)} / {bytes(p.total)}
          </small>
        </>
      )}
    </span>
  );
}
