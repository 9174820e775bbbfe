import { runAction } from "./action.js";
import { quote, type Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";
import type { CheckRunContext, CheckTypeDef } from "./check_type.js";

/*
 * `command`: runs `command` with /bin/sh under the check's timeout, the way
 * an action runs (own process group and cgroup, leftovers killed, output
 * bounded, GOSSIPCHECK_* in the environment). It passes when the exit status
 * equals `exit_status` (default 0) and every `stdout_contains` and
 * `stderr_contains` string is found and `stdout_matches` matches.
 *
 * It runs code from the check file, like an action: a report-only node
 * (-no-actions) does not run it and reports an error saying so. A dry run
 * does run it (it is the check, not a remediation), and with -trusted-keys
 * only a signed batch reaches it at all.
 */
export const commandCheck: CheckTypeDef = {
  type: "command",
  subject: "command",
  runsCode: true,
  fields: {
    command: { type: { kind: "string" }, required: true, doc: "the shell command to run (/bin/sh -c)" },
    exit_status: { type: { kind: "integer", min: 0, max: 255 }, doc: "the exit status that passes (default 0)" },
    stdout_contains: { type: { kind: "strings" }, doc: "text (or a list of texts) the standard output must contain" },
    stderr_contains: { type: { kind: "strings" }, doc: "text (or a list of texts) the standard error must contain" },
    stdout_matches: { type: { kind: "regex" }, doc: "a regular expression the standard output must match" },
  },
  evaluate: evaluateCommand,
};

async function evaluateCommand(p: Params, ctx: CheckRunContext): Promise<Evaluation> {
  const command = p.command as string;
  if (!ctx.allowCommands) return { status: "error", message: `command ${quote(command)} not run: this node is report-only (-no-actions), and a command check runs code` };
  const run = await runAction({ command, check: ctx.check, batchId: ctx.batchId, node: ctx.node, timeoutMs: ctx.timeoutMs, stderrApart: true });
  if (run.skipped !== undefined) return { status: "error", message: `command ${quote(command)}: ${run.skipped}` };
  if (run.timedOut) return { status: "fail", message: `command ${quote(command)} timed out after ${Math.round(run.durationMs)} ms (killed)` };
  const stdout = run.output;
  const stderr = run.stderr ?? "";
  const problems: string[] = [];
  const wanted = (p.exit_status as number | undefined) ?? 0;
  if (run.exitCode !== wanted) problems.push(run.exitCode === null ? `ended by ${run.signal}, expected exit status ${wanted}` : `exit status ${run.exitCode}, expected ${wanted}`);
  for (const t of (p.stdout_contains as string[] | undefined) ?? []) if (!stdout.includes(t)) problems.push(`stdout lacks ${quote(t)}`);
  for (const t of (p.stderr_contains as string[] | undefined) ?? []) if (!stderr.includes(t)) problems.push(`stderr lacks ${quote(t)}`);
  const re = p.stdout_matches as string | undefined;
  if (re !== undefined && !new RegExp(re, "m").test(stdout)) problems.push(`stdout does not match /${re}/`);
  const truncated = run.outputTruncated || run.stderrTruncated ? " (output cut at the capture limit)" : "";
  const first = firstLine(stdout) || firstLine(stderr);
  const shown = first ? `: ${quote(first)}` : "";
  if (problems.length === 0) return { status: "pass", message: `command ${quote(command)} exited ${run.exitCode}${shown}${truncated}` };
  return { status: "fail", message: `command ${quote(command)}: ${problems.join("; ")}${shown}${truncated}` };
}

function firstLine(text: string): string {
  const t = text.trimStart();
  const nl = t.indexOf("\n");
  return (nl < 0 ? t : t.slice(0, nl)).trimEnd();
}
