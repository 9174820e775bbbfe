import { useEffect, useState } from "preact/hooks";

/*
 * Hash routing: the daemon serves one index.html under /ui/, and the part
 * after # picks the view (#/members, #/stats, #/batches, #/batches/ID,
 * #/checks, #/submit). Anything else shows the members.
 */

export type Page = "members" | "stats" | "batches" | "batch" | "checks" | "submit";
export interface Route {
  page: Page;
  /** The batch ID of #/batches/ID. */
  id?: string;
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "batches" && parts[1]) return { page: "batch", id: parts[1] };
  if (parts[0] === "stats" || parts[0] === "batches" || parts[0] === "checks" || parts[0] === "submit") return { page: parts[0] };
  return { page: "members" };
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = (): void => setHash(location.hash);
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return parseRoute(hash);
}

export function go(hash: string): void {
  location.hash = hash;
}
