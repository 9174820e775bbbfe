import type { VNode } from "preact";
import { ago } from "./format.js";
import { useNow } from "./ticker.js";

/*
 * Small pieces shared by the views: a status word in a coloured badge (the
 * word is always there: colour is never the only sign), a relative time
 * that ticks, a progress bar.
 */

/** A status badge: class st-<status> colours it (app.css). */
export function Badge({ status, label }: { status: string; label?: string }): VNode {
  return <span class={`badge st-${status}`}>{label ?? status}</span>;
}

/** "12s ago", refreshed by the page's one ticker while shown. atMs is on this browser's clock. */
export function Ago({ atMs }: { atMs: number }): VNode {
  const now = useNow();
  return <span title={new Date(atMs).toLocaleString()}>{ago(now - atMs)}</span>;
}

export function Progress({ done, total, label }: { done: number; total: number; label: string }): VNode {
  return <progress class="progress" max={Math.max(total, 1)} value={Math.min(done, total)} aria-label={label} />;
}

/** Enter or Space acts like a click on a focusable row or cell. */
export function onEnter(fn: () => void): (e: KeyboardEvent) => void {
  return (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      fn();
    }
  };
}
