import { useEffect, useState } from "preact/hooks";

/*
 * Whether the page is in touch with the daemon: every stream reports here,
 * and so does a fetch answered 401. The banner (app.tsx) shows while any
 * stream is down or the daemon refused us. One small store, no library.
 */

type StreamState = "connecting" | "up" | "down";

const streams = new Map<number, StreamState>();
let nextId = 1;
let refused = false;
const listeners = new Set<() => void>();

function changed(): void {
  for (const l of listeners) l();
}

export const connection = {
  register(): number {
    const id = nextId++;
    streams.set(id, "connecting");
    return id;
  },
  set(id: number, state: StreamState): void {
    if (!streams.has(id) || streams.get(id) === state) return;
    streams.set(id, state);
    if (state === "up") refused = false;
    changed();
  },
  forget(id: number): void {
    if (streams.delete(id)) changed();
  },
  /** A request was answered 401: the daemon wants a token and the browser has no session. */
  refusedByDaemon(): void {
    refused = true;
    changed();
  },
  /** "ok", or why the banner shows. */
  status(): "ok" | "refused" | "down" {
    if (refused) return "refused";
    for (const s of streams.values()) if (s === "down") return "down";
    return "ok";
  },
};

export function useConnectionStatus(): "ok" | "refused" | "down" {
  const [, set] = useState(0);
  useEffect(() => {
    const l = (): void => set((n) => n + 1);
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return connection.status();
}
