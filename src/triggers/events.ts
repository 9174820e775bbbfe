import { fail, ok, type Result } from "../base/result.js";
import { closest } from "../base/suggest.js";
import { eventNameProblem } from "../control/talk_rules.js";

/*
 * The events a trigger can name (-on EVENT=SCRIPT), what each carries, and
 * the parser of one -on value. Membership events come from SWIM, check
 * events from the scheduler's transitions, batch-run from each batch this
 * node ran, quorum events from the one node that fires them for the cluster
 * (src/quorum), coordinator events from the member list (src/swim/coordinator.ts).
 */

/** The coordinator's events (src/swim/coordinator.ts): promote and demote on the node concerned, change on every node. */
export const COORDINATOR_EVENTS = ["coordinator-promote", "coordinator-demote", "coordinator-change"] as const;

export const TRIGGER_EVENTS = [
  "member-join",
  "member-leave",
  "member-failed",
  "member-update",
  "check-fail",
  "check-warn",
  "check-recover",
  "batch-run",
  "quorum-fail",
  "quorum-recover",
  ...COORDINATOR_EVENTS,
] as const;
export type TriggerEventName = (typeof TRIGGER_EVENTS)[number];

/** A user event's or a query's handler (issue 17): "user:deploy", "query:load". */
export type TalkTriggerName = `user:${string}` | `query:${string}`;
/** The prefixes of TalkTriggerName. */
export const TALK_PREFIXES = ["user:", "query:"] as const;

/** One -on value: run `script` (a /bin/sh command line) on every `event`. */
export interface TriggerSpec {
  event: TriggerEventName | TalkTriggerName;
  script: string;
}

/** What happened, as a script gets it: in GOSSIPCHECK_* variables and as one JSON line on standard input. */
export interface TriggerEvent {
  event: TriggerEventName | TalkTriggerName;
  /** ms since the epoch. */
  atMs: number;
  /** member-*: the member concerned (status: alive, suspect, dead, left). */
  member?: { name: string; address: string; tags: Record<string, string>; status: string };
  /** check-*: a scheduled check's transition (status and previous are check statuses, previous "none" on the first run). */
  check?: { name: string; schedule: string; status: string; previous: string; message: string };
  /** batch-run: a batch this node ran (`failed`: results not pass or fixed). */
  batch?: { id: string; origin: string; checks: number; failed: number };
  /** quorum-*: a quorum check's cluster-wide verdict changed (failing: failing votes; nodes: the voters failing). */
  quorum?: { schedule: string; check: string; failing: number; needed: number; voters: number; nodes: string[] };
  /** coordinator-*: the coordinators now and before (heaviest first); withheld: why there is none (-coordinator-quorum). */
  coordinator?: { coordinators: string[]; previous: string[]; withheld?: string };
  /**
   * user:NAME and query:NAME: the event or query (id: its envelope ID, hex;
   * origin: the node it was sent from). Its handlers read `payload` as raw
   * bytes on standard input, not the JSON line other events write there.
   */
  talk?: { name: string; id: string; origin: string; payload: Uint8Array };
}

/**
 * Parses "member-failed=/usr/local/bin/page-me" or "user:deploy=SCRIPT",
 * the value of -on (or of the config key `on`: `source` names where it came
 * from in the errors; NAME of user:NAME follows the event name rule). The
 * script is everything after the first "=", so it may hold "=" itself.
 */
export function parseTriggerSpec(text: string, source = "-on"): Result<TriggerSpec> {
  const where = `${source} ${JSON.stringify(text)}`;
  const events = `events: ${TRIGGER_EVENTS.join(", ")}, user:NAME, query:NAME`;
  const eq = text.indexOf("=");
  if (eq < 0) {
    const name = text.trim();
    if (isEvent(name)) return fail(`${where}: no script; want ${name}=SCRIPT (a /bin/sh command line)`);
    return fail(`${where}: want EVENT=SCRIPT${suggestion(name)}; ${events}`);
  }
  const name = text.slice(0, eq).trim();
  const script = text.slice(eq + 1).trim();
  const talk = TALK_PREFIXES.find((p) => name.startsWith(p));
  if (talk) {
    const bad = eventNameProblem(name.slice(talk.length), `${where}: ${talk}NAME`);
    if (bad) return fail(bad);
    if (script === "") return fail(`${where}: the script is empty; want ${name}=SCRIPT (a /bin/sh command line)`);
    return ok({ event: name as TalkTriggerName, script });
  }
  if (!isEvent(name)) return fail(`${where}: unknown event ${JSON.stringify(name)}${suggestion(name)}; ${events}`);
  if (script === "") return fail(`${where}: the script is empty; want ${name}=SCRIPT (a /bin/sh command line)`);
  return ok({ event: name, script });
}

function isEvent(name: string): name is TriggerEventName {
  return (TRIGGER_EVENTS as readonly string[]).includes(name);
}

function suggestion(name: string): string {
  const guess = name === "" ? undefined : closest(name, TRIGGER_EVENTS);
  return guess ? ` (did you mean ${guess}?)` : "";
}
