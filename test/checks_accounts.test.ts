import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { parseCheckObject, runBatch } from "../src/checks/index.js";
import type { CheckResult } from "../src/checks/types.js";

/*
 * The `user` and `group` check types (src/checks/accounts.ts) against this
 * machine's accounts: root, nobody, the root group, and names that do not
 * exist. Expected values come from getent, the same NSS view the checks use.
 */

async function run(type: string, fields: Record<string, unknown>): Promise<CheckResult> {
  const parsed = parseCheckObject({ c: { type, ...fields } }, "test");
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.errors.join("; "));
  const [r] = await runBatch(parsed.checks, { batchId: "b", node: "n", runActions: true });
  return r!;
}

const passwd = (name: string) => execFileSync("getent", ["passwd", name], { encoding: "utf8" }).trim().split(":");

describe("user and group checks", () => {
  it("user, exists: root and nobody exist; a user that does not fails (and passes with exists: false)", async () => {
    const r = await run("user", { user: "root" });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /^user "root": uid 0, gid 0, home \/root, shell \S+ \(getent\)$/);
    assert.equal((await run("user", { user: "nobody" })).status, "pass");
    const none = await run("user", { user: "no-such-user-gossipcheck" });
    assert.equal(none.status, "fail");
    assert.equal(none.message, 'user "no-such-user-gossipcheck": no such user (getent)');
    assert.equal((await run("user", { user: "no-such-user-gossipcheck", exists: false })).status, "pass");
    assert.match((await run("user", { user: "root", exists: false })).message, /exists \(uid 0.*expected no such user/);
  });

  it("user: a number is not taken as a uid", async () => {
    assert.equal((await run("user", { user: "0" })).status, "fail");
  });

  it("uid and gid", async () => {
    const [, , uid, gid] = passwd("nobody");
    assert.equal((await run("user", { user: "nobody", uid: Number(uid), gid: Number(gid) })).status, "pass");
    const r = await run("user", { user: "root", uid: 1, gid: 2 });
    assert.equal(r.status, "fail");
    assert.equal(r.message, 'user "root": uid 0, expected 1; gid 0, expected 2 (getent)');
  });

  it("home and shell", async () => {
    const [, , , , , home, shell] = passwd("root");
    assert.equal((await run("user", { user: "root", home, shell })).status, "pass");
    const r = await run("user", { user: "root", home: "/home/root", shell: "/bin/false" });
    assert.equal(r.status, "fail");
    assert.match(r.message, /home "\/root", expected "\/home\/root"; shell ".*", expected "\/bin\/false"/);
  });

  it("groups: the user must be in each (the primary group counts)", async () => {
    const r = await run("user", { user: "root", groups: ["root"] });
    assert.equal(r.status, "pass", r.message);
    assert.match(r.message, /groups root/);
    const f = await run("user", { user: "nobody", groups: ["root", "nogroup-gossipcheck"] });
    assert.equal(f.status, "fail");
    assert.match(f.message, /not in "root", "nogroup-gossipcheck"/);
  });

  it("group, exists, gid: the root group; a group that does not exist", async () => {
    assert.deepEqual(await run("group", { group: "root", gid: 0 }).then((r) => [r.status, r.message]), ["pass", 'group "root": gid 0 (getent)']);
    assert.equal((await run("group", { group: "root", gid: 7 })).message, 'group "root": gid 0, expected 7 (getent)');
    assert.equal((await run("group", { group: "no-such-group-gossipcheck" })).message, 'group "no-such-group-gossipcheck": no such group (getent)');
    assert.equal((await run("group", { group: "no-such-group-gossipcheck", exists: false })).status, "pass");
    assert.equal((await run("group", { group: "root", exists: false })).status, "fail");
  });

  it("validation names each field and what it expects", () => {
    const p = parseCheckObject(
      {
        a: { type: "user", user: "root", uid: -1, groups: [3], shel: "/bin/sh" },
        b: { type: "user", user: "x", exists: false, home: "/x" },
        c: { type: "group", group: "-x" },
        d: { type: "group", group: "g", groups: ["x"] },
      },
      "f.json",
    );
    const errors = p.ok ? [] : p.errors;
    assert.ok(
      errors.some((e) => /f\.json: check "a": field "uid": expected a whole number from 0 to 4294967294/.test(e)),
      errors.join("\n"),
    );
    assert.ok(errors.some((e) => /check "a": field "groups": expected a string or a non-empty list of strings/.test(e)));
    assert.ok(errors.some((e) => /check "a": field "shel" is unknown for type user .*did you mean "shell"\?/.test(e)));
    assert.ok(errors.some((e) => /check "b": field "home": cannot be asked of a user that must not exist/.test(e)));
    assert.ok(errors.some((e) => /check "c": field "group": "-x" starts with "-"/.test(e)));
    assert.ok(errors.some((e) => /check "d": field "groups" is unknown for type group .*did you mean "group"\?/.test(e)));
  });
});
