/*
 * User events and queries (issue 17) on 40 real daemons (lan profile), the
 * figures Serf was measured by here: event to all handlers (from the POST
 * until the last node's handler has started) and query round trip (from
 * the POST until the last node's answer reached the client), each over
 * TRIALS trials, and how long `gcheck query` takes from spawn to exit.
 *
 * "Handler started" is read from the handlers themselves: each appends
 * `date +%s%N` and the event ID to a file of its node as its first command,
 * so the figure includes /bin/sh's start (a few ms) and nothing of the
 * reply path. Every process is on this host, so the clocks are one clock.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allAlive, startCluster, waitForViews } from "../test/support/cluster.js";
import { GCHECK_BIN } from "../test/support/proc.js";
import { type BenchSection, percentile } from "./report.js";

const N = 40;
const TRIALS = 20;
const CLI_TRIALS = 5;

async function ndjson(cli: string, path: string, body: unknown, onLine: (e: { type: string; id?: string }) => void): Promise<void> {
  const res = await fetch(`http://${cli}${path}`, { method: "POST", body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`POST ${path}: HTTP ${res.status}: ${await res.text()}`);
  let buf = "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += Buffer.from(chunk).toString();
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) onLine(JSON.parse(line) as { type: string; id?: string });
    }
  }
}

function handlerStarts(dir: string, names: string[], id: string): number[] {
  const out: number[] = [];
  for (const n of names) {
    const f = join(dir, `ts.${n}`);
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, "utf8").split("\n")) {
      const [ns, eid] = line.split(" ");
      if (eid === id) out.push(Number(BigInt(ns!) / 1_000_000n));
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(): Promise<BenchSection[]> {
  const dir = mkdtempSync(join(tmpdir(), "gc-bench-events-"));
  const handler = `echo "$(date +%s%N) $GOSSIPCHECK_EVENT_ID" >> ${dir}/ts.$GOSSIPCHECK_NODE`;
  const cluster = await startCluster(N, { profile: "lan", namePrefix: "e-", args: ["-on", `user:bench=${handler}`, "-on", "query:bench=echo $GOSSIPCHECK_NODE"] });
  const names = cluster.nodes.map((n) => n.name);
  try {
    await waitForViews(cluster.nodes, allAlive(names), { timeoutMs: 120_000, what: `all ${N} daemons list each other alive` });
    // A node refuses envelopes created within historyStartSkewMs (1 s, lan) of its seen-history's start (it cannot
    // rule out having run them in a lost earlier life): the first event waits until the youngest daemon is past that.
    await sleep(Math.max(0, cluster.lastUpAtMs + 2_000 - Date.now()));
    const origin = cluster.nodes[0]!.cliAddress;
    const toAll: number[] = [];
    const delivered: number[] = [];
    for (let t = 0; t < TRIALS; t++) {
      const postMs = Date.now();
      let id = "";
      let lastDelivered = 0;
      await ndjson(origin, "/v1/events", { name: "bench", payloadText: `trial ${t}` }, (e) => {
        if (e.type === "accepted") id = e.id!;
        if (e.type === "delivered") lastDelivered = Date.now() - postMs;
      });
      delivered.push(lastDelivered);
      const deadline = Date.now() + 10_000;
      let starts: number[] = [];
      while (Date.now() < deadline && (starts = handlerStarts(dir, names, id)).length < N) await sleep(20);
      if (starts.length < N) throw new Error(`trial ${t}: only ${starts.length} of ${N} handlers started`);
      toAll.push(Math.max(...starts) - postMs);
      await sleep(300);
    }
    const query: number[] = [];
    for (let t = 0; t < TRIALS; t++) {
      const postMs = Date.now();
      let last = 0;
      let answers = 0;
      await ndjson(origin, "/v1/queries", { name: "bench" }, (e) => {
        if (e.type === "answer") {
          answers++;
          last = Date.now() - postMs;
        }
      });
      if (answers < N) throw new Error(`query trial ${t}: ${answers} of ${N} answers`);
      query.push(last);
      await sleep(300);
    }
    const cli: number[] = [];
    for (let t = 0; t < CLI_TRIALS; t++) {
      const start = Date.now();
      const code = await new Promise<number | null>((resolve) => spawn(process.execPath, [GCHECK_BIN, "query", "bench", "-server", origin], { stdio: "ignore" }).on("exit", resolve));
      if (code !== 0) throw new Error(`gcheck query exited ${code}`);
      cli.push(Date.now() - start);
      await sleep(300);
    }
    const ms = (v: number) => `${Math.round(v)} ms`;
    return [
      {
        title: `Events and queries, N=${N} daemons (lan profile)`,
        columns: ["measure", "p50", "max", "Serf here"],
        rows: [
          ["event: POST until the last node's handler started", ms(percentile(toAll, 50)), ms(Math.max(...toAll)), "502 ms p50, 685 ms max (coalescing off)"],
          ["event: POST until the last delivered reached the client", ms(percentile(delivered, 50)), ms(Math.max(...delivered)), ""],
          ["query: POST until the last answer reached the client", ms(percentile(query, 50)), ms(Math.max(...query)), "518 ms to the last response"],
          [`gcheck query: spawn to exit (${CLI_TRIALS} runs)`, ms(percentile(cli, 50)), ms(Math.max(...cli)), "5 s (serf query waits out its timeout)"],
        ],
        notes: [
          `Method: ${N} gossipcheckd on this host, converged; ${TRIALS} events then ${TRIALS} queries from e-1's control API, 300 ms apart. Handler start = the \`date +%s%N\` each handler writes as its first command (so /bin/sh's start is included); the query handler is \`echo $GOSSIPCHECK_NODE\`.`,
          "gcheck query ends when every expected node has answered: its time is that round trip plus starting Node.js and loading gcheck (about 300 ms on this 2-core host), where serf query always waits out its timeout.",
        ],
      },
    ];
  } finally {
    await cluster.close("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}
