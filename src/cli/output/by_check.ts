import type { BatchReport } from "../report.js";
import { aggregateChecks, type CheckAggregate, statusLine } from "./status.js";

/*
 * `gcheck check -group-by check`: one line per check across the nodes
 * ("nginx_running: 498 pass, 2 fail: web-07, web-12"), with gcheck
 * status's aggregation and line (status.ts), then who did not answer. The
 * view for large clusters: gcheck switches to it by itself when the
 * per-node table would have more than TABLE_ROW_LIMIT rows.
 */

/** Rows of the per-node table beyond which gcheck check shows the by-check view unless -group-by node. */
export const TABLE_ROW_LIMIT = 300;

/** The batch's results folded by check (a batch has no schedule: the label is the check's name). */
export function batchAggregate(report: BatchReport): CheckAggregate[] {
  return aggregateChecks(
    report
      .outcomes()
      .filter((n) => n.state === "answered")
      .flatMap((n) => n.results.map((r) => ({ node: n.node, schedule: "", check: r.name, status: r.status, message: r.message }))),
  );
}

/** The by-check lines; failuresOnly keeps the checks that do not pass on every node that answered. */
export function batchByCheck(report: BatchReport, failuresOnly = false): string {
  const checks = batchAggregate(report).filter((a) => !failuresOnly || a.notPassing.length > 0);
  if (checks.length === 0) return failuresOnly ? "every check passed on every node that answered\n" : "";
  return checks.map(statusLine).join("\n") + "\n";
}
