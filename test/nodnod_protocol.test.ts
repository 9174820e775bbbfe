import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { NodeStats } from "../src/control/api_types.js";
import { MAX_REQUEST_BYTES, decodeRequest, encodeResponse, nodnodLostNode, nodnodNode } from "../src/daemon/nodnod/protocol.js";

/*
 * NodNod's messages (mohabusama/nodnod stats/stats.go, service.go): requests
 * decoded as Go's ReadJSON takes them, hostile bytes refused as values,
 * never thrown; NodeStats mapped to NodNod's node object with its field
 * names, JSON types (whole numbers where Go has uint64) and units
 * (percent 0-100, bytes).
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

function stats(over: Partial<NodeStats> = {}): NodeStats {
  return {
    node: "web-1",
    sampledMs: 1,
    cpu: { count: 4, loadAverage: [0.5, 0.4, 0.3], loadPercent: 12.5 },
    memory: { totalBytes: 8_589_934_592, usedBytes: 2_147_483_648, availableBytes: 6_442_450_944, swapTotalBytes: 0, swapUsedBytes: 0 },
    disk: { mount: "/", fs: "/dev/sda1", type: "ext4", totalBytes: 100_000_000_000, usedBytes: 25_000_000_000, availableBytes: 75_000_000_000 },
    uptime: { hostMs: 10, daemonMs: 5 },
    process: { pid: 1, rssBytes: 1, heapUsedBytes: 1, heapTotalBytes: 1 },
    gossipcheck: { version: "0", membersAlive: 1, members: { alive: 1, suspect: 0, dead: 0, left: 0 } },
    errors: [],
    ...over,
  };
}

describe("NodNod requests", () => {
  it("type 0 is STAT, 1 is STATALL, as the NodNod client sends them", () => {
    assert.deepEqual(decodeRequest('{"type":0,"statType":0}'), { kind: "stat" });
    assert.deepEqual(decodeRequest(Buffer.from('{"type":1,"statType":0}')), { kind: "statall" });
  });

  it("takes what Go's decoder takes: null and {} are STAT, keys match in any case (the last wins), unknown keys are ignored", () => {
    assert.deepEqual(decodeRequest("null"), { kind: "stat" });
    assert.deepEqual(decodeRequest("{}"), { kind: "stat" });
    assert.deepEqual(decodeRequest('{"Type": 1}'), { kind: "statall" });
    assert.deepEqual(decodeRequest('{"type": 0, "TYPE": 1}'), { kind: "statall" });
    assert.deepEqual(decodeRequest('{"type": 1, "statType": 3, "extra": [1, {"x": "y"}]}'), { kind: "statall" });
    assert.deepEqual(decodeRequest('{"type": null}'), { kind: "stat" });
    assert.deepEqual(decodeRequest(' \n{"type": 1}\n'), { kind: "statall" });
  });

  it("an unknown type is not an error: NodNod answers nothing and keeps the connection", () => {
    assert.deepEqual(decodeRequest('{"type": 2}'), { kind: "unknown", type: 2 });
    assert.deepEqual(decodeRequest('{"type": -1}'), { kind: "unknown", type: -1 });
  });

  it("what Go's ReadJSON fails on closes the connection: not JSON, wrong JSON types, a non-object, an empty message", () => {
    for (const bad of ["", "garbage", '{"type": "1"}', '{"type": true}', '{"type": 1.5}', '{"statType": "all"}', '{"type": 1e300}', "[1]", "1", '"stat"', "{", '{"type": 1}}']) {
      const r = decodeRequest(bad);
      assert.equal(r.kind, "malformed", `${JSON.stringify(bad)} -> ${JSON.stringify(r)}`);
    }
  });

  it("refuses a request larger than MAX_REQUEST_BYTES without parsing it", () => {
    const big = `{"type": 1, "pad": "${"x".repeat(MAX_REQUEST_BYTES)}"}`;
    const r = decodeRequest(Buffer.from(big));
    assert.equal(r.kind, "malformed");
    assert.match((r as { error: string }).error, /larger than 4096/);
  });

  it("random and mutated bytes never throw past decodeRequest", () => {
    const good = Buffer.from('{"type": 1, "statType": 0}');
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.string({ maxLength: 64 }),
      fc.json({ maxDepth: 3 }),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
        const b = Buffer.from(good);
        b[at % b.length]! ^= x;
        return b;
      }),
    );
    fc.assert(
      fc.property(input, (data) => {
        const r = decodeRequest(data);
        assert.ok(["stat", "statall", "unknown", "malformed"].includes(r.kind));
      }),
      { numRuns: RUNS },
    );
  });
});

describe("NodNod responses", () => {
  it("maps NodeStats to NodNod's node object: its field names, percent 0-100, bytes, memory used = total - available", () => {
    assert.deepEqual(nodnodNode(stats()), {
      name: "web-1",
      cpuUsed: 12.5,
      diskTotal: 100_000_000_000,
      diskUsed: 25_000_000_000,
      diskUsedPercent: 25,
      memoryTotal: 8_589_934_592,
      memoryUsed: 2_147_483_648,
      memoryUsedPercent: 25,
      error: "",
    });
  });

  it("sends whole numbers where Go has uint64 (it refuses 1.5), and finite numbers everywhere", () => {
    const n = nodnodNode(
      stats({
        cpu: { count: 1, loadAverage: [0, 0, 0], loadPercent: Number.NaN },
        memory: { totalBytes: 1000.6, usedBytes: -5, availableBytes: 0, swapTotalBytes: 0, swapUsedBytes: 0 },
        disk: { mount: "/", fs: "x", type: "x", totalBytes: Number.POSITIVE_INFINITY, usedBytes: 10.2, availableBytes: 0 },
      }),
    );
    for (const k of ["diskTotal", "diskUsed", "memoryTotal", "memoryUsed"] as const) assert.ok(Number.isSafeInteger(n[k]) && n[k] >= 0, `${k} = ${n[k]}`);
    assert.equal(n.memoryTotal, 1001);
    assert.equal(n.cpuUsed, 0);
    assert.equal(n.diskUsedPercent, 0, "no total, no percent");
    assert.doesNotMatch(encodeResponse("h", [n]), /null|NaN|Infinity/);
  });

  it("a failed probe leaves its figures 0 and is named in the node's error; probes NodNod has no field for are not", () => {
    const { memory: _m, ...rest } = stats({ errors: ["memory: no answer within 2000 ms", "os: permission denied"] });
    const n = nodnodNode(rest);
    assert.equal(n.memoryTotal, 0);
    assert.equal(n.memoryUsedPercent, 0);
    assert.equal(n.error, "memory: no answer within 2000 ms");
  });

  it("a response is NodNod's MessageResponse: host, nodes keyed and sorted by name, error; one JSON text ending in a newline", () => {
    const text = encodeResponse("web-1", [nodnodNode(stats({ node: "web-2" })), nodnodLostNode("__proto__", "declared dead by the membership"), nodnodNode(stats())]);
    assert.ok(text.endsWith("}\n"));
    const r = JSON.parse(text) as { host: string; nodes: Record<string, { name: string; error: string }>; error: string };
    assert.deepEqual(Object.keys(r), ["host", "nodes", "error"]);
    assert.equal(r.host, "web-1");
    assert.equal(r.error, "");
    assert.deepEqual(Object.keys(r.nodes), ["__proto__", "web-1", "web-2"]);
    assert.equal(r.nodes["__proto__"]!.error, "declared dead by the membership");
    for (const node of Object.values(r.nodes)) {
      assert.deepEqual(Object.keys(node), ["name", "cpuUsed", "diskTotal", "diskUsed", "diskUsedPercent", "memoryTotal", "memoryUsed", "memoryUsedPercent", "error"]);
    }
  });
});
