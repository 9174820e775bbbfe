import type { VNode } from "preact";
import { useMemo, useRef, useState } from "preact/hooks";
import type { CheckState, ChecksStreamEvent } from "../contract.js";
import { StatusGrid } from "../grid.js";
import { useInvalidate } from "../invalidate.js";
import { useStream } from "../stream.js";
import { Ago, Badge } from "../widgets.js";

/*
 * Checks: /v1/streams/checks, every interval each node's scheduled checks
 * and their current states. A grid of nodes x schedule/check; a cell shows
 * the state's message, since when, and the last run.
 */

interface NodeChecks {
  states: Map<string, CheckState & { seenLocalMs: number }>;
  unreachable?: string;
}

const key = (s: CheckState): string => `${s.schedule}/${s.check}`;

export function Checks(): VNode {
  const nodes = useRef(new Map<string, NodeChecks>());
  const rounds = useRef(0);
  const { invalidate, version } = useInvalidate(500);
  const [selected, setSelected] = useState<{ node: string; column: string } | undefined>();
  useStream<ChecksStreamEvent>("/v1/streams/checks", {
    checks: (d) => {
      const states = new Map<string, CheckState & { seenLocalMs: number }>();
      for (const s of d.states) states.set(key(s), { ...s, seenLocalMs: Date.now() });
      nodes.current.set(d.node, { states });
      invalidate();
    },
    unreachable: (d) => {
      const n = nodes.current.get(d.node);
      nodes.current.set(d.node, { states: n?.states ?? new Map(), unreachable: d.reason });
      invalidate();
    },
    "round-done": () => {
      rounds.current++;
      invalidate();
    },
  });
  const { names, columns } = useMemo(() => {
    const cols = new Set<string>();
    for (const n of nodes.current.values()) for (const k of n.states.keys()) cols.add(k);
    return { names: [...nodes.current.keys()].sort(), columns: [...cols].sort() };
  }, [version]);

  const sel = selected && nodes.current.get(selected.node)?.states.get(selected.column);
  return (
    <section class="view checks">
      {columns.length === 0 ? (
        <p class="empty" id="checks-empty">
          {rounds.current === 0 && names.length === 0
            ? "Waiting for the first answers…"
            : "No scheduled checks: no node runs a schedule. Checks with an interval, set with gcheck schedule or a -checks-dir, show here."}
        </p>
      ) : (
        <StatusGrid
          label="scheduled checks per node"
          nodes={names}
          columns={columns}
          selected={selected}
          onSelect={(node, column) => setSelected({ node, column })}
          nodeNote={(node) => {
            const u = nodes.current.get(node)?.unreachable;
            return u ? (
              <span class="badge st-missed" title={u}>
                no answer
              </span>
            ) : null;
          }}
          cell={(node, column) => {
            const s = nodes.current.get(node)?.states.get(column);
            return s ? { status: s.status } : { status: "none", text: "–" };
          }}
        />
      )}
      {selected && (
        <aside class="detail" id="cell-detail">
          <header>
            <h2>
              {selected.node} · {selected.column}
            </h2>
            <button type="button" onClick={() => setSelected(undefined)}>
              Close
            </button>
          </header>
          {sel ? (
            <dl>
              <dt>Status</dt>
              <dd>
                <Badge status={sel.status} /> since {new Date(sel.sinceMs).toLocaleString()}
              </dd>
              <dt>Message</dt>
              <dd class="pre">{sel.message}</dd>
              <dt>Last run</dt>
              <dd>
                {new Date(sel.lastRunMs).toLocaleString()} (every {Math.round(sel.intervalMs / 1000)} s; state received <Ago atMs={sel.seenLocalMs} />)
              </dd>
              {sel.suppressed > 0 && (
                <>
                  <dt>Suppressed actions</dt>
                  <dd>{sel.suppressed} (flap guard)</dd>
                </>
              )}
              {sel.quorum !== undefined && (
                <>
                  <dt>Quorum</dt>
                  <dd>{String(sel.quorum)}</dd>
                </>
              )}
            </dl>
          ) : (
            <p class="muted">This node does not run this check.</p>
          )}
        </aside>
      )}
    </section>
  );
}
