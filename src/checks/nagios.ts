import { runAction } from "./action.js";
import type { CheckRunContext, CheckTypeDef } from "./check_type.js";
import { quote, type Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";
import type { PerfDatum } from "./types.js";

/*
 * `nagios`: runs a Nagios / Icinga / monitoring-plugins plugin (`command`,
 * with its arguments, through /bin/sh like `command`) and maps its exit
 * status as the plugin API defines it: 0 OK = pass, 1 WARNING = warn,
 * 2 CRITICAL = fail, 3 UNKNOWN and anything else = error. The message is the
 * plugin's first line up to "|"; the performance data after "|" (on the
 * first line, and on the lines of the long output after a "|") is parsed
 * into the result (label, value, unit, warn, crit, min, max).
 *
 * Like `command`, it runs code of the check file: a report-only node
 * (-no-actions) does not run it.
 */
export const nagiosCheck: CheckTypeDef = {
  type: "nagios",
  subject: "command",
  runsCode: true,
  fields: {
    command: { type: { kind: "string" }, required: true, doc: "the plugin and its arguments, e.g. /usr/lib/nagios/plugins/check_disk -w 20% -c 10% -p /" },
  },
  evaluate: evaluateNagios,
};

/** Most performance data items kept per result. */
const MAX_PERFDATA = 64;

async function evaluateNagios(p: Params, ctx: CheckRunContext): Promise<Evaluation> {
  const command = p.command as string;
  if (!ctx.allowCommands) return { status: "error", message: `plugin ${quote(command)} not run: this node is report-only (-no-actions), and a nagios check runs code` };
  const run = await runAction({ command, check: ctx.check, batchId: ctx.batchId, node: ctx.node, timeoutMs: ctx.timeoutMs, stderrApart: true });
  if (run.skipped !== undefined) return { status: "error", message: `plugin ${quote(command)}: ${run.skipped}` };
  if (run.timedOut) return { status: "error", message: `plugin ${quote(command)} timed out after ${Math.round(run.durationMs)} ms (killed): UNKNOWN` };
  const { text, perfdata } = parsePluginOutput(run.output);
  const said = text || firstLine(run.stderr ?? "") || "(no output)";
  const withData = perfdata.length > 0 ? { perfdata } : {};
  switch (run.exitCode) {
    case 0:
      return { status: "pass", message: said, ...withData };
    case 1:
      return { status: "warn", message: said, ...withData };
    case 2:
      return { status: "fail", message: said, ...withData };
    default: {
      const how = run.exitCode === null ? `ended by ${run.signal}` : run.exitCode === 3 ? "UNKNOWN (exit status 3)" : `exit status ${run.exitCode}, not a plugin status`;
      return { status: "error", message: `${said} (${how})`, ...withData };
    }
  }
}

/** The first line's text (before "|") and every performance datum of the output. */
export function parsePluginOutput(output: string): { text: string; perfdata: PerfDatum[] } {
  const lines = output.split("\n");
  const [first = "", ...rest] = lines;
  const bar = first.indexOf("|");
  const text = (bar < 0 ? first : first.slice(0, bar)).trim();
  const perfText: string[] = bar < 0 ? [] : [first.slice(bar + 1)];
  // Long output: performance data may continue after a "|" on a later line, to the end.
  const longBar = rest.findIndex((l) => l.includes("|"));
  if (longBar >= 0) perfText.push(rest[longBar]!.slice(rest[longBar]!.indexOf("|") + 1), ...rest.slice(longBar + 1));
  const perfdata: PerfDatum[] = [];
  for (const chunk of perfText) {
    for (const m of chunk.matchAll(/('(?:[^']|'')+'|[^\s=']+)=(\S+)/g)) {
      if (perfdata.length >= MAX_PERFDATA) break;
      const d = perfDatum(m[1]!, m[2]!);
      if (d) perfdata.push(d);
    }
  }
  return { text, perfdata };
}

/** label=value[UOM];[warn];[crit];[min];[max], or undefined when value is not a number. */
function perfDatum(rawLabel: string, spec: string): PerfDatum | undefined {
  const label = rawLabel.startsWith("'") ? rawLabel.slice(1, -1).replace(/''/g, "'") : rawLabel;
  const [valueUnit = "", warn = "", crit = "", min = "", max = ""] = spec.split(";");
  const m = /^(-?[\d.]+(?:[eE][-+]?\d+)?)([a-zA-Z%]*)$/.exec(valueUnit);
  if (!m) return undefined;
  const value = Number(m[1]);
  if (!Number.isFinite(value)) return undefined;
  const d: PerfDatum = { label, value, unit: m[2]! };
  if (warn) d.warn = warn;
  if (crit) d.crit = crit;
  const n = (s: string) => (s !== "" && Number.isFinite(Number(s)) ? Number(s) : undefined);
  if (n(min) !== undefined) d.min = n(min)!;
  if (n(max) !== undefined) d.max = n(max)!;
  return d;
}

function firstLine(text: string): string {
  const t = text.trimStart();
  const nl = t.indexOf("\n");
  return (nl < 0 ? t : t.slice(0, nl)).trimEnd();
}
