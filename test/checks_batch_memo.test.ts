import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { runBatch, type CheckSpec } from "../src/checks/index.js";
import { batchMemo, type BatchContext, type Evaluation } from "../src/checks/evaluation.js";

/* The per-batch lookup cache (BatchContext.memo): one load per key per batch, never shared across batches or with the re-check after an action. */

const opts = { batchId: "b-memo", node: "node-a", runActions: true };
const spec = (name: string, action?: string): CheckSpec => ({ name, type: "command", params: { command: "true" }, ...(action ? { action } : {}) });

describe("batchMemo", () => {
  it("runs a key's load once and hands every caller its promise, a rejection included", async () => {
    const memo = batchMemo();
    let loads = 0;
    const load = async () => ++loads;
    assert.deepEqual(await Promise.all([memo("a", load), memo("a", load), memo("b", load)]), [1, 1, 2]);
    assert.equal(loads, 2);
    const failing = () => Promise.reject(new Error("no"));
    await assert.rejects(memo("c", failing), /no/);
    await assert.rejects(
      memo("c", async () => "other"),
      /no/,
    );
  });
});

describe("runBatch memo", () => {
  it("shares one load across the checks of a batch, and a new batch loads again", async () => {
    let loads = 0;
    const evaluate = async (_s: CheckSpec, ctx: BatchContext): Promise<Evaluation> => {
      const n = await ctx.memo("k", async () => ++loads);
      return { status: "pass", message: `load ${n}` };
    };
    const checks = Array.from({ length: 20 }, (_, i) => spec(`c${i}`));
    const first = await runBatch(checks, { ...opts, evaluate });
    assert.equal(loads, 1);
    assert.ok(first.every((r) => r.message === "load 1"));
    await runBatch(checks, { ...opts, evaluate });
    assert.equal(loads, 2);
  });

  it("looks afresh after an action (the re-check does not see the batch's cached lookup)", async () => {
    let loads = 0;
    const evaluate = async (_s: CheckSpec, ctx: BatchContext): Promise<Evaluation> => {
      const n = await ctx.memo("k", async () => ++loads);
      return n === 1 ? { status: "fail", message: "before" } : { status: "pass", message: "after" };
    };
    const [r] = await runBatch([spec("c", "true")], { ...opts, evaluate });
    assert.equal(r!.status, "fixed");
    assert.equal(loads, 2);
  });

  it("port checks of one batch read a /proc/net table once and still see a listener", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const checks: CheckSpec[] = Array.from({ length: 10 }, (_, i) => ({ name: `p${i}`, type: "port", params: { port: `tcp4:${port}`, ip: "127.0.0.1" } }));
      const results = await runBatch(checks, { ...opts, runActions: false });
      for (const r of results) assert.equal(r.status, "pass", r.message);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("user, group and package checks looked up together for the batch give each check its own answer", async () => {
    const checks: CheckSpec[] = [
      { name: "root", type: "user", params: { user: "root", uid: 0 } },
      { name: "nobody_user", type: "user", params: { user: "no-such-user-memo" } },
      { name: "absent_user", type: "user", params: { user: "no-such-user-memo-2", exists: false } },
      { name: "uid_not_name", type: "user", params: { user: "0" } },
      { name: "root_group", type: "group", params: { group: "root", gid: 0 } },
      { name: "absent_group", type: "group", params: { group: "no-such-group-memo", exists: false } },
      { name: "wrong_gid", type: "group", params: { group: "root", gid: 4242 } },
      { name: "absent_pkg", type: "package", params: { package: "no-such-package-memo", installed: false } },
      { name: "missing_pkg", type: "package", params: { package: "no-such-package-memo-2" } },
    ];
    const results = await runBatch(checks, { ...opts, runActions: false });
    const status = Object.fromEntries(results.map((r) => [r.name, r.status]));
    assert.deepEqual(
      status,
      {
        root: "pass",
        nobody_user: "fail",
        absent_user: "pass",
        uid_not_name: "fail",
        root_group: "pass",
        absent_group: "pass",
        wrong_gid: "fail",
        absent_pkg: "pass",
        missing_pkg: "fail",
      },
      JSON.stringify(results.map((r) => r.message)),
    );
  });
});
