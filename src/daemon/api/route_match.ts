import { HttpError } from "./http_io.js";

/*
 * Route paths: a literal ("/v1/schedules") or one with named segments
 * ("/v1/schedules/:name"), where a ":name" segment matches exactly one
 * non-empty path segment. Kept to that: the API has a handful of routes, and
 * a pattern language would be one more thing for a hostile path to probe.
 */

export type RouteParams = Record<string, string>;

/**
 * The named segments of pathname under pattern (still percent-encoded), or
 * null when it does not match. Never throws: the metrics label requests
 * with it before any handler runs.
 */
export function matchPath(pattern: string, pathname: string): RouteParams | null {
  if (!pattern.includes("/:")) return pattern === pathname ? {} : null;
  const want = pattern.split("/");
  const got = pathname.split("/");
  if (want.length !== got.length) return null;
  const params: RouteParams = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(":")) {
      if (g === "") return null;
      params[w.slice(1)] = g;
    } else if (w !== g) {
      return null;
    }
  }
  return params;
}

/** The params percent-decoded; a malformed escape ("%zz") is the client's mistake (400). */
export function decodeParams(params: RouteParams): RouteParams {
  const out: RouteParams = {};
  for (const [k, v] of Object.entries(params)) {
    try {
      out[k] = decodeURIComponent(v);
    } catch {
      throw new HttpError(400, `path segment ${JSON.stringify(v.slice(0, 100))} is not valid percent-encoding (the ${k} in the path)`);
    }
  }
  return out;
}
