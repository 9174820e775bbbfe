/*
 * Bytes per member entry (issue 18, target 6): what one record in one
 * node's member table costs, through the real merge path. K nodes each
 * serve a push-pull request listing M members, from their own copy of the
 * bytes (decoded and merged as one from the network), then shut down, which
 * drops the queued gossip about the new members and keeps the table; heap
 * after a full GC before and after, divided by K x M. Twice: as daemons (nothing
 * shared) and as a simulation's nodes (one SharedMembers, as SimCluster
 * passes). A simulation of N nodes holds N^2 entries, so this is what
 * decides whether N fits in memory.
 */
import { VirtualClock } from "../src/base/clock.js";
import { SeededRandom } from "../src/base/random.js";
import { MemoryNetwork } from "../src/net/memory_transport.js";
import { pb } from "../src/proto/index.js";
import { Channel } from "../src/net/transport.js";
import { encodePushPull } from "../src/swim/codec.js";
import { lanConfig } from "../src/swim/config.js";
import { SharedMembers } from "../src/swim/identities.js";
import { Swim } from "../src/swim/swim.js";
import { memory } from "./sim.js";
import type { BenchSection } from "./report.js";

/** [tables, members per table]: 400,000 and 1,000,000 entries. */
const SIZES: [number, number][] = [
  [200, 2000],
  [100, 10_000],
];

export async function run(): Promise<BenchSection[]> {
  const rows: (string | number)[][] = [];
  for (const [k, m] of SIZES) rows.push([k, m, (await bytesPerEntry(k, m, false)).toFixed(1), (await bytesPerEntry(k, m, true)).toFixed(1)]);
  return [
    {
      title: "member_entry: heap bytes per member entry of a member table, through the push-pull merge path",
      columns: ["tables", "members each", "bytes per entry, daemon (nothing shared)", "bytes per entry, simulation (SharedMembers)"],
      rows,
      notes: [
        "Members named n0, n1, ... at n<i>:7946, no tags, alive, incarnation 1. Each table gets its own decode of the same bytes. Heap after a full GC, minus the heap with the K empty nodes, over K x M.",
        "The simulation column includes the shared identities, strings and slots spread over the K tables (a few bytes an entry at K=100; nothing at K=N).",
      ],
    },
  ];
}

async function bytesPerEntry(k: number, m: number, shared: boolean): Promise<number> {
  const clock = new VirtualClock();
  const net = new MemoryNetwork({ clock, random: new SeededRandom(1) });
  const members = Array.from({ length: m }, (_, i) => ({ name: `n${i}`, address: `n${i}:7946`, incarnation: 1, status: pb.MemberStatus.ALIVE, tags: {}, statusAgeMs: 5 }));
  const body = encodePushPull({ join: false, from: "x", members });
  const sharedMembers = shared ? new SharedMembers(1_000_000) : undefined;
  const nodes = Array.from({ length: k }, (_, i) => {
    const transport = net.transport(`m${i}:7946`);
    const swim = new Swim({ name: `m${i}`, transport, clock, random: new SeededRandom(i), config: lanConfig(), shared: sharedMembers });
    swim.start();
    return { swim, transport };
  });
  const before = memory().heap;
  for (const { swim, transport } of nodes) {
    await transport.receiveRequest(Channel.Swim, body.slice(), "x:7946");
    swim.shutdown();
  }
  const after = memory().heap;
  if (nodes.some(({ swim }) => swim.statusCounts().alive !== m + 1)) throw new Error("member_entry: a table did not take every member");
  return (after - before) / k / m;
}
