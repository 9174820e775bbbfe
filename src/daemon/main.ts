#!/usr/bin/env node
/**
 * gossipcheckd: read the configuration (flags, GOSSIPCHECKD_* variables,
 * config files; SIGHUP reads it again: reload.ts), check the ground
 * (safety, files, keyring), start the cluster node (node.ts) and the control API on it, join the
 * cluster in the background, and wait for a signal. With -metrics-bind and
 * -nodnod-bind, their servers start after the control API, the same way; with -discover, discovery
 * starts after the join (src/daemon/discovery.ts). Kept thin on purpose:
 * everything that must stop registers with Shutdown, which runs the steps
 * newest first (the control API closes, then the node leaves gracefully and
 * stops).
 */
import { actionContainment } from "../checks/cgroup.js";
import { formatHostPort } from "../cmdline/address.js";
import { startControlApi } from "./api/server.js";
import { LazyMetrics } from "./api/lazy_metrics.js";
import { startMetricsServer } from "./api/metrics_server.js";
import { checkConfig } from "./check_config.js";
import { loadDaemonConfig } from "./config_file.js";
import { hasClusterKey, loadDaemonKeyring } from "./keys.js";
import { createDaemonLogger } from "./logging.js";
import { startNode } from "./node.js";
import { preflight, writeAddressFile } from "./preflight.js";
import { holdSighup, liveTargets } from "./reload.js";
import { checkStartupSafety } from "./safety.js";
import { Shutdown } from "./shutdown.js";
import { VERSION } from "../cmdline/version.js";
import { flushCompileCache } from "../cmdline/compile_cache.js";
import { tuneV8ForDaemon } from "./v8_tuning.js";
import { startHeapTrim } from "./heap_trim.js";

/** How long a graceful leave may take to spread before the node stops anyway (ms). */
const LEAVE_TIMEOUT_MS = 2_000;

function exitWith(code: number, stderr: string, stdout = ""): never {
  if (stdout) process.stdout.write(stdout);
  if (stderr) process.stderr.write(stderr.endsWith("\n") ? stderr : stderr + "\n");
  process.exit(code);
}

tuneV8ForDaemon();
const sighup = holdSighup();

// Flags, GOSSIPCHECKD_* variables and config files (src/daemon/config_file.ts); SIGHUP reads them again.
const loadConfig = () => loadDaemonConfig(process.argv.slice(2), process.env);
const { outcome: parsed, sources } = loadConfig();
if (parsed.kind === "exit") exitWith(parsed.code, parsed.stderr, parsed.stdout);
const o = parsed.options;
if (parsed.checkConfig) {
  const r = await checkConfig(o, sources);
  exitWith(r.code, r.stderr, r.stdout);
}

const safety = checkStartupSafety(o, hasClusterKey(o));
if (safety.refusal) exitWith(2, `gossipcheckd: ${safety.refusal}`);
const ground = await preflight(o);
if (!ground.ok) exitWith(2, `gossipcheckd: ${ground.error}`);
const keys = loadDaemonKeyring(o);
if (!keys.ok) exitWith(2, `gossipcheckd: ${keys.error}`);
const { keyring, persistPath } = keys.value;

const log = await createDaemonLogger({ level: o.logLevel, format: o.logFormat, name: o.name });
for (const w of [...safety.warnings, ...ground.warnings, ...keys.value.warnings]) log.warn({}, w);
log.info({ keyring: keyring ? "on" : "off" }, keys.value.note);
if (o.actionsEnabled) {
  // Said once: what an action can leave running on this host (src/checks/action.ts).
  const c = actionContainment();
  if (c.kind === "cgroup")
    log.info({ actionCgroups: c.base }, `actions run in their own cgroup under ${c.base}: whatever an action leaves running is killed when it ends (unless its check sets keep_children)`);
  else log.warn({ actionCgroups: "off" }, `actions run in their process group only: ${c.reason}. A process an action starts with setsid, or that daemonizes, outlives it`);
}
const shutdown = new Shutdown(log);
// One registry for GET /metrics on the control API and on -metrics-bind,
// built on first use (lazy_metrics.ts says why), at start with -metrics-bind.
const metrics = new LazyMetrics({ defaultMetrics: true });
if (o.metricsBind) await metrics.registry();

const node = await startNode(o, {
  keyring,
  saveKeyring: (k) => k.save(persistPath),
  ...(ground.trustedKeys && { trustedKeys: ground.trustedKeys }),
  version: VERSION,
  log,
  metrics,
});
if (!node.ok) exitWith(2, `gossipcheckd: ${node.error}`);
const { backend, transport } = node;
shutdown.add("cluster node", () => backend.stop(LEAVE_TIMEOUT_MS));

let cliAddress: string | null = null;
if (o.cliBind) {
  const started = await startControlApi({ bind: o.cliBind, backend, log, limits: o.cliLimits, metrics, ...(ground.cliToken !== undefined && { token: ground.cliToken }) });
  if (!started.ok) exitWith(2, `gossipcheckd: -cli-bind ${formatHostPort(o.cliBind)}: ${started.error}`);
  cliAddress = started.api.address;
  shutdown.add("control API", () => started.api.close());
  if (o.cliAddrFile) {
    const file = o.cliAddrFile;
    await writeAddressFile(file, cliAddress).catch((e: Error) => exitWith(2, `gossipcheckd: -cli-addr-file ${file}: cannot write it (${e.message})`));
  }
}

let metricsAddress: string | null = null;
if (o.metricsBind) {
  const started = await startMetricsServer({ bind: o.metricsBind, metrics, health: () => backend.health(), log });
  if (!started.ok) exitWith(2, `gossipcheckd: -metrics-bind ${formatHostPort(o.metricsBind)}: ${started.error}`);
  metricsAddress = started.server.address;
  shutdown.add("metrics server", () => started.server.close());
}

// NodNod clients (src/daemon/nodnod): imported only with the flag, so the
// `ws` package costs a daemon without it neither start-up time nor memory.
let nodnodAddress: string | null = null;
if (o.nodnodBind) {
  const { startNodnodServer } = await import("./nodnod/server.js");
  const { clusterStatsSource } = await import("./nodnod/source.js");
  const started = await startNodnodServer({
    bind: o.nodnodBind,
    source: clusterStatsSource(o.name, backend),
    log,
    metrics,
    ...(ground.cliToken !== undefined && { token: ground.cliToken }),
  });
  if (!started.ok) exitWith(2, `gossipcheckd: -nodnod-bind ${formatHostPort(o.nodnodBind)}: ${started.error}`);
  nodnodAddress = started.server.address;
  shutdown.add("NodNod server", () => started.server.close());
}

const peers = o.peers.map(formatHostPort);
const bind = formatHostPort({ host: o.bind.host, port: transport.port });
log.info(
  {
    name: o.name,
    version: VERSION,
    bind,
    address: transport.address,
    advertise: transport.address,
    cli: cliAddress,
    metrics: metricsAddress,
    nodnod: nodnodAddress,
    peers,
    dataDir: o.dataDir,
    profile: o.profile,
    actions: o.actionsEnabled,
    encrypted: keyring !== null,
  },
  `gossipcheckd ${VERSION} started: node ${o.name}, cluster address ${transport.address}, cli ${cliAddress ?? "off"}`,
);

sighup.start(o, loadConfig, liveTargets(log, backend), log);
// Serving: now what nothing needed until here (the history database; a
// batch or query arriving first opens it itself), the compile cache
// written, so the next start finds it even if this one is killed, and the
// heap trimmer, which gives memory back after busy spells (Node 22 and
// later; src/daemon/heap_trim.ts; its vm context costs about 1 ms).
setImmediate(() => {
  backend.finishStart();
  flushCompileCache();
  const heapTrim = startHeapTrim({ log });
  if (heapTrim) shutdown.add("heap trim", async () => heapTrim.stop());
});

// In the background: swim retries unanswered seeds with back-off itself.
// A refusal (this name is taken) cannot get better by waiting: exit 2.
backend.join(peers).catch((err: Error) => {
  if (backend.isStopping) return;
  log.error({ peers, err: err.message }, `could not join the cluster: ${err.message}`);
  exitWith(2, `gossipcheckd: ${err.message}`);
});
// -discover (src/daemon/discovery.ts): after join() has started the membership, so a node heard is joined at once.
// Imported only with the flag, like NodNod.
if (o.discover) {
  const { startDiscovery } = await import("./discovery.js");
  const started = await startDiscovery({ options: o.discover, name: o.name, label: o.label, address: transport.address, keyring, backend, log, metrics });
  if (!started.ok) exitWith(2, `gossipcheckd: ${started.error}`);
  shutdown.add("discovery", () => started.value.stop());
}
