import type { TriggerEvent } from "./events.js";

/*
 * What a trigger script is told: GOSSIPCHECK_* environment variables (added
 * to the daemon's own environment) and the event as one JSON line on its
 * standard input (a user event's or query's payload instead, as raw
 * bytes). The variables suit a one-line script; the JSON carries the same
 * and more, unshortened.
 */

/** This node, as scripts see it. */
export interface TriggerNode {
  name: string;
  address: string;
}

/**
 * An environment value is cut to this many characters (a check message can be
 * long; Linux refuses one argument or variable over 128 KiB). The JSON on
 * standard input has the whole text.
 */
export const ENV_VALUE_MAX_CHARS = 4096;

/** The GOSSIPCHECK_* variables of one event, by name. */
export function triggerEnv(e: TriggerEvent, node: TriggerNode): Record<string, string> {
  const env: Record<string, string> = {
    GOSSIPCHECK_EVENT: e.event,
    GOSSIPCHECK_EVENT_AT_MS: String(e.atMs),
    GOSSIPCHECK_NODE: node.name,
    GOSSIPCHECK_NODE_ADDRESS: node.address,
  };
  if (e.member) {
    const m = e.member;
    Object.assign(env, { GOSSIPCHECK_MEMBER_NAME: m.name, GOSSIPCHECK_MEMBER_ADDRESS: m.address, GOSSIPCHECK_MEMBER_STATUS: m.status });
    const keys = Object.keys(m.tags).sort();
    env.GOSSIPCHECK_MEMBER_TAGS = keys.map((k) => `${k}=${m.tags[k]}`).join(",");
    // Two keys that differ only in case or punctuation ("a-b", "a_b") share a
    // variable: the first in sort order keeps it; GOSSIPCHECK_MEMBER_TAGS and the JSON keep both.
    for (const k of keys) {
      const name = `GOSSIPCHECK_MEMBER_TAG_${tagVarName(k)}`;
      env[name] ??= m.tags[k]!;
    }
  }
  if (e.check) {
    const c = e.check;
    Object.assign(env, {
      GOSSIPCHECK_CHECK_NAME: c.name,
      GOSSIPCHECK_CHECK_SCHEDULE: c.schedule,
      GOSSIPCHECK_CHECK_STATUS: c.status,
      GOSSIPCHECK_CHECK_PREVIOUS: c.previous,
      GOSSIPCHECK_CHECK_MESSAGE: c.message,
    });
  }
  if (e.batch) {
    const b = e.batch;
    Object.assign(env, { GOSSIPCHECK_BATCH_ID: b.id, GOSSIPCHECK_BATCH_ORIGIN: b.origin, GOSSIPCHECK_BATCH_CHECKS: String(b.checks), GOSSIPCHECK_BATCH_FAILED: String(b.failed) });
  }
  if (e.quorum) {
    const q = e.quorum;
    Object.assign(env, {
      GOSSIPCHECK_QUORUM_SCHEDULE: q.schedule,
      GOSSIPCHECK_QUORUM_CHECK: q.check,
      GOSSIPCHECK_QUORUM_FAILING: String(q.failing),
      GOSSIPCHECK_QUORUM_NEEDED: String(q.needed),
      GOSSIPCHECK_QUORUM_VOTERS: String(q.voters),
      GOSSIPCHECK_QUORUM_NODES: q.nodes.join(","),
    });
  }
  if (e.coordinator) {
    const c = e.coordinator;
    Object.assign(env, { GOSSIPCHECK_COORDINATORS: c.coordinators.join(","), GOSSIPCHECK_COORDINATORS_PREVIOUS: c.previous.join(",") });
    if (c.withheld) env.GOSSIPCHECK_COORDINATOR_WITHHELD = c.withheld;
  }
  if (e.talk) {
    const t = e.talk;
    Object.assign(env, { GOSSIPCHECK_EVENT_NAME: t.name, GOSSIPCHECK_EVENT_ORIGIN: t.origin, GOSSIPCHECK_EVENT_ID: t.id, GOSSIPCHECK_EVENT_BYTES: String(t.payload.length) });
  }
  for (const k of Object.keys(env)) env[k] = envValue(env[k]!);
  return env;
}

/**
 * What a script reads on standard input: the event as one JSON line, with
 * this node; for a user event or query (user:NAME, query:NAME) its payload,
 * raw bytes as sent (Serf's handlers read theirs the same way).
 */
export function triggerStdin(e: TriggerEvent, node: TriggerNode): string | Uint8Array {
  return e.talk ? e.talk.payload : triggerJson(e, node);
}

/** The event as scripts read it on standard input: one JSON line, with this node. */
export function triggerJson(e: TriggerEvent, node: TriggerNode): string {
  return JSON.stringify({ ...e, node }) + "\n";
}

/** A tag key as part of a variable name: upper case, every character but A-Z, 0-9 and _ turned into _. */
export function tagVarName(key: string): string {
  return key.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
}

/** No NUL (the OS cannot pass one), at most ENV_VALUE_MAX_CHARS. */
function envValue(v: string): string {
  const clean = v.includes("\0") ? v.replaceAll("\0", "") : v;
  return clean.length > ENV_VALUE_MAX_CHARS ? clean.slice(0, ENV_VALUE_MAX_CHARS) : clean;
}
