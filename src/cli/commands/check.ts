import type { BatchEvent, BatchRequestBody } from "../../control/api_types.js";
import { loadChecks, toCheckFileObject } from "../check_file.js";
import { type CliContext, connect, durationFlag } from "../context.js";
import { CliError, type FailOn } from "../errors.js";
import { followReport } from "../follow.js";
import { batchJson } from "../output/json.js";
import { batchJunit } from "../output/junit.js";
import { batchSummaryLine, batchTable } from "../output/table.js";
import { ProgressLine } from "../progress.js";
import { BatchReport } from "../report.js";
import { parseTags } from "../../cmdline/tags.js";

/*
 * `gcheck -file F check`: submit a batch to the daemon, follow its results as
 * they stream in, stop as soon as every expected node has answered (or the
 * origin gave up on it) or at --timeout, then print one table / JSON / JUnit
 * document and exit 0, 1, 3 (see errors.ts; -fail-on warn makes a warning 1).
 */

export interface CheckFlags {
  dryRun?: boolean;
  node?: string[];
  tag?: string[];
  timeout: string;
  ttl: string;
  signKey?: string;
  failOn: FailOn;
}

export async function check(ctx: CliContext, flags: CheckFlags): Promise<number> {
  const timeoutMs = durationFlag("timeout", flags.timeout);
  const ttlMs = durationFlag("ttl", flags.ttl);
  const tags = parseTags(flags.tag ?? []);
  if (!tags.ok) throw new CliError(tags.error);
  const checks = await loadChecks(ctx);
  const client = await connect(ctx);
  const dryRun = flags.dryRun === true;
  const nodes = flags.node ?? [];
  let body: BatchRequestBody;
  if (flags.signKey !== undefined) {
    const { signBatch } = await import("../signing.js");
    body = { signed: await signBatch(client, flags.signKey, { checks, dryRun, targetNodes: nodes, targetTags: tags.value }, ttlMs), timeoutMs };
  } else {
    body = { checks: await toCheckFileObject(checks), dryRun, nodes, tags: tags.value, ttlMs, timeoutMs };
  }

  const report = new BatchReport(flags.failOn);
  const progress = new ProgressLine(ctx.stderr);
  let elapsedMs: number;
  try {
    elapsedMs = await followReport<BatchEvent>(ctx, client, "/v1/check", body, timeoutMs, report, "the batch", () => progress.update(report));
  } finally {
    progress.clear();
  }

  if (report.expected.length === 0) {
    ctx.stderr.write("gcheck: no node matched the targeting (-node / -tag), so no node ran the batch\n");
  }
  return writeBatchReport(ctx, report, elapsedMs);
}

/** A batch's report in -output's format, as check and results print it; resolves with the exit code. */
export function writeBatchReport(ctx: CliContext, report: BatchReport, elapsedMs: number): number {
  if (ctx.output === "json") ctx.stdout.write(batchJson(report, elapsedMs));
  else if (ctx.output === "junit") ctx.stdout.write(batchJunit(report, elapsedMs));
  else ctx.stdout.write(batchTable(report) + batchSummaryLine(report, elapsedMs));
  return report.exitCode();
}
