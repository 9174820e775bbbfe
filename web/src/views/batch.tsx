import type { VNode } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { BatchEvent, CheckResult, NodeRef } from "../contract.js";
import { shortId, when } from "../format.js";
import { type GridCell, StatusGrid } from "../grid.js";
import { useInvalidate } from "../invalidate.js";
import { useStream } from "../stream.js";
import { Badge, Progress } from "../widgets.js";

/*
 * One batch: /v1/streams/batches/ID (accepted with the expected nodes, then
 * a result, rejected or unreachable per node, then done). A grid of nodes x
 * checks fills in as results arrive; a cell shows its result's message,
 * action outcome and timing. A replay (reconnect) is harmless: everything
 * is keyed by node.
 */

/** BatchStreamEvent (stream_types.ts) with each event name tied to its own BatchEvent. */
type BatchStreamEvents = { [T in BatchEvent["type"]]: { event: T; data: Extract<BatchEvent, { type: T }> } }[BatchEvent["type"]];

interface NodeAnswer {
  address: string;
  elapsedMs: number;
  results: Map<string, CheckResult>;
}
interface NodeMiss {
  kind: "unreachable" | "rejected" | "skipped";
  reason: string;
}
interface BatchState {
  accepted?: Extract<BatchEvent, { type: "accepted" }>;
  answers: Map<string, NodeAnswer>;
  misses: Map<string, NodeMiss>;
  checks: string[];
  done?: Extract<BatchEvent, { type: "done" }>;
  error?: string;
}

export function Batch({ id }: { id: string }): VNode {
  const st = useRef<BatchState>({ answers: new Map(), misses: new Map(), checks: [] });
  const { invalidate, version } = useInvalidate();
  const [selected, setSelected] = useState<{ node: string; column: string } | undefined>();
  const miss = (kind: NodeMiss["kind"]) => (e: { node: string; reason: string }) => {
    if (!st.current.answers.has(e.node)) st.current.misses.set(e.node, { kind, reason: e.reason });
    invalidate();
  };
  useStream<BatchStreamEvents>(
    `/v1/streams/batches/${encodeURIComponent(id)}`,
    {
      accepted: (e) => {
        st.current.accepted = e;
        invalidate();
      },
      result: (e) => {
        const s = st.current;
        const results = new Map<string, CheckResult>();
        for (const r of e.results) {
          results.set(r.name, r);
          if (!s.checks.includes(r.name)) s.checks.push(r.name);
        }
        s.answers.set(e.node, { address: e.address, elapsedMs: e.elapsedMs, results });
        s.misses.delete(e.node);
        invalidate();
      },
      unreachable: miss("unreachable"),
      rejected: miss("rejected"),
      skipped: miss("skipped"),
      done: (e) => {
        st.current.done = e;
        invalidate();
      },
      error: (e) => {
        st.current.error = e.error;
        invalidate();
      },
    },
    "done",
  );

  const s = st.current;
  const nodes = useMemo(() => {
    const names = new Set<string>((s.accepted?.expected ?? []).map((n: NodeRef) => n.name));
    for (const n of s.answers.keys()) names.add(n);
    for (const n of s.misses.keys()) names.add(n);
    return [...names].sort();
  }, [version]);
  const expected = s.accepted ? s.accepted.expected.length : nodes.length;
  const answered = s.answers.size + [...s.misses.values()].filter((m) => m.kind === "rejected").length;
  const columns = s.checks.length ? s.checks : ["…"];

  const cell = (node: string, check: string): GridCell => {
    const r = s.answers.get(node)?.results.get(check);
    if (r) return { status: r.status };
    const m = s.misses.get(node);
    if (m) return { status: m.kind };
    if (s.answers.has(node)) return { status: "none", text: "–" };
    return { status: "pending" };
  };

  return (
    <section class="view batch">
      <div class="summary">
        <span class="count">
          batch{" "}
          <b class="mono" title={id}>
            {shortId(id)}
          </b>
        </span>
        {s.accepted && (
          <span class="count">
            from <b>{s.accepted.origin}</b> at {when(s.accepted.createdMs)}
          </span>
        )}
        <span class="count">
          answered <b id="batch-progress">{`${answered}/${expected}`}</b>
        </span>
        {!s.done && <Progress done={answered} total={expected} label="answered" />}
        <span class="count" id="batch-state" data-state={s.done ? "done" : "running"}>
          {s.done ? (
            <>
              done in {(s.done.elapsedMs / 1000).toFixed(1)} s{s.done.timedOut ? <Badge status="warn" label="timed out" /> : null}
            </>
          ) : (
            <span class="muted">running…</span>
          )}
        </span>
        <a href="#/batches">all batches</a>
      </div>
      {s.error && (
        <p class="error" role="alert">
          {s.error}
        </p>
      )}
      <StatusGrid label={`results of batch ${shortId(id)}`} nodes={nodes} columns={columns} cell={cell} selected={selected} onSelect={(node, column) => setSelected({ node, column })} />
      {nodes.length === 0 && !s.error && <p class="empty">Waiting for the batch: no node is known yet.</p>}
      {selected && <Detail node={selected.node} check={selected.column} answer={s.answers.get(selected.node)} miss={s.misses.get(selected.node)} onClose={() => setSelected(undefined)} />}
    </section>
  );
}

function Detail({ node, check, answer, miss, onClose }: { node: string; check: string; answer?: NodeAnswer; miss?: NodeMiss; onClose: () => void }): VNode {
  const r = answer?.results.get(check);
  const a = r?.action;
  const panel = useRef<HTMLElement>(null);
  useEffect(() => panel.current?.scrollIntoView({ block: "nearest" }), [node, check]);
  return (
    <aside ref={panel} class="detail" id="cell-detail" aria-live="polite">
      <header>
        <h2>
          {node} · {check}
        </h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      {miss && (
        <p>
          <Badge status={miss.kind} /> {miss.reason}
        </p>
      )}
      {!r && !miss && <p class="muted">{answer ? "This node sent no result for this check." : "No answer from this node yet."}</p>}
      {r && (
        <dl>
          <dt>Status</dt>
          <dd>
            <Badge status={r.status} /> <span class="muted">{r.type}</span>
          </dd>
          <dt>Message</dt>
          <dd class="pre">{r.message}</dd>
          {r.description && (
            <>
              <dt>Description</dt>
              <dd>{r.description}</dd>
            </>
          )}
          <dt>Timing</dt>
          <dd>
            check {r.durationMs} ms{answer ? `; node answered ${answer.elapsedMs} ms after submission` : ""}
          </dd>
          {a && (
            <>
              <dt>Action</dt>
              <dd>
                <code>{a.command}</code>
                <br />
                {a.skipped
                  ? `not run: ${a.skipped}`
                  : `exit ${a.exitCode ?? "none"}${a.signal ? `, signal ${a.signal}` : ""}${a.timedOut ? ", timed out" : ""}, ${a.durationMs} ms${a.leftoversKilled ? `, ${a.leftoversKilled} leftover processes killed` : ""}`}
              </dd>
              {a.output && (
                <>
                  <dt>Output{a.outputTruncated ? " (truncated)" : ""}</dt>
                  <dd>
                    <pre>{a.output}</pre>
                  </dd>
                </>
              )}
            </>
          )}
          {r.perfdata && r.perfdata.length > 0 && (
            <>
              <dt>Performance data</dt>
              <dd class="mono">{r.perfdata.map((p) => `${p.label}=${p.value}${p.unit}`).join(" ")}</dd>
            </>
          )}
        </dl>
      )}
    </aside>
  );
}
