import type { BatchRequestBody } from "../../control/api_types.js";
import { base64KeyFingerprint } from "../../control/fingerprint.js";
import { followBatch, type TableView, withErrorDocument, writeBatchReport } from "../batch_output.js";
import { loadChecks, toCheckFileObject } from "../check_file.js";
import { type CliContext, connect, durationFlag } from "../context.js";
import { CliError, type FailOn } from "../errors.js";
import { BatchReport } from "../report.js";
import { parseTags } from "../../cmdline/tags.js";

/*
 * `gcheck -file F check`: submit a batch to the daemon, follow its results as
 * they stream in, stop as soon as every expected node has answered (or the
 * origin gave up on it), at --timeout or at SIGINT, then print the report in
 * -output's format (batch_output.ts) and exit 0, 1, 3 (see errors.ts; -fail-on
 * warn makes a warning 1; 130 when interrupted before any answer; -output
 * nagios has the plugin codes).
 */

export interface CheckFlags extends TableView {
  dryRun?: boolean;
  node?: string[];
  tag?: string[];
  timeout: string;
  ttl: string;
  signKey?: string;
  failOn: FailOn;
}

export function check(ctx: CliContext, flags: CheckFlags): Promise<number> {
  return withErrorDocument(ctx, () => runCheck(ctx, flags));
}

async function runCheck(ctx: CliContext, flags: CheckFlags): Promise<number> {
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
  if (body.signed) report.signer = base64KeyFingerprint(body.signed.signerKey);
  const { elapsedMs, ndjson } = await followBatch(ctx, client, "/v1/check", body, timeoutMs, report, "the batch");

  if (report.accepted && report.expected.length === 0) {
    ctx.stderr.write("gcheck: no node matched the targeting (-node / -tag), so no node ran the batch\n");
  }
  return writeBatchReport(ctx, report, elapsedMs, flags, ndjson);
}
