import { type RouteParams, matchPath } from "../route_match.js";

/*
 * The live streams' paths, known to the control API without loading the
 * streams themselves (routes.ts is imported by the first stream request).
 */

export const STREAM_PATHS = ["/v1/streams/members", "/v1/streams/stats", "/v1/streams/batches", "/v1/streams/batches/:id", "/v1/streams/checks"] as const;

export function matchStreamPath(pathname: string): { path: (typeof STREAM_PATHS)[number]; params: RouteParams } | null {
  if (!pathname.startsWith("/v1/streams/")) return null;
  for (const path of STREAM_PATHS) {
    const params = matchPath(path, pathname);
    if (params) return { path, params };
  }
  return null;
}
