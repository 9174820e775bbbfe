import type { BatchEvent } from "../control/api_types.js";
import type { ControlClient } from "./client.js";
import type { CliContext } from "./context.js";
import { CliError } from "./errors.js";
import { followReport, type FollowedReport } from "./follow.js";
import { batchByCheck, TABLE_ROW_LIMIT } from "./output/by_check.js";
import { batchJson, errorJson } from "./output/json.js";
import { batchJunit } from "./output/junit.js";
import { batchNagios, nagiosError } from "./output/nagios.js";
import { NdjsonWriter } from "./output/ndjson.js";
import { batchTap } from "./output/tap.js";
import { batchRowCount, batchSummaryLine, batchTable } from "./output/table.js";
import { ProgressLine } from "./progress.js";
import type { BatchReport } from "./report.js";

/*
 * How gcheck check and gcheck results follow a batch's stream and print its
 * report: the live progress line (terminal only), -output ndjson's lines as
 * they arrive, SIGINT (stop following, print what arrived), and the final
 * document in -output's format. Also what each output makes of an error
 * that stops gcheck, so a consumer that reads stdout still gets its format.
 */

/** The table's shape: -group-by, -failures-only (table output only). */
export interface TableView {
  groupBy?: "node" | "check";
  failuresOnly?: boolean;
}

/**
 * Follows path's stream into report, as followReport, with the progress line
 * and ndjson's streaming lines; SIGINT ends the wait (report.interrupted).
 * Resolves with the elapsed ms and, for ndjson, the writer to finish with.
 */
export async function followBatch(
  ctx: CliContext,
  client: ControlClient,
  path: string,
  body: unknown,
  timeoutMs: number,
  report: BatchReport,
  what: string,
  // A rollout follows its own wrapper of the report, until the origin's done (check.ts).
  follow: { target?: FollowedReport<BatchEvent>; followMs?: number } = {},
): Promise<{ elapsedMs: number; ndjson?: NdjsonWriter }> {
  const progress = new ProgressLine(ctx.stderr, timeoutMs);
  const ndjson = ctx.output === "ndjson" ? new NdjsonWriter(ctx.stdout) : undefined;
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  // While following, SIGINT is ours: what arrived is still printed (a second one finds no listener and kills gcheck).
  process.once("SIGINT", onSigint);
  let elapsedMs: number;
  try {
    elapsedMs = await followReport<BatchEvent>(
      ctx,
      client,
      path,
      body,
      follow.followMs ?? timeoutMs,
      follow.target ?? report,
      what,
      () => {
        progress.update(report);
        ndjson?.update(report);
      },
      interrupt.signal,
    );
  } finally {
    progress.clear();
    process.removeListener("SIGINT", onSigint);
  }
  if (interrupt.signal.aborted) {
    report.interrupted = true;
    const pending = report.accepted ? report.pending() : [];
    ctx.stderr.write(`gcheck: interrupted${report.accepted ? `; no answer yet from ${pending.length} node${pending.length === 1 ? "" : "s"}` : " before the daemon accepted the batch"}\n`);
  }
  return { elapsedMs, ...(ndjson && { ndjson }) };
}

/** A batch's report in -output's format, as check and results print it; resolves with the exit code. */
export function writeBatchReport(ctx: CliContext, report: BatchReport, elapsedMs: number, view: TableView = {}, ndjson?: NdjsonWriter): number {
  switch (ctx.output) {
    case "json":
      ctx.stdout.write(batchJson(report, elapsedMs));
      break;
    case "junit":
      ctx.stdout.write(batchJunit(report, elapsedMs));
      break;
    case "ndjson":
      (ndjson ?? new NdjsonWriter(ctx.stdout)).finish(report, elapsedMs);
      break;
    case "tap":
      ctx.stdout.write(batchTap(report));
      break;
    case "nagios": {
      const n = batchNagios(report);
      ctx.stdout.write(n.text);
      return n.exitCode;
    }
    default:
      ctx.stdout.write(tableText(ctx, report, view) + batchSummaryLine(report, elapsedMs));
  }
  return report.exitCode();
}

/** The per-node table, or the by-check lines (-group-by check, or by default past TABLE_ROW_LIMIT rows). */
function tableText(ctx: CliContext, report: BatchReport, view: TableView): string {
  const failuresOnly = view.failuresOnly === true;
  let groupBy = view.groupBy;
  if (groupBy === undefined) {
    const rows = batchRowCount(report, failuresOnly);
    groupBy = rows > TABLE_ROW_LIMIT ? "check" : "node";
    if (groupBy === "check") ctx.stderr.write(`gcheck: ${rows} rows: showing one line per check (-group-by node for every row)\n`);
  }
  return groupBy === "check" ? batchByCheck(report, failuresOnly) : batchTable(report, failuresOnly);
}

/**
 * Runs a batch command; an error that stops it (usage, file, connection:
 * exit 2) still gives -output's format on stdout: a JSON document
 * {error, exitCode}, an ndjson {event: "error"} line, a TAP "Bail out!", or
 * Nagios UNKNOWN (exit 3, the plugin guidelines' code for it). The message
 * also goes to stderr, as for every gcheck error.
 */
export async function withErrorDocument(ctx: CliContext, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    switch (ctx.output) {
      case "json":
        ctx.stdout.write(errorJson(e.message, e.exitCode));
        break;
      case "ndjson":
        ctx.stdout.write(JSON.stringify({ event: "error", error: e.message, exitCode: e.exitCode }) + "\n");
        break;
      case "tap":
        ctx.stdout.write(`TAP version 14\nBail out! ${e.message.replace(/\s*\n\s*/g, " ")}\n`);
        break;
      case "nagios": {
        const n = nagiosError(e.message);
        ctx.stdout.write(n.text);
        ctx.stderr.write(`gcheck: ${e.message}\n`);
        return n.exitCode;
      }
    }
    throw e;
  }
}
