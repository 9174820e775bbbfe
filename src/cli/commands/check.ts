import type { BatchEvent, BatchRequestBody, RolloutRequestBody } from "../../control/api_types.js";
import { parseDuration } from "../../checks/duration.js";
import { base64KeyFingerprint } from "../../control/fingerprint.js";
import { parseRolloutOrder, parseRolloutSize } from "../../control/rollout_rules.js";
import { followBatch, type TableView, withErrorDocument, writeBatchReport } from "../batch_output.js";
import { loadChecks, toCheckFileObject } from "../check_file.js";
import { submitter } from "../submitter.js";
import { type CliContext, connect, durationFlag } from "../context.js";
import { CliError, Exit, type FailOn } from "../errors.js";
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
  // Rollouts (README: Rollouts).
  canary?: string;
  batchSize?: string;
  batchWait?: string;
  maxFailures?: string;
  order?: string;
  count?: string;
  detach?: boolean;
  /** "coordinator": the origin daemon targets the coordinators (README: Coordinator). */
  on?: string;
}

/** A rollout's wait has no single bound (waves x (-timeout + -batch-wait)): gcheck follows until the origin's done. */
const ROLLOUT_FOLLOW_MS = 24 * 3_600_000;

/** The rollout part of the request from the flags; undefined when none was given. Bad values are CliErrors naming the flag. */
export function rolloutBody(flags: CheckFlags): RolloutRequestBody | undefined {
  const whole = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d{1,7}$/.test(v) || Number(v) < 1) throw new CliError(`-${flag} "${v}": expected a whole number of nodes, at least 1`);
    return Number(v);
  };
  const size = (flag: string, v: string | undefined, min: number): string | undefined => {
    if (v === undefined) return undefined;
    const parsed = parseRolloutSize(v, `-${flag}`, min);
    if (!parsed.ok) throw new CliError(parsed.error);
    return v.trim();
  };
  const canary = whole("canary", flags.canary);
  const count = whole("count", flags.count);
  const batchSize = size("batch-size", flags.batchSize, 1);
  const maxFailures = size("max-failures", flags.maxFailures, 0);
  if (flags.order !== undefined) {
    const order = parseRolloutOrder(flags.order, "-order");
    if (!order.ok) throw new CliError(order.error);
  }
  let batchWaitMs: number | undefined;
  if (flags.batchWait !== undefined) {
    const ms = parseDuration(flags.batchWait);
    if (ms === null || ms < 0) throw new CliError(`-batch-wait "${flags.batchWait}": expected a duration such as 30s, 2m or 0s`);
    batchWaitMs = ms;
  }
  const waves = canary !== undefined || batchSize !== undefined;
  const knobs = batchWaitMs !== undefined || maxFailures !== undefined || flags.order !== undefined || flags.detach === true;
  if (count !== undefined && waves) throw new CliError("-count runs the batch on exactly that many nodes: it does not combine with -canary or -batch-size");
  if (count === undefined && !waves) {
    if (knobs) throw new CliError("-batch-wait, -max-failures, -order and -detach shape a rollout: give -canary K and/or -batch-size N|N% (or -count K) too");
    return undefined;
  }
  return {
    ...(canary !== undefined && { canary }),
    ...(batchSize !== undefined && { batchSize }),
    ...(batchWaitMs !== undefined && { batchWaitMs }),
    ...(maxFailures !== undefined && { maxFailures }),
    ...(flags.order !== undefined && { order: flags.order }),
    ...(count !== undefined && { count }),
    ...(flags.detach === true && { detach: true }),
  };
}

/** -on coordinator, checked against the flags it cannot combine with (the daemon picks the nodes). */
function onFlag(flags: CheckFlags, rollout: boolean): boolean {
  if (flags.on === undefined) return false;
  if (flags.on !== "coordinator") throw new CliError(`-on "${flags.on}": expected coordinator`);
  const clash = [flags.node?.length && "-node", flags.tag?.length && "-tag", flags.signKey !== undefined && "-sign-key", rollout && "a rollout (-canary, -batch-size, -count)"].filter(Boolean);
  if (clash.length) throw new CliError(`-on coordinator picks the node itself (the coordinator now): it does not combine with ${clash.join(", ")}`);
  return true;
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
  const rollout = rolloutBody(flags);
  const onCoordinator = onFlag(flags, rollout !== undefined);
  let body: BatchRequestBody;
  if (rollout && flags.signKey !== undefined) {
    // A signed payload names its targets: gcheck plans the waves and signs one batch per wave (README: Rollouts).
    const { signedRollout } = await import("../signed_rollout.js");
    body = await signedRollout(client, flags.signKey, rollout, { checks, dryRun, targetNodes: nodes, targetTags: tags.value, submitter: submitter() }, ttlMs, timeoutMs);
    ctx.stderr.write(`gcheck: signed one batch per wave (${body.signedWaves!.length}) for the nodes running now; -ttl ${flags.ttl} must cover the whole rollout\n`);
  } else if (flags.signKey !== undefined) {
    const { signBatch } = await import("../signing.js");
    body = { signed: await signBatch(client, flags.signKey, { checks, dryRun, targetNodes: nodes, targetTags: tags.value, submitter: submitter() }, ttlMs), timeoutMs };
  } else {
    body = {
      checks: await toCheckFileObject(checks),
      dryRun,
      nodes,
      tags: tags.value,
      ttlMs,
      timeoutMs,
      submitter: submitter(),
      ...(rollout && { rollout }),
      ...(onCoordinator && { on: "coordinator" }),
    };
  }

  const report = new BatchReport(flags.failOn);
  if (body.signed) report.signer = base64KeyFingerprint(body.signed.signerKey);
  // How the rollout ended (the done event's), to keep the exit code's contract below.
  let ended: Extract<BatchEvent, { type: "done" }>["rollout"];
  const followed = {
    apply: (e: BatchEvent) => {
      if (e.type === "done") ended = e.rollout;
      if (e.type === "accepted" && onCoordinator) ctx.stderr.write(`gcheck: on the coordinator: ${e.expected.map((n) => n.name).join(", ") || "none"}\n`);
      if (e.type === "accepted" && e.rollout) {
        const r = e.rollout;
        ctx.stderr.write(`gcheck: rollout ${r.id}: ${r.waves.length} waves (${r.waves.map((w) => w.length).join(", ")} nodes); gcheck -server ${ctx.server} rollout status|abort ${r.id}
`);
      }
      report.apply(e);
    },
    get accepted() {
      return report.accepted;
    },
    get done() {
      return report.done;
    },
    // A rollout is followed to the origin's done: it says how the rollout ended (after the skipped nodes, which complete the report).
    get complete() {
      return !rollout && report.complete;
    },
  };
  const { elapsedMs, ndjson } = await followBatch(ctx, client, "/v1/check", body, timeoutMs, report, "the batch", { target: followed, ...(rollout && { followMs: ROLLOUT_FOLLOW_MS }) });

  if (report.accepted && report.expected.length === 0) {
    ctx.stderr.write("gcheck: no node matched the targeting (-node / -tag), so no node ran the batch\n");
  }
  const code = writeBatchReport(ctx, report, elapsedMs, flags, ndjson);
  if (ended?.reason)
    ctx.stderr.write(`gcheck: rollout ${ended.id}: ${ended.reason}
`);
  // Stopped on failures: 1 even when the failures were nodes gone or silent; aborted or cut short: nodes were not reached, 3.
  if (ended?.outcome === "stopped") return Exit.ChecksFailed;
  if ((ended?.outcome === "aborted" || ended?.outcome === "disconnected") && code === Exit.Ok) return Exit.NodesMissing;
  return code;
}
