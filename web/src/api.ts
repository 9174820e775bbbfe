import { connection } from "./connection.js";

/*
 * Plain requests to the control API from the page. Same origin, so the
 * session cookie goes along; a request that changes anything carries the
 * CSRF header (UI_CSRF_HEADER in src/control/stream_types.ts), which another
 * site cannot make a browser send. Only a type import of that module is
 * allowed here, so its value is repeated (and checked by tsc: see below).
 */
import type { UI_CSRF_HEADER as CsrfHeader } from "../../src/control/stream_types.js";

export const CSRF_HEADER: typeof CsrfHeader = "x-gossipcheck-ui";

/** GET a JSON answer; null (and the banner, on 401) when there is none. */
export async function getJson<T>(path: string): Promise<T | null> {
  try {
    const res = await fetch(path, { credentials: "same-origin", headers: { accept: "application/json" } });
    if (res.status === 401) connection.refusedByDaemon();
    if (!res.ok) return null;
    return (await res.json()) as T;
  } catch {
    return null;
  }
}

/** POST with the CSRF header. */
export function post(path: string, body?: unknown): Promise<Response> {
  return fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: body === undefined ? { [CSRF_HEADER]: "1" } : { [CSRF_HEADER]: "1", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
