#!/usr/bin/env node
// A small service on gossipcheck/client (node-discovery's programming model
// on gossipcheckd): it announces itself on the "announce" channel every few
// seconds, learns its peers from their announcements, and sends each peer on
// another node a direct "hello" on the "jobs" channel; it prints what it
// receives and the membership and coordinator changes its daemon sees.
//
//   npm run demo                       # a demo cluster; its first daemon on 127.0.0.1:5924
//   node examples/client/service.mjs -server 127.0.0.1:5924 -service billing
//   node examples/client/service.mjs -server <another daemon's cli> -service search
//
// (the demo prints each daemon's control address). -count N exits after N
// hellos received, so a script can use it as a check.
import { connect } from "gossipcheck/client";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`-${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const service = arg("service", `svc-${process.pid}`);
const count = Number(arg("count", "0"));

const client = await connect({ server: arg("server", "127.0.0.1:5924") });
console.log(`${service}: connected to ${client.node}`);
client.on("member-join", (m) => console.log(`member joined: ${m.name} ${JSON.stringify(m.tags)}`));
client.on("member-failed", (m) => console.log(`member failed: ${m.name}`));
client.on("coordinator", (c) => console.log(`coordinators: ${c.coordinators.join(", ") || "(none yet)"}`));
client.on("error", (e) => console.error(`stream: ${e.message}`));

const peers = new Map(); // service name -> node
const announce = client.subscribe("announce", (msg) => {
  const a = JSON.parse(msg.text ?? "{}");
  if (a.service === service || peers.has(a.service)) return;
  peers.set(a.service, a.node);
  console.log(`found ${a.service} on ${a.node}`);
  if (a.node !== client.node) void client.send(a.node, "jobs", JSON.stringify({ from: service, text: `hello ${a.service}` }));
});
let hellos = 0;
const jobs = client.subscribe("jobs", (msg) => {
  console.log(`job from ${msg.from} (#${msg.seq}): ${msg.text}`);
  if (count > 0 && ++hellos >= count) stop(0);
});
await Promise.all([announce.ready, jobs.ready]);

const tell = () => client.publish("announce", JSON.stringify({ service, node: client.node, pid: process.pid })).catch((e) => console.error(e.message));
void tell();
const timer = setInterval(tell, 2000);

function stop(code) {
  clearInterval(timer);
  client.close();
  // Exit once what was printed has left (a pipe is written asynchronously).
  process.stdout.write("", () => process.exit(code));
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
