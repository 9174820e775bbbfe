import { Command } from "commander";
import { homedir, hostname, networkInterfaces } from "node:os";
import { isIPv4 } from "node:net";
import { join } from "node:path";
import { parseDuration } from "../checks/duration.js";
import { API_LIMIT_BOUNDS, type ApiLimits, DEFAULT_API_LIMITS } from "./api/limits.js";
import { type HostPort, formatHostPort, isUnspecifiedHost, parseHostPort } from "../cmdline/address.js";
import { type ParseExit, commanderExit, flagShapes, goStyleHelp, normalizeGoArgv } from "../cmdline/goflags.js";
import { VERSION } from "../cmdline/version.js";
import type { Result } from "../base/result.js";
import { DEFAULT_CLI_BIND } from "../control/defaults.js";
import { parseTags } from "../cmdline/tags.js";
import { MAX_LABEL_BYTES } from "../net/guard.js";
import { lanConfig, PROFILE_NAMES, type ProfileName } from "../swim/config.js";
import { closest } from "../base/suggest.js";
import { parseTriggerSpec, TRIGGER_EVENTS, type TriggerSpec } from "../triggers/index.js";
import { MAX_WEIGHT, WEIGHT_TAG } from "../swim/coordinator.js";

/*
 * gossipcheckd's command line: the original's flags (-bind, -peers,
 * -cli-bind, -no-cli, -gossip-group) plus those later issues need
 * (membership profile and tags, security, data dir). Everything is validated
 * here, before anything starts, so a typo costs one clear line and exit code
 * 2 rather than a half-started daemon.
 */

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** auto: pretty on a terminal, JSON lines otherwise (src/daemon/logging.ts). */
export const LOG_FORMATS = ["auto", "json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The original's port; the host is honoured (the original ignored it). */
export const DEFAULT_BIND = "0.0.0.0:3505";
/** Big enough for a 10 MB batch and its envelope (bytes). */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
const MIN_FRAME_SIZE = 64 * 1024;
const MAX_FRAME_SIZE = 1024 * 1024 * 1024;

export interface DaemonOptions {
  /** Where the membership (UDP) and dissemination (TCP) port listens. */
  bind: HostPort;
  /**
   * The address other nodes dial: -advertise, else the bind address, else
   * (bind on 0.0.0.0 or ::) the first non-internal IPv4 address of this host.
   */
  advertise: HostPort;
  /** Seeds to join through; a seed written without a port uses our bind port. */
  peers: HostPort[];
  /** Control API address; null with -no-cli. Port 0 picks a free port. */
  cliBind: HostPort | null;
  /** When set, the control API's actual address is written there once it listens. */
  cliAddrFile?: string;
  /** File holding the bearer token the control API requires. */
  cliTokenFile?: string;
  /** The control API's timeouts and connection cap (src/daemon/api/limits.ts says what each costs). */
  cliLimits: ApiLimits;
  /** Where the read-only metrics server (GET /metrics, /healthz, no token) listens; absent = off. */
  metricsBind?: HostPort;
  /** Where NodNod's websocket stats protocol is served (src/daemon/nodnod); absent = off. Same token and loopback rule as the control API. */
  nodnodBind?: HostPort;
  /** Members each node forwards a new envelope to in the burst (>= 1). */
  gossipGroup: number;
  name: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** SWIM timing profile (src/swim config). */
  profile: ProfileName;
  tags: Record<string, string>;
  /** Seen-history and keyring live here; created (0700) at startup. */
  dataDir: string;
  keyFile?: string;
  keyringFile?: string;
  /** Cluster label bound into every packet's authenticated data ("" = none). */
  label: string;
  /** Allows a non-loopback -bind without a cluster key. */
  insecure: boolean;
  /** False with -no-actions: checks are evaluated and reported, actions never run. */
  actionsEnabled: boolean;
  /** Directory of trusted operator public keys: only batches signed by one run. */
  trustedKeysDir?: string;
  /** Largest TCP frame accepted or sent (bytes). */
  maxFrameSize: number;
  /** Every check file in it is a local schedule (src/schedule/checks_dir.ts); reloaded on SIGHUP. */
  checksDir?: string;
  /** Trigger scripts by event (-on EVENT=SCRIPT, repeatable); reloaded on SIGHUP. */
  triggers: TriggerSpec[];
  /** History kept at most this long (ms) and this large (bytes). */
  historyRetentionMs: number;
  historyMaxBytes: number;
  /** The flap guard: at most flapMaxActions action runs per scheduled check per flapWindowMs. */
  flapMaxActions: number;
  flapWindowMs: number;
  /** -weight: this node's claim to be coordinator (highest wins), advertised as the WEIGHT_TAG tag when above 0. */
  weight: number;
  /** -coordinators K: how many coordinators the cluster has. */
  coordinators: number;
  /** -coordinator-quorum: no coordinator on a side that sees no majority of the last stable cluster size. */
  coordinatorQuorum: boolean;
  /** -discover: announce this node and join the nodes heard on the segment (src/daemon/discovery.ts); absent = off. */
  discover?: DiscoverOptions;
}

/** The tags this node advertises: -tag's, plus -weight's reserved tag when the weight is above 0. */
export function memberTags(o: Pick<DaemonOptions, "tags" | "weight">): Record<string, string> {
  return o.weight > 0 ? { ...o.tags, [WEIGHT_TAG]: String(o.weight) } : { ...o.tags };
}

/** The default -discover-group: in 239.255.0.0/16 (RFC 2365's IPv4 Local Scope, never routed off the site) on the port after the cluster port's default. */
export const DEFAULT_DISCOVER_GROUP = "239.255.35.5:3506";

export interface DiscoverOptions {
  /** Multicast group (224.0.0.0/4) or, any other IPv4 address, a broadcast address; and the port. */
  group: HostPort;
  /** IPv4 address of the interface hellos go out and come in on: -discover-interface, else -bind's host unless it is a wildcard; absent = the system's choice. */
  interfaceAddress?: string;
}

/** What the defaults depend on, injectable for tests. */
export interface FlagContext {
  hostname: string;
  homeDir: string;
  isRoot: boolean;
  /** Non-internal IPv4 addresses of this host, in interface order. */
  externalIPv4: string[];
}

export function systemFlagContext(): FlagContext {
  const externalIPv4: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) externalIPv4.push(a.address);
  }
  return { hostname: hostname(), homeDir: homedir(), isRoot: process.getuid?.() === 0, externalIPv4 };
}

/** checkConfig: -check-config was given (validate, report, exit; src/daemon/check_config.ts). */
export type FlagsOutcome = { kind: "run"; options: DaemonOptions; checkConfig: boolean } | ({ kind: "exit" } & ParseExit);

/**
 * Values from outside the command line: config files and GOSSIPCHECKD_*
 * variables (src/daemon/config_file.ts). `apply` sets, on the parsed
 * program, the raw value of every flag the command line did not give
 * (commander records each value's source), so files and variables go
 * through the same validation as flags. `sourceOf` names where a flag's
 * value came from (`FILE: key "bind"`, `GOSSIPCHECKD_BIND`), so an error
 * about it names that; undefined for the command line and defaults.
 */
export interface FlagLayers {
  apply(cmd: Command): Result<void, string[]>;
  sourceOf(flag: string): string | undefined;
}

/** How flags, variables and files combine; the end of -help and the README say the same. */
export const CONFIG_HELP = `
Configuration: every flag except -config-file, -config-dir and -check-config can also be
set in a JSON config file (keys are flag names without the dash: {"bind": ":3505",
"peers": ["10.0.0.1"], "tag": {"role": "web"}, "no-actions": true}) or in an environment
variable GOSSIPCHECKD_<FLAG> (GOSSIPCHECKD_LOG_LEVEL=debug; lists comma-separated).
Precedence: flags > environment > files (-config-file in order, then each -config-dir's
*.json in lexical order; a later file wins). Tags merge by name; every other key is
replaced whole. SIGHUP re-reads all of it: -log-level, -tag, -trusted-keys,
-no-actions, -on, -checks-dir (its files too), -weight, -coordinators and
-coordinator-quorum change live; anything else is kept until a restart (and logged).
`;

function program(out: { text: string }): Command {
  const collect = (v: string, prev: string[] = []) => [...prev, v];
  return new Command("gossipcheckd")
    .description("gossipcheck node daemon: joins the cluster, runs check batches, serves the control API for gcheck")
    .exitOverride()
    .allowExcessArguments(true)
    .configureOutput({ writeOut: (s) => void (out.text += s), writeErr: (s) => void (out.text += s), outputError: () => {} })
    .configureHelp(goStyleHelp())
    .helpOption("-h, --help", "show this help")
    .version(VERSION, "--version", "print the version and exit")
    .option("--bind <host:port>", 'address for cluster traffic (UDP + TCP); ":3505" means every interface', DEFAULT_BIND)
    .option("--advertise <host:port>", "address other nodes dial (default: the bind address, or this host's first external IPv4)")
    .option("--peers <list>", "comma-separated seeds to join (host[:port], the port defaults to ours)")
    .option("--cli-bind <host:port>", "control API address for gcheck (non-loopback needs -cli-token-file)", DEFAULT_CLI_BIND)
    .option("--cli-addr-file <file>", "write the control API's actual host:port there once listening (for -cli-bind port 0)")
    .option("--cli-token-file <file>", "bearer token the control API requires")
    .option("--cli-headers-timeout <duration>", "close a control connection whose request headers take longer (e.g. 10s, 500ms)", durationText(DEFAULT_API_LIMITS.headersTimeoutMs))
    .option(
      "--cli-request-timeout <duration>",
      "close a control connection whose request (body included) takes longer to arrive; responses are not limited",
      durationText(DEFAULT_API_LIMITS.requestTimeoutMs),
    )
    .option("--cli-max-connections <n>", "most control connections open at once (idle and half-open ones are closed first)", String(DEFAULT_API_LIMITS.maxConnections))
    .option("--no-cli", "do not start the control API")
    .option("--metrics-bind <host:port>", "serve GET /metrics and /healthz there, read-only and without a token (default: off)")
    .option("--nodnod-bind <host:port>", "serve NodNod's websocket stats protocol there, for NodNod clients (non-loopback needs -cli-token-file; default: off)")
    .option("--gossip-group <n>", "members a new batch is forwarded to in the burst", "5")
    .option("--name <name>", "unique node name (default: host name)")
    .option("--log-level <level>", `one of ${LOG_LEVELS.join(", ")}`, "info")
    .option("--log-format <format>", "json (one object per line), pretty (one line per event) or auto (pretty on a terminal, else json)", "auto")
    .option("--profile <profile>", "SWIM timing: lan (memberlist LAN defaults) or local (fast, single host)", "lan")
    .option("--tag <key=value>", "tag advertised with this member, for targeting (repeatable)", collect)
    .option("--data-dir <dir>", "state directory (default: ~/.local/state/gossipcheck, /var/lib/gossipcheck as root)")
    .option("--key-file <file>", "cluster key (base64, 32 bytes): encrypts all cluster traffic")
    .option("--keyring-file <file>", "keyring file (several keys, first is primary)")
    .option("--label <label>", "cluster label, bound into every packet so clusters cannot mix")
    .option("--insecure", "allow a non-loopback -bind without a cluster key")
    .option("--no-actions", "evaluate checks but never run their actions")
    .option("--trusted-keys <dir>", "directory of operator public keys: run only batches, and apply only key changes, signed by one of them")
    .option("--checks-dir <dir>", "run every check file in it (*.json, *.yaml) on its checks' intervals; reloaded on SIGHUP")
    .option("--on <event=script>", `run SCRIPT (through /bin/sh) on EVENT, one of ${TRIGGER_EVENTS.join(", ")}, user:NAME (gcheck event NAME), query:NAME (gcheck query NAME) (repeatable)`, collect)
    .option("--history-retention <duration>", "keep batches, transitions and the audit log this long (e.g. 30d, 12h)", "30d")
    .option("--history-max-bytes <bytes>", "largest history database (bytes, or with K/KiB/M/MiB/G); the oldest entries go first", "256MiB")
    .option("--flap-guard <n/duration>", "at most n action runs per scheduled check in this window; past it the action is suppressed", "3/10m")
    .option("--weight <n>", `this node's weight in the coordinator choice: the heaviest running members are the coordinators, then the smallest name (0 to ${MAX_WEIGHT})`, "0")
    .option("--coordinators <k>", "how many coordinators the cluster has (the k heaviest running members)", "1")
    .option("--coordinator-quorum", "name no coordinator while this node sees no majority of the last stable cluster size (a partition's minority side has none)")
    .option("--max-frame-size <bytes>", "largest TCP frame (bytes, or with K/KiB/M/MiB)", String(DEFAULT_MAX_FRAME_SIZE))
    .option("--config-file <file>", "JSON config file (repeatable; a later file wins over an earlier one)", collect)
    .option("--config-dir <dir>", "read every *.json in it, in lexical order, after the -config-file files (repeatable)", collect)
    .option("--discover", "find and join the nodes of this cluster on the local network segment by sealed hello datagrams (needs a cluster key off loopback)")
    .option("--discover-group <ip:port>", "multicast group for -discover hellos, or a broadcast address such as 10.0.0.255:3506", DEFAULT_DISCOVER_GROUP)
    .option("--discover-interface <ip>", "IPv4 address of the interface -discover uses (default: -bind's host, or the system's choice for a wildcard -bind)")
    .option("--check-config", "validate the configuration and the files it names, print a summary and exit (0 valid, 2 not)")
    .addHelpText("after", CONFIG_HELP);
}

interface RawFlags {
  bind: string;
  advertise?: string;
  peers?: string;
  cliBind: string;
  cliAddrFile?: string;
  cliTokenFile?: string;
  cliHeadersTimeout: string;
  cliRequestTimeout: string;
  cliMaxConnections: string;
  cli: boolean;
  metricsBind?: string;
  nodnodBind?: string;
  gossipGroup: string;
  name?: string;
  logLevel: string;
  logFormat: string;
  profile: string;
  tag?: string[];
  dataDir?: string;
  keyFile?: string;
  keyringFile?: string;
  label?: string;
  insecure?: boolean;
  actions: boolean;
  trustedKeys?: string;
  maxFrameSize: string;
  checksDir?: string;
  on?: string[];
  historyRetention: string;
  historyMaxBytes: string;
  flapGuard: string;
  weight: string;
  coordinators: string;
  coordinatorQuorum?: boolean;
  checkConfig?: boolean;
  discover?: boolean;
  discoverGroup: string;
  discoverInterface?: string;
}

/**
 * Parses and validates argv (without node and script). Pure: touches no
 * file; defaults come from ctx. With layers, values from config files and
 * the environment fill in what the command line did not give.
 */
export function parseDaemonFlags(argv: readonly string[], ctx: FlagContext = systemFlagContext(), layers?: FlagLayers): FlagsOutcome {
  const out = { text: "" };
  const cmd = program(out);
  try {
    cmd.parse(normalizeGoArgv(argv, flagShapes(cmd)), { from: "user" });
  } catch (err) {
    return { kind: "exit", ...commanderExit(err, "gossipcheckd", out.text) };
  }
  const fail = (message: string): FlagsOutcome => ({ kind: "exit", code: 2, stdout: "", stderr: `${message} (see gossipcheckd -help)\n` });
  if (cmd.args.length) return fail(`unexpected argument "${cmd.args[0]}": gossipcheckd takes only flags`);
  const layered = layers?.apply(cmd);
  if (layered && !layered.ok) return { kind: "exit", code: 2, stdout: "", stderr: layered.error.map((e) => e + "\n").join("") };
  const raw = cmd.opts<RawFlags>();
  const r = validate(raw, ctx);
  if (r.ok) return { kind: "run", options: r.value, checkConfig: raw.checkConfig === true };
  // Every message starts with the flag it is about: name its file or variable too.
  const source = layers?.sourceOf(/^-([a-z][a-z0-9-]*)/.exec(r.error)?.[1] ?? "");
  return fail(source ? `${source}: ${r.error}` : r.error);
}

function validate(f: RawFlags, ctx: FlagContext): Result<DaemonOptions> {
  const addr = (flag: string, value: string, rules: Parameters<typeof parseHostPort>[1], form: string): HostPort | string => {
    const p = parseHostPort(value, rules);
    return p.ok ? p.value : `-${flag} "${value}": ${p.error}; expected ${form}`;
  };
  const bind = addr("bind", f.bind, { defaultHost: "0.0.0.0", allowPortZero: true }, "host:port, e.g. 127.0.0.1:2000 or :3505");
  if (typeof bind === "string") return err(bind);

  let advertise: HostPort;
  if (f.advertise !== undefined) {
    const a = addr("advertise", f.advertise, { defaultPort: bind.port || undefined }, "host:port that other nodes can dial");
    if (typeof a === "string") return err(a);
    if (isUnspecifiedHost(a.host)) return err(`-advertise "${f.advertise}": ${a.host} cannot be dialled; give this node's reachable IP or name`);
    advertise = a;
  } else if (isUnspecifiedHost(bind.host)) {
    const ip = ctx.externalIPv4[0];
    if (!ip) return err(`-bind ${formatHostPort(bind)} listens everywhere but this host has no external IPv4 address to advertise; set -advertise host:port`);
    advertise = { host: ip, port: bind.port };
  } else {
    advertise = bind;
  }

  const peers: HostPort[] = [];
  for (const item of (f.peers ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")) {
    // Our own port stands in for a missing one (as the original); with
    // -bind port 0 there is no such port, so the seed must name one.
    const p = addr("peers", item, { defaultPort: bind.port || undefined }, "comma-separated host[:port], e.g. 10.0.0.1:3505,10.0.0.2");
    if (typeof p === "string") return err(p);
    peers.push(p);
  }

  let cliBind: HostPort | null = null;
  if (f.cli) {
    const c = addr("cli-bind", f.cliBind, { allowPortZero: true }, "host:port, e.g. 127.0.0.1:5924");
    if (typeof c === "string") return err(c);
    cliBind = c;
  }

  let metricsBind: HostPort | undefined;
  if (f.metricsBind !== undefined) {
    const m = addr("metrics-bind", f.metricsBind, { defaultHost: "0.0.0.0", allowPortZero: true }, "host:port, e.g. 127.0.0.1:9924 or :9924");
    if (typeof m === "string") return err(m);
    metricsBind = m;
  }

  let nodnodBind: HostPort | undefined;
  if (f.nodnodBind !== undefined) {
    const m = addr("nodnod-bind", f.nodnodBind, { defaultHost: "0.0.0.0", allowPortZero: true }, "host:port, e.g. 127.0.0.1:7070 or :7070");
    if (typeof m === "string") return err(m);
    nodnodBind = m;
  }

  const cliLimits = parseCliLimits(f);
  if (!cliLimits.ok) return cliLimits;

  const gossipGroup = Number(f.gossipGroup);
  if (!/^\d+$/.test(f.gossipGroup.trim()) || gossipGroup < 1 || gossipGroup > 1000) {
    return err(`-gossip-group "${f.gossipGroup}": expected a whole number from 1 to 1000`);
  }

  const name = f.name ?? ctx.hostname;
  // The limits are the membership layer's (src/swim/config.ts): one home.
  const limits = lanConfig();
  if (!/^[\x21-\x7e]+$/.test(name) || Buffer.byteLength(name) > limits.maxNameBytes) {
    return err(`-name "${name}": expected 1 to ${limits.maxNameBytes} printable characters without spaces`);
  }

  const guess = (v: string, known: readonly string[]) => (closest(v, known) ? ` (did you mean ${closest(v, known)}?)` : "");
  if (!(LOG_LEVELS as readonly string[]).includes(f.logLevel)) return err(`-log-level "${f.logLevel}": expected one of ${LOG_LEVELS.join(", ")}${guess(f.logLevel, LOG_LEVELS)}`);
  if (!(LOG_FORMATS as readonly string[]).includes(f.logFormat)) return err(`-log-format "${f.logFormat}": expected ${LOG_FORMATS.join(", ")}${guess(f.logFormat, LOG_FORMATS)}`);
  if (!(PROFILE_NAMES as readonly string[]).includes(f.profile)) return err(`-profile "${f.profile}": expected ${PROFILE_NAMES.join(" or ")}${guess(f.profile, PROFILE_NAMES)}`);

  const tags = parseTags(f.tag ?? [], limits.maxTagBytes);
  if (!tags.ok) return tags;
  if (Object.hasOwn(tags.value, WEIGHT_TAG)) return err(`-tag ${WEIGHT_TAG}: the tag is reserved for -weight; set -weight N instead`);
  const weightText = String(f.weight).trim();
  const weight = Number(weightText);
  if (!/^\d{1,7}$/.test(weightText) || weight > MAX_WEIGHT) return err(`-weight "${f.weight}": expected a whole number from 0 to ${MAX_WEIGHT}`);
  // The weight travels as a tag: it counts in the same size limit.
  if (weight > 0) {
    const withWeight = parseTags([...(f.tag ?? []), `${WEIGHT_TAG}=${weight}`], limits.maxTagBytes);
    if (!withWeight.ok) return err(`${withWeight.error} (with -weight's tag ${WEIGHT_TAG})`);
  }
  const coordinatorsText = String(f.coordinators).trim();
  const coordinators = Number(coordinatorsText);
  if (!/^\d{1,4}$/.test(coordinatorsText) || coordinators < 1) return err(`-coordinators "${f.coordinators}": expected a whole number of coordinators, at least 1 (at most 9999)`);

  const label = f.label ?? "";
  if (Buffer.byteLength(label) > MAX_LABEL_BYTES) return err(`-label: ${Buffer.byteLength(label)} bytes is too long; at most ${MAX_LABEL_BYTES}`);

  const maxFrameSize = parseByteSize(f.maxFrameSize);
  if (maxFrameSize === undefined || maxFrameSize < MIN_FRAME_SIZE || maxFrameSize > MAX_FRAME_SIZE) {
    return err(`-max-frame-size "${f.maxFrameSize}": expected a size from 64KiB to 1GiB, e.g. 16MiB or 16777216`);
  }

  const triggers: TriggerSpec[] = [];
  for (const text of f.on ?? []) {
    const t = parseTriggerSpec(text);
    if (!t.ok) return err(t.error);
    triggers.push(t.value);
  }
  const historyRetentionMs = parseDuration(f.historyRetention);
  if (historyRetentionMs === null || historyRetentionMs < 60_000) return err(`-history-retention "${f.historyRetention}": expected a duration of at least 1m, e.g. 30d or 12h`);
  const historyMaxBytes = parseByteSize(f.historyMaxBytes);
  if (historyMaxBytes === undefined || historyMaxBytes < 1024 * 1024) return err(`-history-max-bytes "${f.historyMaxBytes}": expected a size of at least 1MiB, e.g. 256MiB or 1GiB`);
  const flap = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(f.flapGuard);
  const flapWindowMs = flap ? parseDuration(flap[2]!) : null;
  if (!flap || flapWindowMs === null || flapWindowMs < 1000 || Number(flap[1]) < 1)
    return err(`-flap-guard "${f.flapGuard}": expected RUNS/WINDOW such as 3/10m (at least 1 run, a window of at least 1s)`);

  const empty = (flag: string, v: string | undefined) => (v !== undefined && v.trim() === "" ? `-${flag}: the path is empty` : undefined);
  for (const [flag, v] of [
    ["data-dir", f.dataDir],
    ["key-file", f.keyFile],
    ["keyring-file", f.keyringFile],
    ["trusted-keys", f.trustedKeys],
    ["cli-token-file", f.cliTokenFile],
    ["cli-addr-file", f.cliAddrFile],
    ["checks-dir", f.checksDir],
  ] as const) {
    const e = empty(flag, v);
    if (e) return err(e);
  }
  const dataDir = f.dataDir ?? (ctx.isRoot ? "/var/lib/gossipcheck" : join(ctx.homeDir, ".local/state/gossipcheck"));
  const discover = parseDiscover(f, bind);
  if (!discover.ok) return discover;

  return {
    ok: true,
    value: {
      bind,
      advertise,
      peers,
      cliBind,
      ...(f.cliAddrFile !== undefined && { cliAddrFile: f.cliAddrFile }),
      ...(f.cliTokenFile !== undefined && { cliTokenFile: f.cliTokenFile }),
      cliLimits: cliLimits.value,
      ...(metricsBind && { metricsBind }),
      ...(nodnodBind && { nodnodBind }),
      gossipGroup,
      name,
      logLevel: f.logLevel as LogLevel,
      logFormat: f.logFormat as LogFormat,
      profile: f.profile as ProfileName,
      tags: tags.value,
      dataDir,
      ...(f.keyFile !== undefined && { keyFile: f.keyFile }),
      ...(f.keyringFile !== undefined && { keyringFile: f.keyringFile }),
      label,
      insecure: f.insecure === true,
      actionsEnabled: f.actions,
      ...(f.trustedKeys !== undefined && { trustedKeysDir: f.trustedKeys }),
      maxFrameSize,
      ...(f.checksDir !== undefined && { checksDir: f.checksDir }),
      triggers,
      historyRetentionMs,
      historyMaxBytes,
      flapMaxActions: Number(flap[1]),
      flapWindowMs,
      weight,
      coordinators,
      coordinatorQuorum: f.coordinatorQuorum === true,
      ...(discover.value && { discover: discover.value }),
    },
  };
}

/** -discover, -discover-group and -discover-interface; undefined without -discover. */
function parseDiscover(f: RawFlags, bind: HostPort): Result<DiscoverOptions | undefined> {
  const group = parseHostPort(f.discoverGroup, {});
  if (!group.ok || !isIPv4(group.value.host))
    return err(
      `-discover-group "${f.discoverGroup}": ${group.ok ? "not an IPv4 address" : group.error}; expected ip:port, a multicast group such as ${DEFAULT_DISCOVER_GROUP} or a broadcast address such as 10.0.0.255:3506`,
    );
  const iface = f.discoverInterface?.trim();
  if (iface !== undefined && !isIPv4(iface)) return err(`-discover-interface "${f.discoverInterface}": expected the IPv4 address of an interface of this host, e.g. 10.0.0.5`);
  if (!f.discover) return { ok: true, value: undefined };
  const interfaceAddress = iface ?? (isIPv4(bind.host) && !isUnspecifiedHost(bind.host) ? bind.host : undefined);
  return { ok: true, value: { group: group.value, ...(interfaceAddress !== undefined && { interfaceAddress }) } };
}

function err<T>(error: string): Result<T> {
  return { ok: false, error };
}

/** 10000 -> "10s", 1500 -> "1500ms": how a default reads in -help. */
function durationText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function parseCliLimits(f: RawFlags): Result<ApiLimits> {
  const { timeoutMs: t, maxConnections: c } = API_LIMIT_BOUNDS;
  const timeout = (flag: string, v: string): number | string => {
    const ms = parseDuration(v);
    return ms !== null && ms >= t.min && ms <= t.max ? ms : `-${flag} "${v}": expected a duration from ${t.min}ms to 1h, e.g. 10s or 500ms`;
  };
  const headersTimeoutMs = timeout("cli-headers-timeout", f.cliHeadersTimeout);
  if (typeof headersTimeoutMs === "string") return err(headersTimeoutMs);
  const requestTimeoutMs = timeout("cli-request-timeout", f.cliRequestTimeout);
  if (typeof requestTimeoutMs === "string") return err(requestTimeoutMs);
  // Node refuses a headers timeout longer than the request timeout: the request includes its headers.
  if (headersTimeoutMs > requestTimeoutMs)
    return err(
      `-cli-headers-timeout ${f.cliHeadersTimeout} is longer than -cli-request-timeout ${f.cliRequestTimeout}: the request timeout covers the headers too; raise it or lower the headers timeout`,
    );
  const maxConnections = Number(f.cliMaxConnections);
  if (!/^\d+$/.test(f.cliMaxConnections.trim()) || maxConnections < c.min || maxConnections > c.max) {
    return err(`-cli-max-connections "${f.cliMaxConnections}": expected a whole number from ${c.min} to ${c.max}`);
  }
  return { ok: true, value: { ...DEFAULT_API_LIMITS, headersTimeoutMs, requestTimeoutMs, maxConnections } };
}

/** "16777216", "64K", "64KiB", "16M", "16MiB", "1G" (binary units) -> bytes, or undefined. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase()[0] ?? "";
  const mult = unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}
