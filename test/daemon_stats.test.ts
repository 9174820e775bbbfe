import assert from "node:assert/strict";
import os from "node:os";
import { describe, it } from "node:test";
import type { NodeStats } from "../src/control/api_types.js";
import { validateStatsBody } from "../src/daemon/api/validate.js";
import { StatsCollector } from "../src/daemon/stats/collector.js";
import { type SystemProbes, rootFilesystem, systemInformationLoaded, systemInformationProbes } from "../src/daemon/stats/probes.js";
import { decodeStatsRequest, encodeStatsRequest, fromWireStats, statsRequestHandler, toWireStats } from "../src/daemon/stats/wire.js";
import type { Envelope } from "../src/gossip/envelope.js";
import { VirtualClock } from "../src/base/clock.js";
import { pb } from "../src/proto/index.js";

/*
 * Node stats on one node: the collector against this very machine (the
 * figures agree with what Node reads itself), a probe that hangs or fails
 * (its section absent and named in errors, the reply still whole), the
 * sample shared by a burst of requests, the wire form, the STATS_REQUEST
 * handler's targeting, and the POST /v1/stats body rules.
 */

const self = () => ({ members: { alive: 3, suspect: 1, dead: 0, left: 2 }, daemonUptimeMs: 1234 });

/** Probes answering at once with fixed figures, counting their calls; `override` replaces some. */
function fakeProbes(override: Partial<SystemProbes> = {}) {
  const calls = { cpuLoad: 0, cpuModel: 0, memory: 0, disk: 0, os: 0 };
  const base: SystemProbes = {
    cpuLoad: async () => 12.5,
    cpuModel: async () => "Test CPU",
    memory: async () => ({ totalBytes: 8e9, usedBytes: 2e9, availableBytes: 6e9, swapTotalBytes: 1e9, swapUsedBytes: 0 }),
    disk: async () => ({ mount: "/", fs: "/dev/test", type: "ext4", totalBytes: 1e11, usedBytes: 4e10, availableBytes: 6e10 }),
    os: async () => ({ platform: "linux", distro: "Test", release: "1", kernel: "6.0", arch: "x64", hostname: "h" }),
  };
  const probes = Object.fromEntries(
    (Object.keys(calls) as (keyof SystemProbes)[]).map((k) => [
      k,
      () => {
        calls[k]++;
        return (override[k] ?? base[k])();
      },
    ]),
  ) as unknown as SystemProbes;
  return { probes, calls };
}

const never = () => new Promise<never>(() => undefined);

describe("the stats collector on this machine (systeminformation)", () => {
  it("reports figures that agree with Node's own, and loads systeminformation only when it first samples", async () => {
    const collector = new StatsCollector({ node: "me", version: "9.9.9", self, probeTimeoutMs: 60_000 });
    assert.equal(systemInformationLoaded(), false, "importing the collector must not load systeminformation");
    assert.equal(collector.counters().systeminformationLoaded, 0);
    const s = await collector.collect();
    assert.equal(systemInformationLoaded(), true);
    assert.equal(collector.counters().systeminformationLoaded, 1);

    assert.deepEqual(s.errors, [], "every probe answered on this machine");
    assert.equal(s.node, "me");
    assert.equal(s.cpu.count, os.cpus().length);
    assert.equal(s.cpu.loadAverage.length, 3);
    for (const l of s.cpu.loadAverage) assert.ok(l >= 0 && Number.isFinite(l));
    assert.ok(s.cpu.loadPercent !== undefined && s.cpu.loadPercent >= 0 && s.cpu.loadPercent <= 100, `load ${s.cpu.loadPercent}`);
    assert.ok(s.cpu.model && s.cpu.model.length > 0);

    const m = s.memory!;
    assert.ok(Math.abs(m.totalBytes - os.totalmem()) <= os.totalmem() * 0.01, `memory total ${m.totalBytes} vs os.totalmem() ${os.totalmem()}`);
    assert.ok(m.availableBytes > 0 && m.availableBytes <= m.totalBytes);
    assert.equal(m.usedBytes + m.availableBytes, m.totalBytes);
    assert.ok(m.swapUsedBytes <= m.swapTotalBytes);

    const d = s.disk!;
    if (process.platform === "linux") assert.equal(d.mount, "/");
    assert.ok(d.totalBytes > 0 && d.usedBytes <= d.totalBytes && d.availableBytes <= d.totalBytes);

    assert.equal(s.os?.platform, process.platform);
    assert.equal(s.os?.kernel, os.release());
    assert.equal(s.os?.arch, process.arch);
    assert.equal(s.os?.hostname, os.hostname());

    assert.ok(Math.abs(s.uptime.hostMs - os.uptime() * 1000) < 60_000, "host uptime from the kernel");
    assert.equal(s.uptime.daemonMs, 1234);
    assert.equal(s.process.pid, process.pid);
    assert.ok(s.process.rssBytes > 0 && s.process.heapUsedBytes > 0 && s.process.heapUsedBytes <= s.process.heapTotalBytes);
    assert.deepEqual(s.gossipcheck, { version: "9.9.9", membersAlive: 3, members: { alive: 3, suspect: 1, dead: 0, left: 2 } });
    assert.ok(s.sampledMs <= Date.now() && s.sampledMs > Date.now() - 60_000);
  });

  it("a systeminformation that cannot be loaded fails every probe with what to do, not the daemon", async () => {
    const probes = systemInformationProbes(() => Promise.reject(new Error("Cannot find package 'systeminformation'")));
    await assert.rejects(probes.memory(), /cannot load systeminformation \(Cannot find package 'systeminformation'\): reinstall gossipcheck/);
    const collector = new StatsCollector({ node: "me", version: "1", self, probes });
    const s = await collector.collect();
    assert.deepEqual(s.errors.map((e) => e.split(":")[0]).sort(), ["cpu load", "cpu model", "disk", "memory", "os"]);
    assert.equal(s.memory, undefined);
    assert.equal(s.cpu.count, os.cpus().length, "what Node reads itself is still there");
  });

  it("the root filesystem is the one on /, else the largest that reports a size", () => {
    const fs = (mount: string, size: number) => ({ fs: `dev${mount}`, type: "ext4", size, used: size / 2, available: size / 2, mount });
    assert.equal(rootFilesystem([fs("/boot", 1e9), fs("/", 5e9), fs("/data", 9e9)]).mount, "/");
    assert.equal(rootFilesystem([fs("C:", 5e9), fs("D:", 9e9), fs("E:", 0)]).mount, "D:");
    assert.throws(() => rootFilesystem([fs("/", 0)]), /no mounted filesystem reports a size/);
  });
});

describe("probes that hang or fail", () => {
  it("a probe that never answers leaves its section absent and an error naming it; the rest is reported", async () => {
    const clock = new VirtualClock();
    const { probes, calls } = fakeProbes({ memory: never });
    const collector = new StatsCollector({ node: "n", version: "1", self, clock, probes, probeTimeoutMs: 2000 });
    let latest: NodeStats | undefined;
    const reply = () => latest;
    void collector.collect().then((v) => (latest = v));
    await clock.advance(1999);
    assert.equal(reply(), undefined, "still waiting for the memory probe inside its timeout");
    await clock.advance(1);
    const s = reply();
    assert.ok(s, "the reply came at the probe timeout");
    assert.deepEqual(s.errors, ["memory: no answer within 2000 ms"]);
    assert.equal(s.memory, undefined);
    assert.equal(s.disk?.totalBytes, 1e11);
    assert.equal(s.cpu.loadPercent, 12.5);
    assert.equal(collector.counters().probeTimeouts, 1);

    // The next sample joins the hung call instead of piling up another one.
    await clock.advance(5000);
    void collector.collect().then((v) => (latest = v));
    await clock.advance(2000);
    assert.notEqual(reply(), s);
    assert.deepEqual(reply()?.errors, ["memory: no answer within 2000 ms"]);
    assert.equal(calls.memory, 1, "the hung memory probe was called once");
    assert.equal(calls.disk, 2, "the other probes ran again");
  });

  it("a probe that rejects or throws is an error line too; a failed CPU model is asked again next time", async () => {
    const clock = new VirtualClock();
    let modelFails = true;
    const { probes, calls } = fakeProbes({
      disk: () => Promise.reject(new Error("statfs failed")),
      os: () => {
        throw new Error("no /etc/os-release");
      },
      cpuModel: async () => {
        if (modelFails) throw new Error("this host does not name its CPU");
        return "Later CPU";
      },
    });
    const collector = new StatsCollector({ node: "n", version: "1", self, clock, probes });
    const s = await collector.collect();
    assert.deepEqual(s.errors.sort(), ["cpu model: this host does not name its CPU", "disk: statfs failed", "os: no /etc/os-release"]);
    assert.equal(s.disk, undefined);
    assert.equal(s.os, undefined);
    assert.equal(s.cpu.model, undefined);
    assert.equal(s.memory?.totalBytes, 8e9);
    assert.equal(collector.counters().probeFailures, 3);

    modelFails = false;
    await clock.advance(1000);
    const t = await collector.collect();
    assert.equal(t.cpu.model, "Later CPU");
    await clock.advance(1000);
    await collector.collect();
    assert.equal(calls.cpuModel, 2, "asked until it answered, then kept");
    assert.equal(calls.os, 3, "a failing OS probe is asked on every sample");
  });
});

describe("the sample cache", () => {
  it("a burst of requests shares one sample; it is reused for 1 s, then taken again", async () => {
    const clock = new VirtualClock();
    const { probes, calls } = fakeProbes();
    const collector = new StatsCollector({ node: "n", version: "1", self, clock, probes });
    const burst = await Promise.all(Array.from({ length: 10 }, () => collector.collect()));
    assert.equal(calls.memory, 1);
    assert.equal(new Set(burst.map((s) => s.sampledMs)).size, 1);
    await clock.advance(999);
    assert.equal((await collector.collect()).sampledMs, burst[0]!.sampledMs);
    assert.equal(calls.memory, 1, "still young enough");
    await clock.advance(1);
    assert.equal((await collector.collect()).sampledMs, burst[0]!.sampledMs + 1000);
    assert.equal(calls.memory, 2);
    assert.deepEqual([calls.cpuLoad, calls.disk, calls.cpuModel, calls.os], [2, 2, 1, 1], "the CPU model and OS release are read once");
    assert.deepEqual(collector.counters(), { samples: 2, samplesReused: 10, probeTimeouts: 0, probeFailures: 0, systeminformationLoaded: collector.counters().systeminformationLoaded });
  });
});

describe("stats on the wire", () => {
  it("a report survives the wire; absent sections stay absent and a 0% load stays present", async () => {
    const clock = new VirtualClock();
    const full = await new StatsCollector({ node: "n1", version: "1.2.3", self, clock, probes: fakeProbes({ cpuLoad: async () => 0 }).probes }).collect();
    const partial = await new StatsCollector({
      node: "n1",
      version: "1.2.3",
      self,
      clock,
      probes: fakeProbes({ memory: () => Promise.reject(new Error("x")), cpuLoad: () => Promise.reject(new Error("y")) }).probes,
    }).collect();
    for (const s of [full, partial]) {
      const bytes = pb.StatsReport.encode(toWireStats(s)).finish();
      assert.deepEqual(fromWireStats("n1", pb.StatsReport.decode(bytes)), s);
    }
    assert.equal(full.cpu.loadPercent, 0);
    assert.equal(partial.memory, undefined);
    assert.equal("loadPercent" in partial.cpu, false);
  });

  it("a hostile report is clipped: long strings, too many errors, non-finite numbers", () => {
    const r = pb.StatsReport.decode(
      pb.StatsReport.encode({
        version: "v".repeat(10_000),
        errors: Array.from({ length: 100 }, () => "e".repeat(300)),
        hostUptimeMs: Number.NaN,
        cpu: { loadAverage: [Infinity] },
        members: { alive: 2, bogus: 7 },
      }).finish(),
    );
    const s = fromWireStats("n", r);
    assert.equal(s.gossipcheck.version.length, 256);
    assert.equal(s.errors.length, 16);
    assert.ok(s.errors.every((e) => e.length === 256));
    assert.equal(s.uptime.hostMs, 0);
    assert.deepEqual(s.cpu.loadAverage, [0, 0, 0]);
    assert.deepEqual(s.gossipcheck.members, { alive: 2, suspect: 0, dead: 0, left: 0 });
  });

  it("the STATS_REQUEST handler: targeted nodes answer, the others stay silent, garbage is refused", async () => {
    const collector = new StatsCollector({ node: "web1", version: "1", self, probes: fakeProbes().probes });
    const handler = statsRequestHandler({ name: "web1", tags: { role: "web" } }, collector);
    const env = (payload: Uint8Array): Envelope => ({
      id: new Uint8Array(16),
      origin: "o",
      originAddress: "127.0.0.1:1",
      createdMs: 0,
      ttlMs: 1000,
      kind: pb.EnvelopeKind.STATS_REQUEST,
      payload,
      signature: new Uint8Array(0),
      signerKey: new Uint8Array(0),
    });
    const answer = await handler(env(encodeStatsRequest({ nodes: [], tags: { role: "web" } })));
    assert.ok(answer && "stats" in answer);
    assert.equal(fromWireStats("web1", answer.stats).memory?.totalBytes, 8e9);
    assert.equal(await handler(env(encodeStatsRequest({ nodes: ["db1"], tags: {} }))), null);
    assert.equal(await handler(env(encodeStatsRequest({ nodes: [], tags: { role: "db" } }))), null);
    const garbage = await handler(env(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])));
    assert.ok(garbage && "rejected" in garbage && /^undecodable stats request/.test(garbage.rejected));
    assert.deepEqual(decodeStatsRequest(encodeStatsRequest({ nodes: ["a", "b"], tags: { k: "v" } })), { ok: true, value: { targetNodes: ["a", "b"], targetTags: { k: "v" }, maxAgeMs: 0 } });
    // A stream's interval travels, and a hostile one is clipped to a minute.
    assert.equal((decodeStatsRequest(encodeStatsRequest({ nodes: [], tags: {}, maxAgeMs: 1800 })) as { value: { maxAgeMs: number } }).value.maxAgeMs, 1800);
    assert.equal((decodeStatsRequest(encodeStatsRequest({ nodes: [], tags: {}, maxAgeMs: 86_400_000 })) as { value: { maxAgeMs: number } }).value.maxAgeMs, 60_000);
  });
});

describe("POST /v1/stats body", () => {
  it("defaults to every node and a 10 s wait; targeting follows the batch rules; unknown fields are refused", () => {
    assert.deepEqual(validateStatsBody({}), { ok: true, value: { nodes: [], tags: {}, timeoutMs: 10_000 } });
    assert.deepEqual(validateStatsBody({ nodes: ["a"], tags: { role: "web" }, timeoutMs: 500 }), { ok: true, value: { nodes: ["a"], tags: { role: "web" }, timeoutMs: 500 } });
    const error = (body: unknown) => {
      const v = validateStatsBody(body);
      return v.ok ? "" : v.error;
    };
    assert.match(error({ node: ["a"] }), /unknown field "node" \(known fields: nodes, tags, timeoutMs\)/);
    assert.match(error({ nodes: [""] }), /field "nodes": string "" is not a node name/);
    assert.match(error({ tags: { role: 1 } }), /field "tags": "role" must map a key/);
    assert.match(error({ timeoutMs: 50 }), /field "timeoutMs" must be a number of milliseconds from 100/);
    assert.match(error([]), /request body must be a JSON object, got an array/);
  });
});
