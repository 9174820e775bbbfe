import { useEffect, useRef } from "preact/hooks";
import { connection } from "./connection.js";

/*
 * One Server-Sent Events stream of the daemon (src/control/stream_types.ts)
 * while a view is mounted. The browser's EventSource reconnects by itself
 * after a network error; after an answer it cannot use (401 without a
 * session, 503) it gives up (readyState CLOSED), so we open a new one with
 * back-off. Every stream starts with a snapshot, so a reconnect needs no
 * event IDs: views replace their state on it.
 */

/** Handlers by event name, each given that event's parsed data. */
export type Handlers<E extends { event: string; data: unknown }> = { [K in E["event"]]?: (data: DataOf<E, K>) => void };
type DataOf<E, K> = E extends { event: infer N; data: infer D } ? (K extends N ? D : never) : never;

const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/**
 * Opens url (null: none) as long as the calling component is mounted or
 * until an event named in `until` arrives (a finished batch's stream ends
 * with done: reconnecting would replay it forever).
 */
export function useStream<E extends { event: string; data: unknown }>(url: string | null, handlers: Handlers<E>, until?: E["event"]): void {
  const current = useRef(handlers);
  current.current = handlers;
  useEffect(() => {
    if (url === null) return;
    const id = connection.register();
    const names = Object.keys(current.current);
    let source: EventSource | null = null;
    let retry = 0;
    let delayMs = RETRY_FIRST_MS;
    let finished = false;
    const stop = (): void => {
      finished = true;
      source?.close();
      window.clearTimeout(retry);
      connection.forget(id);
    };
    const open = (): void => {
      const es = new EventSource(url);
      source = es;
      es.onopen = () => {
        delayMs = RETRY_FIRST_MS;
        connection.set(id, "up");
      };
      es.onerror = () => {
        if (finished) return;
        connection.set(id, "down");
        if (es.readyState === EventSource.CLOSED) {
          retry = window.setTimeout(open, delayMs);
          delayMs = Math.min(delayMs * 2, RETRY_MAX_MS);
        }
      };
      for (const name of names) {
        es.addEventListener(name, (ev: Event) => {
          // A stream's own "error" event carries data; the connection's error event does not.
          if (finished || !(ev instanceof MessageEvent)) return;
          let data: unknown;
          try {
            data = JSON.parse(ev.data as string);
          } catch {
            console.warn(`${url}: event ${name} with data that is not JSON, skipped`);
            return;
          }
          (current.current as Record<string, ((d: unknown) => void) | undefined>)[name]?.(data);
          if (name === until) stop();
        });
      }
    };
    open();
    return stop;
  }, [url, until]);
}
