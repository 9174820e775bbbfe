import type { VNode } from "preact";
import { useMemo, useRef } from "preact/hooks";
import type { BatchListItem, BatchesStreamEvent } from "../contract.js";
import { shortId, when } from "../format.js";
import { useInvalidate } from "../invalidate.js";
import { go } from "../route.js";
import { useStream } from "../stream.js";
import { VirtualList } from "../virtual_list.js";
import { Badge, Progress, onEnter } from "../widgets.js";

/*
 * Batches: /v1/streams/batches (the batches this daemon holds, then every
 * new one and every change of progress), newest first. A row opens the
 * batch's grid (#/batches/ID).
 */

const ROW_PX = 40;

export function Batches(): VNode {
  const batches = useRef(new Map<string, BatchListItem>());
  const { invalidate, version } = useInvalidate();
  useStream<BatchesStreamEvent>("/v1/streams/batches", {
    snapshot: (d) => {
      batches.current.clear();
      for (const b of d.batches) batches.current.set(b.batchId, b);
      invalidate();
    },
    batch: (b) => {
      batches.current.set(b.batchId, b);
      invalidate();
    },
  });
  const list = useMemo(() => [...batches.current.values()].sort((a, b) => b.createdMs - a.createdMs || (a.batchId < b.batchId ? -1 : 1)), [version]);
  return (
    <section class="view batches">
      <p class="muted">
        {list.length} batches. <a href="#/submit">Submit one</a>
      </p>
      <VirtualList
        label="batches"
        class="batches-list"
        count={list.length}
        rowHeight={ROW_PX}
        minWidth={900}
        rowKey={(i) => list[i].batchId}
        header={
          <div class="row head" role="row">
            <span role="columnheader">ID</span>
            <span role="columnheader">Origin</span>
            <span role="columnheader">When</span>
            <span role="columnheader">Checks</span>
            <span role="columnheader">Answered</span>
            <span role="columnheader">Results</span>
          </div>
        }
        row={(i) => <BatchRow b={list[i]} />}
      />
      {list.length === 0 && <p class="empty">No batches yet. Submit one with gcheck check or from the Submit page.</p>}
    </section>
  );
}

function BatchRow({ b }: { b: BatchListItem }): VNode {
  const open = (): void => go(`#/batches/${b.batchId}`);
  const running = b.state === "running";
  return (
    <div class="row link" role="row" tabindex={0} data-batch={b.batchId} data-answered={b.answered} data-expected={b.expected} data-state={b.state} onClick={open} onKeyDown={onEnter(open)}>
      <span role="cell" class="mono" title={b.batchId}>
        {shortId(b.batchId)}
        {b.dryRun && <span class="badge st-dry">dry run</span>}
      </span>
      <span role="cell" class="name" title={b.submitter ? `submitted by ${b.submitter}` : undefined}>
        {b.origin}
      </span>
      <span role="cell" title={new Date(b.createdMs).toLocaleString()}>
        {when(b.createdMs)}
      </span>
      <span role="cell" class="num">
        {b.checks}
      </span>
      <span role="cell" class="answered">
        <span class="num">
          {b.answered}/{b.expected}
        </span>
        {running && <Progress done={b.answered} total={b.expected} label={`batch ${shortId(b.batchId)} progress`} />}
        {running && <span class="muted">running</span>}
      </span>
      <span role="cell" class="counts">
        <Counts c={b.counts} />
      </span>
    </div>
  );
}

export function Counts({ c }: { c: BatchListItem["counts"] }): VNode {
  return (
    <>
      <Badge status="pass" label={`${c.pass} pass`} />
      <Badge status="fail" label={`${c.fail} fail`} />
      <Badge status="fixed" label={`${c.fixed} fixed`} />
      <Badge status="error" label={`${c.error} error`} />
      {c.warn ? <Badge status="warn" label={`${c.warn} warn`} /> : null}
    </>
  );
}
