#!/usr/bin/env node
/**
 * gossipcheckd: parse flags, check the ground, start the control API on a
 * backend, wait for a signal. Kept thin on purpose: the backend (today
 * SingleNodeBackend, later swim + gossip) is built in one place below, and
 * everything that must stop registers with Shutdown.
 */
import { formatHostPort } from "./address.js";
import { startControlApi } from "./api.js";
import { parseDaemonFlags } from "./flags.js";
import { createDaemonLogger } from "./logging.js";
import { preflight, writeAddressFile } from "./preflight.js";
import { checkStartupSafety } from "./safety.js";
import { Shutdown } from "./shutdown.js";
import { SingleNodeBackend } from "./single_node.js";
import { VERSION } from "./version.js";

function exitWith(code: number, stderr: string, stdout = ""): never {
  if (stdout) process.stdout.write(stdout);
  if (stderr) process.stderr.write(stderr.endsWith("\n") ? stderr : stderr + "\n");
  process.exit(code);
}

const parsed = parseDaemonFlags(process.argv.slice(2));
if (parsed.kind === "exit") exitWith(parsed.code, parsed.stderr, parsed.stdout);
const o = parsed.options;

const safety = checkStartupSafety(o, o.keyFile !== undefined || o.keyringFile !== undefined);
if (safety.refusal) exitWith(2, `gossipcheckd: ${safety.refusal}`);
const ground = await preflight(o);
if (!ground.ok) exitWith(2, `gossipcheckd: ${ground.error}`);

const log = await createDaemonLogger(o.logLevel, { name: o.name });
for (const w of [...safety.warnings, ...ground.warnings]) log.warn({}, w);
const shutdown = new Shutdown(log);

const address = formatHostPort(o.advertise);
const backend = new SingleNodeBackend({
  name: o.name,
  address,
  tags: o.tags,
  version: VERSION,
  actionsEnabled: o.actionsEnabled,
  ...(ground.trustedKeys && { trustedKeys: ground.trustedKeys }),
});

let cliAddress: string | null = null;
if (o.cliBind) {
  const started = await startControlApi({ bind: o.cliBind, backend, log, ...(ground.cliToken !== undefined && { token: ground.cliToken }) });
  if (!started.ok) exitWith(2, `gossipcheckd: -cli-bind ${formatHostPort(o.cliBind)}: ${started.error}`);
  cliAddress = started.api.address;
  shutdown.add("control API", () => started.api.close());
  if (o.cliAddrFile) {
    const file = o.cliAddrFile;
    await writeAddressFile(file, cliAddress).catch((e: Error) => exitWith(2, `gossipcheckd: -cli-addr-file ${file}: cannot write it (${e.message})`));
  }
}

log.info(
  { name: o.name, version: VERSION, bind: formatHostPort(o.bind), advertise: address, cli: cliAddress, peers: o.peers.map(formatHostPort), dataDir: o.dataDir, profile: o.profile, actions: o.actionsEnabled },
  `gossipcheckd ${VERSION} started: node ${o.name}, bind ${formatHostPort(o.bind)}, cli ${cliAddress ?? "off"}`,
);
