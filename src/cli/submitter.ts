import { hostname, userInfo } from "node:os";

/*
 * Who runs gcheck, as user@host: sent with a batch or a schedule, so each
 * node's history (and its audit log) says who asked.
 */

/** user@host; a host without a user database (a container) still gets its name. */
export function submitter(): string {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry for this uid: keep "unknown"
  }
  return `${user}@${hostname()}`;
}
