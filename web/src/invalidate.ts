import { useCallback, useEffect, useRef, useState } from "preact/hooks";

/*
 * Views keep the streamed state in mutable maps (a thousand members changing
 * is a thousand events) and ask for a render with the function this returns:
 * however many events arrive, the view renders at most once per animation
 * frame, and at most once per minIntervalMs (stats: 2 renders a second).
 */
export function useInvalidate(minIntervalMs = 0): { invalidate: () => void; version: number } {
  const [version, setVersion] = useState(0);
  const s = useRef({ pending: false, lastMs: 0, timer: 0, frame: 0, live: true });
  useEffect(() => {
    const st = s.current;
    st.live = true;
    return () => {
      st.live = false;
      window.clearTimeout(st.timer);
      cancelAnimationFrame(st.frame);
    };
  }, []);
  const invalidate = useCallback(() => {
    const st = s.current;
    if (st.pending) return;
    st.pending = true;
    const fire = (): void => {
      st.pending = false;
      st.lastMs = performance.now();
      if (st.live) setVersion((v) => v + 1);
    };
    const waitMs = st.lastMs + minIntervalMs - performance.now();
    if (waitMs > 0) st.timer = window.setTimeout(() => (st.frame = requestAnimationFrame(fire)), waitMs);
    else st.frame = requestAnimationFrame(fire);
  }, [minIntervalMs]);
  return { invalidate, version };
}
