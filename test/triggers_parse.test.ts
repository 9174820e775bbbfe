import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTriggerSpec, tagVarName, triggerEnv, triggerJson, TRIGGER_EVENTS } from "../src/triggers/index.js";

/*
 * The -on value and what a script is told (the variables and the JSON line),
 * without running anything.
 */

describe("parseTriggerSpec", () => {
  it("takes EVENT=SCRIPT, the script being everything after the first =", () => {
    assert.deepEqual(parseTriggerSpec("member-failed=/usr/local/bin/page-me"), { ok: true, value: { event: "member-failed", script: "/usr/local/bin/page-me" } });
    assert.deepEqual(parseTriggerSpec("check-fail=FOO=1 logger -t gc x=y"), { ok: true, value: { event: "check-fail", script: "FOO=1 logger -t gc x=y" } });
    for (const e of TRIGGER_EVENTS) assert.ok(parseTriggerSpec(`${e}=true`).ok, e);
  });

  it("names the flag value, suggests a near miss and lists the events", () => {
    const r = parseTriggerSpec("member-faild=/bin/true");
    assert.equal(r.ok, false);
    const error = (r as { error: string }).error;
    assert.match(error, /^-on "member-faild=\/bin\/true": unknown event "member-faild" \(did you mean member-failed\?\); events: member-join, /);
    assert.match(error, /quorum-recover\b/);
    assert.match(error, /user:NAME, query:NAME$/);
  });

  it("says what is missing: the =, the script", () => {
    assert.deepEqual(parseTriggerSpec("member-join"), { ok: false, error: '-on "member-join": no script; want member-join=SCRIPT (a /bin/sh command line)' });
    assert.deepEqual(parseTriggerSpec("member-join=  "), { ok: false, error: '-on "member-join=  ": the script is empty; want member-join=SCRIPT (a /bin/sh command line)' });
    assert.match((parseTriggerSpec("/bin/page-me") as { error: string }).error, /^-on "\/bin\/page-me": want EVENT=SCRIPT; events: /);
    assert.match((parseTriggerSpec("=x", "config key on") as { error: string }).error, /^config key on "=x": unknown event ""; events: /);
  });
});

describe("triggerEnv and triggerJson", () => {
  const node = { name: "web-01", address: "10.0.0.1:7946" };

  it("names the member and each tag, tag keys upper-cased with other characters as _", () => {
    const env = triggerEnv({ event: "member-failed", atMs: 5, member: { name: "db-2", address: "10.0.0.2:7946", status: "dead", tags: { role: "db", "dc.zone-a": "x", Dc_Zone_A: "y" } } }, node);
    assert.deepEqual(env, {
      GOSSIPCHECK_EVENT: "member-failed",
      GOSSIPCHECK_EVENT_AT_MS: "5",
      GOSSIPCHECK_NODE: "web-01",
      GOSSIPCHECK_NODE_ADDRESS: "10.0.0.1:7946",
      GOSSIPCHECK_MEMBER_NAME: "db-2",
      GOSSIPCHECK_MEMBER_ADDRESS: "10.0.0.2:7946",
      GOSSIPCHECK_MEMBER_STATUS: "dead",
      GOSSIPCHECK_MEMBER_TAGS: "Dc_Zone_A=y,dc.zone-a=x,role=db",
      GOSSIPCHECK_MEMBER_TAG_DC_ZONE_A: "y",
      GOSSIPCHECK_MEMBER_TAG_ROLE: "db",
    });
    assert.equal(tagVarName("a-b.c"), "A_B_C");
  });

  it("names the check, the batch, the quorum; drops NULs and cuts long values (the JSON keeps them)", () => {
    const long = "m".repeat(5000) + "\0";
    const e = {
      event: "quorum-fail" as const,
      atMs: 7,
      check: { name: "api_up", schedule: "edge", status: "fail", previous: "pass", message: long },
      batch: { id: "ab12", origin: "web-02", checks: 3, failed: 1 },
      quorum: { schedule: "edge", check: "api_up", failing: 6, needed: 6, voters: 10, nodes: ["a", "b"] },
    };
    const env = triggerEnv(e, node);
    assert.equal(env.GOSSIPCHECK_CHECK_NAME, "api_up");
    assert.equal(env.GOSSIPCHECK_CHECK_PREVIOUS, "pass");
    assert.equal(env.GOSSIPCHECK_CHECK_MESSAGE, "m".repeat(4096));
    assert.equal(env.GOSSIPCHECK_BATCH_ID, "ab12");
    assert.equal(env.GOSSIPCHECK_BATCH_FAILED, "1");
    assert.equal(env.GOSSIPCHECK_QUORUM_FAILING, "6");
    assert.equal(env.GOSSIPCHECK_QUORUM_NODES, "a,b");
    const line = triggerJson(e, node);
    assert.ok(line.endsWith("}\n") && !line.slice(0, -1).includes("\n"));
    assert.deepEqual(JSON.parse(line), { ...e, node });
  });
});
