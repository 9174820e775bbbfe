import { readFile } from "node:fs/promises";
import type { EventRequestBody, EventStreamEvent, QueryRequestBody, QueryStreamEvent } from "../../control/talk_types.js";
import { EVENT_PAYLOAD_MAX_BYTES, eventNameProblem } from "../../control/talk_rules.js";
import { parseTags } from "../../cmdline/tags.js";
import { type CliContext, connect, durationFlag, requireOutput } from "../context.js";
import { CliError } from "../errors.js";
import { followReport } from "../follow.js";
import { eventTable, queryTable, talkJson, talkNdjsonSummary, talkSummary } from "../output/talk.js";
import { submitter } from "../submitter.js";
import { TalkReport } from "../talk_report.js";

/*
 * `gcheck event NAME [PAYLOAD | -payload-file F] [-node N] [-tag k=v]
 * [-wait-handlers] [-timeout 30s]` and `gcheck query NAME [PAYLOAD |
 * -payload-file F] [-node N] [-tag k=v] [-timeout 10s]` (issue 17): the
 * daemon publishes a USER_EVENT or QUERY envelope and streams each node's
 * answer. event returns once every targeted node has it (with
 * -wait-handlers, once their handlers ended); query once every targeted
 * node answered. Exit codes: talk_report.ts.
 */

export interface TalkFlags {
  payloadFile?: string;
  node?: string[];
  tag?: string[];
  timeout: string;
  waitHandlers?: boolean;
  /** Positional arguments: NAME, then PAYLOAD. */
  args: string[];
}

export function event(ctx: CliContext, flags: TalkFlags): Promise<number> {
  return talk(ctx, flags, "event");
}

export function query(ctx: CliContext, flags: TalkFlags): Promise<number> {
  return talk(ctx, flags, "query");
}

async function talk(ctx: CliContext, flags: TalkFlags, kind: "event" | "query"): Promise<number> {
  requireOutput(ctx, kind, ["table", "json", "ndjson"]);
  const [name, text, ...extra] = flags.args;
  const usage = `use gcheck ${kind} NAME [PAYLOAD | -payload-file FILE]`;
  if (name === undefined) throw new CliError(`no ${kind} name: ${usage}`);
  const bad = eventNameProblem(name, `${kind} name`);
  if (bad) throw new CliError(bad);
  if (extra.length) throw new CliError(`unexpected argument "${extra[0]}": ${usage} (quote a payload with spaces)`);
  if (text !== undefined && flags.payloadFile !== undefined) throw new CliError(`give the payload as an argument or with -payload-file, not both`);
  const tags = parseTags(flags.tag ?? []);
  if (!tags.ok) throw new CliError(tags.error);
  const timeoutMs = durationFlag("timeout", flags.timeout);
  const payload = await readPayload(ctx, text, flags.payloadFile);

  const common = { name, payload: payload.toString("base64"), nodes: flags.node ?? [], tags: tags.value, timeoutMs, submitter: submitter() };
  const body: EventRequestBody | QueryRequestBody = kind === "event" ? { ...common, waitHandlers: flags.waitHandlers === true } : common;
  const client = await connect(ctx);
  const report = new TalkReport(kind, kind === "event" && flags.waitHandlers === true);
  let written = 0;
  const passOn = () => {
    // -output ndjson: the daemon's lines as they come.
    if (ctx.output !== "ndjson") return;
    for (; written < report.events.length; written++) ctx.stdout.write(JSON.stringify(report.events[written]) + "\n");
  };
  const path = kind === "event" ? "/v1/events" : "/v1/queries";
  const elapsedMs = await followReport<EventStreamEvent | QueryStreamEvent>(ctx, client, path, body, timeoutMs, report, `the ${kind}`, passOn);
  if (report.expected.length === 0) ctx.stderr.write("gcheck: no node matched the targeting (-node / -tag)\n");
  if (ctx.output === "ndjson") ctx.stdout.write(talkNdjsonSummary(report, elapsedMs));
  else if (ctx.output === "json") ctx.stdout.write(talkJson(report, elapsedMs));
  else ctx.stdout.write((kind === "event" ? eventTable(report) : queryTable(report)) + talkSummary(report, elapsedMs));
  return report.exitCode();
}

/** The payload: the argument as UTF-8, the file's bytes (- reads standard input), or nothing. */
async function readPayload(ctx: CliContext, text: string | undefined, file: string | undefined): Promise<Buffer> {
  let bytes: Buffer;
  if (file === undefined) bytes = Buffer.from(text ?? "", "utf8");
  else if (file === "-") {
    const chunks: Buffer[] = [];
    for await (const c of ctx.stdin) chunks.push(Buffer.from(c as Buffer));
    bytes = Buffer.concat(chunks);
  } else {
    try {
      bytes = await readFile(file);
    } catch (e) {
      throw new CliError(`-payload-file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  if (bytes.length > EVENT_PAYLOAD_MAX_BYTES) throw new CliError(`the payload of ${bytes.length} bytes is larger than the limit of ${EVENT_PAYLOAD_MAX_BYTES} bytes: send a path or a URL instead`);
  return bytes;
}
