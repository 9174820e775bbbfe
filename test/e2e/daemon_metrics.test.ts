import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type DaemonProc, ndjsonEvents, spawnDaemon, tempDir, waitFor } from "../support/proc.js";
import { histogramCount, parseExposition } from "../support/exposition.js";
import { freePort } from "../support/cluster.js";

/*
 * -metrics-bind on real daemons: GET /metrics and /healthz without a token
 * while the control API wants one, nothing there that can submit or change
 * anything, and an exposition a scraper can parse: one family per quantity,
 * units in the names, histograms with buckets, the process metrics. Health:
 * 503 with a reason while a node's -peers do not answer, 200 once it joined.
 */

const token = "bWV0cmljcy10ZXN0LXRva2VuLTAxMjM0NTY3";

async function get(address: string, path: string, init: RequestInit = {}): Promise<{ status: number; text: string; type: string | null }> {
  const r = await fetch(`http://${address}${path}`, init);
  return { status: r.status, text: await r.text(), type: r.headers.get("content-type") };
}

function metricsAddress(d: DaemonProc): string {
  const m = d.startup.metrics;
  assert.equal(typeof m, "string", `the startup line names the metrics address: ${JSON.stringify(d.startup)}`);
  return m as string;
}

describe("-metrics-bind: read-only /metrics and /healthz without a token", () => {
  const t = tempDir();
  const tokenFile = join(t.path, "cli.token");
  let seed: DaemonProc | undefined;
  let joiner: DaemonProc | undefined;
  let seedPort = 0;

  before(async () => {
    writeFileSync(tokenFile, token + "\n", { mode: 0o600 });
    seedPort = await freePort();
    // The joiner first, with a seed that is not there yet.
    joiner = await spawnDaemon(["-name", "joiner", "-profile", "local", "-peers", `127.0.0.1:${seedPort}`, "-metrics-bind", "127.0.0.1:0", "-cli-token-file", tokenFile]);
  });
  after(async () => {
    await Promise.all([seed?.stop(), joiner?.stop()]);
    t.cleanup();
  });

  it("healthz: 503 naming the seeds while none answers, 200 once the node joined", async () => {
    const m = metricsAddress(joiner!);
    const waiting = await get(m, "/healthz");
    assert.equal(waiting.status, 503, waiting.text);
    const body = JSON.parse(waiting.text) as { status: string; reason: string };
    assert.equal(body.status, "unhealthy");
    assert.match(body.reason, new RegExp(`^joining: no seed has answered yet \\(-peers 127\\.0\\.0\\.1:${seedPort}\\)`));

    seed = await spawnDaemon(["-name", "seed", "-profile", "local", "-bind", `127.0.0.1:${seedPort}`, "-metrics-bind", "127.0.0.1:0", "-cli-token-file", tokenFile]);
    // The seed, started without -peers, is healthy alone.
    assert.equal((await get(metricsAddress(seed), "/healthz")).status, 200);
    // The joiner retries its seed with back-off (local profile: at most 5 s apart).
    await waitFor(async () => (await get(m, "/healthz")).status === 200, 15_000, "the joiner's /healthz to answer 200");
    assert.deepEqual(JSON.parse((await get(m, "/healthz")).text), { status: "ok", detail: "member of 2 running, health score 0" });
  });

  it("/metrics needs no token there, while the control API's /metrics and /v1/info do", async () => {
    const m = metricsAddress(joiner!);
    const open = await get(m, "/metrics");
    assert.equal(open.status, 200);
    assert.equal(open.type, "text/plain; version=0.0.4; charset=utf-8");
    assert.equal((await get(joiner!.cliAddress!, "/metrics")).status, 401);
    assert.equal((await get(joiner!.cliAddress!, "/v1/info")).status, 401);
    const authed = await get(joiner!.cliAddress!, "/metrics", { headers: { authorization: `Bearer ${token}` } });
    assert.equal(authed.status, 200);
    // The same registry on both: the same families.
    assert.deepEqual([...parseExposition(authed.text).keys()].sort(), [...parseExposition(open.text).keys()].sort());
  });

  it("nothing there can submit or change anything: POST routes are absent, other methods refused", async () => {
    const m = metricsAddress(joiner!);
    const batch = JSON.stringify({ checks: { c: { type: "file_exists", path: "/", action: "touch /tmp/should-not-run" } } });
    for (const path of ["/v1/check", "/v1/local-check", "/v1/keys", "/v1/stats"]) {
      const r = await get(m, path, { method: "POST", body: batch, headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.status, 404, `POST ${path}: ${r.text}`);
    }
    for (const path of ["/v1/info", "/v1/members", "/v1/batches"]) assert.equal((await get(m, path)).status, 404, path);
    for (const method of ["POST", "PUT", "DELETE"]) {
      const r = await get(m, "/metrics", { method });
      assert.equal(r.status, 405, `${method} /metrics`);
      assert.match(r.text, /read-only, use GET/);
    }
  });

  it("the exposition: one family per quantity with units in the names, histograms with buckets, process metrics", async () => {
    // A batch with an action, so every histogram has observations.
    const res = await fetch(`http://${seed!.cliAddress}/v1/check`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      // The file never appears: every node runs the action (exit 0), and the check still fails.
      body: JSON.stringify({ checks: { absent: { type: "file_exists", path: join(t.path, "never-there"), action: "true" } }, timeoutMs: 10_000 }),
    });
    const events = await ndjsonEvents<{ type: string; node?: string; timedOut?: boolean }>(res);
    assert.deepEqual(events.filter((e) => e.type === "result").length, 2, JSON.stringify(events));
    assert.equal(events.at(-1)?.timedOut, false);

    const text = (await get(metricsAddress(seed!), "/metrics")).text;
    const families = parseExposition(text);
    const typeOf = (name: string) => families.get(name)?.type;

    // Transport, membership and dissemination: a family per quantity, counters as counters, gauges as gauges.
    for (const name of [
      "gossipcheck_net_frame_received_bytes_total",
      "gossipcheck_net_frames_received_total",
      "gossipcheck_net_packets_received_total",
      "gossipcheck_net_packet_sent_bytes_total",
      "gossipcheck_swim_probes_total",
      "gossipcheck_gossip_envelopes_published_total",
      "gossipcheck_check_results_total",
      "gossipcheck_batches_submitted_total",
      "gossipcheck_decrypt_failures_total",
      "gossipcheck_control_requests_total",
    ])
      assert.equal(typeOf(name), "COUNTER", name);
    for (const name of ["gossipcheck_members", "gossipcheck_net_open_connections", "gossipcheck_swim_health_score", "gossipcheck_info"]) assert.equal(typeOf(name), "GAUGE", name);
    assert.ok(Number(families.get("gossipcheck_net_frame_received_bytes_total")!.metrics[0]!.value) > 0);

    // Histograms, with buckets and observations.
    for (const name of ["gossipcheck_batch_round_trip_seconds", "gossipcheck_check_evaluation_seconds", "gossipcheck_action_duration_seconds"]) {
      assert.equal(typeOf(name), "HISTOGRAM", name);
      const buckets = families.get(name)!.metrics[0]?.buckets ?? {};
      assert.ok("+Inf" in buckets && Object.keys(buckets).length > 5, `${name} has buckets: ${JSON.stringify(buckets)}`);
    }
    assert.equal(histogramCount(text, "gossipcheck_batch_round_trip_seconds"), 1);
    assert.equal(histogramCount(text, "gossipcheck_check_evaluation_seconds", ["type", "file_exists"]), 1);
    assert.equal(histogramCount(text, "gossipcheck_action_duration_seconds", ["outcome", "ok"]), 1);

    // The default process and Node.js metrics.
    assert.equal(typeOf("process_resident_memory_bytes"), "GAUGE");
    assert.equal(typeOf("process_cpu_seconds_total"), "COUNTER");
    assert.equal(typeOf("nodejs_eventloop_lag_seconds"), "GAUGE");
    assert.equal(typeOf("nodejs_heap_size_used_bytes"), "GAUGE");
    assert.equal(typeOf("nodejs_gc_duration_seconds"), "HISTOGRAM");

    // Naming: snake_case, the prefix, _total on counters only, units as suffixes.
    for (const [name, f] of families) {
      assert.match(name, /^[a-z][a-z0-9_]*$/, name);
      if (name.startsWith("process_") || name.startsWith("nodejs_")) continue;
      assert.match(name, /^gossipcheck_/, name);
      assert.equal(f.type === "COUNTER", name.endsWith("_total"), `${name} (${f.type}): _total on counters, and only on them`);
      assert.doesNotMatch(name, /_(ms|milliseconds|kb|mib)(_|$)/, `${name}: base units (seconds, bytes)`);
      if (/seconds|bytes/.test(name)) assert.match(name, /_(seconds|bytes)(_total)?$/, `${name}: the unit ends the name`);
    }
    // No family mixes quantities: no catch-all label, and no label value that names a unit.
    for (const [name, f] of families) {
      for (const sample of f.metrics) {
        for (const [label, value] of Object.entries(sample.labels ?? {})) {
          assert.notEqual(label, "counter", `${name} has a catch-all "counter" label`);
          assert.doesNotMatch(value, /bytes|packets|frames|seconds/i, `${name}{${label}="${value}"} splits a family by unit`);
        }
      }
    }
  });
});
