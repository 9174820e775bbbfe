import type { ComponentChildren, VNode } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";

/*
 * A windowed list: fixed row height, only the rows in view (plus an
 * overscan) are in the DOM, inside one scroll container that also scrolls
 * sideways on narrow screens (the header row is sticky). A thousand members
 * are a few dozen row elements. Arrow keys move focus to the row (or the
 * same cell) above or below, scrolling it into view, since Tab alone would
 * stop at the last rendered row.
 */

interface Props {
  count: number;
  /** Row height (px); the CSS of the rows must agree. */
  rowHeight: number;
  /** The key of row i (stable across reorders). */
  rowKey: (i: number) => string;
  /** Row i: one element (role="row"). */
  row: (i: number) => VNode;
  header: ComponentChildren;
  /** Narrowest width of the rows (px) before the container scrolls sideways. */
  minWidth: number;
  label: string;
  class?: string;
  /** Rows rendered beyond each edge of the view. */
  overscan?: number;
}

export function VirtualList(p: Props): VNode {
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  const focusNext = useRef<{ index: number; cell: number } | null>(null);
  const frame = useRef(0);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = (): void => setView({ top: el.scrollTop, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => {
      ro.disconnect();
      cancelAnimationFrame(frame.current);
    };
  }, []);

  useLayoutEffect(() => {
    const want = focusNext.current;
    if (!want || !box.current) return;
    focusNext.current = null;
    const slot = box.current.querySelector(`[data-index="${want.index}"]`);
    const cells = slot ? slot.querySelectorAll<HTMLElement>('[tabindex="0"]') : [];
    cells[Math.min(want.cell, cells.length - 1)]?.focus({ preventScroll: true });
  });

  const onScroll = (): void => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => {
      const el = box.current;
      if (el) setView({ top: el.scrollTop, height: el.clientHeight });
    });
  };

  const onKeyDown = (e: KeyboardEvent): void => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const target = e.target as HTMLElement;
    const slot = target.closest<HTMLElement>("[data-index]");
    const el = box.current;
    if (!slot || !el) return;
    const index = Number(slot.dataset.index) + (e.key === "ArrowDown" ? 1 : -1);
    if (index < 0 || index >= p.count) return;
    e.preventDefault();
    const cell = Array.from(slot.querySelectorAll('[tabindex="0"]')).indexOf(target);
    const head = el.querySelector<HTMLElement>(".vhead")?.offsetHeight ?? 0;
    const rowTop = index * p.rowHeight;
    if (rowTop < el.scrollTop) el.scrollTop = rowTop;
    else if (rowTop + p.rowHeight > el.scrollTop + el.clientHeight - head) el.scrollTop = rowTop + p.rowHeight - el.clientHeight + head;
    focusNext.current = { index, cell: Math.max(0, cell) };
    setView({ top: el.scrollTop, height: el.clientHeight });
  };

  const overscan = p.overscan ?? 8;
  const first = Math.max(0, Math.floor(view.top / p.rowHeight) - overscan);
  const last = Math.min(p.count, Math.ceil((view.top + view.height) / p.rowHeight) + overscan);
  const rows: VNode[] = [];
  for (let i = first; i < last; i++)
    rows.push(
      <div role="presentation" class="vslot" key={p.rowKey(i)} data-index={i} style={{ top: `${i * p.rowHeight}px`, height: `${p.rowHeight}px` }}>
        {p.row(i)}
      </div>,
    );
  return (
    <div ref={box} class={`vlist ${p.class ?? ""}`} role="table" aria-label={p.label} aria-rowcount={p.count + 1} onScroll={onScroll} onKeyDown={onKeyDown}>
      <div class="vinner" style={{ minWidth: `${p.minWidth}px` }}>
        <div class="vhead" role="rowgroup">
          {p.header}
        </div>
        <div class="vbody" role="rowgroup" style={{ height: `${p.count * p.rowHeight}px` }}>
          {rows}
        </div>
      </div>
    </div>
  );
}
