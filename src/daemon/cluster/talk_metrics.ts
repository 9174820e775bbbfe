import type { Families } from "../api/lazy_metrics.js";
import { f, families, type Family } from "./metrics.js";
import type { TalkCounters } from "./user_events.js";

/*
 * The metrics of user events and queries (issue 17), a family per quantity
 * as metrics.ts: what this node published, received (targeted at it) and
 * how many handler runs those started. The runs themselves are also counted
 * with every trigger's (gossipcheck_trigger_*).
 */

const RECEIVED = "User events and queries this node received and was targeted by, by kind.";
const HANDLERS = "Handler runs started for user events and queries on this node, by kind.";
const PUBLISHED = "User events and queries published from this node (gcheck event, gcheck query), by kind.";

/** Every TalkCounters field. */
const TALK: Record<keyof TalkCounters, Family> = {
  eventsReceived: f("gossipcheck_talk_received_total", RECEIVED, ["kind", "event"]),
  queriesReceived: f("gossipcheck_talk_received_total", RECEIVED, ["kind", "query"]),
  eventHandlersRun: f("gossipcheck_talk_handler_runs_total", HANDLERS, ["kind", "event"]),
  queryHandlersRun: f("gossipcheck_talk_handler_runs_total", HANDLERS, ["kind", "query"]),
  eventsPublished: f("gossipcheck_talk_published_total", PUBLISHED, ["kind", "event"]),
  queriesPublished: f("gossipcheck_talk_published_total", PUBLISHED, ["kind", "query"]),
};

export function registerTalkMetrics(fam: Families, counters: () => TalkCounters): void {
  families(fam, TALK, () => ({ ...counters() }));
}
