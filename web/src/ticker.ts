import { useEffect, useState } from "preact/hooks";

/*
 * One 1 s ticker for the whole page: components that show a relative time
 * subscribe while mounted. In a virtualised list only the visible rows are
 * mounted, so a thousand members cost a few dozen updates a second, and none
 * when no such component is shown (the interval stops).
 */

const TICK_MS = 1_000;
const subscribers = new Set<(now: number) => void>();
let timer = 0;

function subscribe(fn: (now: number) => void): () => void {
  subscribers.add(fn);
  if (timer === 0)
    timer = window.setInterval(() => {
      const now = Date.now();
      for (const s of subscribers) s(now);
    }, TICK_MS);
  return () => {
    subscribers.delete(fn);
    if (subscribers.size === 0) {
      window.clearInterval(timer);
      timer = 0;
    }
  };
}

/** The time now (ms since the epoch), refreshed every second while the component is mounted. */
export function useNow(): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => subscribe(setNow), []);
  return now;
}
