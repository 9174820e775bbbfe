import type { VNode } from "preact";
import type { Ring } from "./ring.js";

/*
 * An inline SVG sparkline of one ring's series over its whole window (0 to
 * 100 %), the newest round at the right edge; a missed round breaks the
 * line. One polyline per unbroken run.
 */
export function Sparkline({ ring, which, seq, label }: { ring: Ring; which: "cpu" | "mem"; seq: number; label: string }): VNode {
  const values = ring[which];
  const n = ring.capacity;
  const lines: string[] = [];
  let pts = "";
  let last = NaN;
  for (let k = 0; k < n; k++) {
    const v = ring.at(values, seq - (n - 1) + k);
    if (Number.isNaN(v)) {
      if (pts) lines.push(pts);
      pts = "";
      continue;
    }
    last = v;
    pts += `${k},${(100 - Math.min(100, Math.max(0, v))).toFixed(1)} `;
  }
  if (pts) lines.push(pts);
  return (
    <svg class={`spark spark-${which}`} viewBox={`0 -2 ${n - 1} 104`} preserveAspectRatio="none" role="img" aria-label={`${label}: ${Number.isNaN(last) ? "no data" : `${last.toFixed(1)} % now`}`}>
      {lines.map((p, i) => (
        <polyline key={i} points={p} />
      ))}
    </svg>
  );
}
