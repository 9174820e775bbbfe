import { isDeepStrictEqual } from "node:util";
import type { Logger } from "../base/logger.js";
import { errorMessage } from "../base/result.js";
import { formatHostPort, type HostPort } from "../cmdline/address.js";
import { loadTrustedKeys, type TrustedKeys } from "../gossip/signing.js";
import type { ClusterBackend } from "./cluster/backend.js";
import type { LoadedConfig } from "./config_file.js";
import { type DaemonOptions, type LogLevel, memberTags } from "./flags.js";
import type { TriggerSpec } from "../triggers/index.js";

/*
 * SIGHUP: re-read the configuration (the same command line, the
 * environment, the config files and dirs again) and apply what can change
 * while the daemon runs:
 *   log-level     the logger's level;
 *   tag           spread as a member update with a new incarnation; batch
 *                 and stats targeting on this node follow;
 *   trusted-keys  the directory is read again (even when its path is the
 *                 same: adding or removing a .pub is the usual change);
 *   no-actions    batches that arrive from now on follow it;
 *   weight        its tag spreads like -tag's (the coordinators follow on
 *                 every node);
 *   coordinators, coordinator-quorum  this node's coordinator choice.
 * Anything else that changed (bind, name, data dir, key files, profile, ...)
 * is logged and kept as it is: it needs a restart. The environment is the
 * one the daemon started with (a process cannot see its parent's changes).
 *
 * All or nothing: the new configuration is parsed and validated, and the
 * trusted keys read, before anything is applied, so a bad file or value is
 * logged (naming the file and key, or the variable) and the running daemon
 * stays exactly as it was. One line per changed key, then a summary.
 */

/** What a reload can change on the running daemon (main.ts wires the logger and the cluster backend). */
export interface LiveTargets {
  setLogLevel(level: LogLevel): void;
  /** Throws, changing nothing, when the membership layer refuses the tags. */
  setTags(tags: Record<string, string>): void;
  setTrustedKeys(keys: TrustedKeys | undefined): void;
  setActionsEnabled(on: boolean): void;
  /** -coordinators and -coordinator-quorum. */
  setCoordinators(config: { count: number; quorum: boolean }): void;
  /** -checks-dir read again (on every reload: its files may have changed) and -on replaced. */
  setWatch(checksDir: string | undefined, triggers: TriggerSpec[]): Promise<void>;
}

/** The running daemon's: its logger (pino: children follow the root's level) and its cluster backend. */
export function liveTargets(logger: { level: string }, backend: ClusterBackend): LiveTargets {
  return {
    setLogLevel: (level) => void (logger.level = level),
    setTags: (tags) => backend.setTags(tags),
    setTrustedKeys: (keys) => backend.setTrustedKeys(keys),
    setActionsEnabled: (on) => backend.setActionsEnabled(on),
    setCoordinators: (config) => backend.setCoordinatorConfig(config),
    setWatch: (dir, triggers) => backend.setWatch(dir, triggers),
  };
}

/** Options a reload applies; every other changed option needs a restart. */
const LIVE: ReadonlySet<keyof DaemonOptions> = new Set(["logLevel", "tags", "trustedKeysDir", "actionsEnabled", "checksDir", "triggers", "weight", "coordinators", "coordinatorQuorum"]);

/** The flag (config key) behind each option, for the log; others are named by their field in kebab case. */
const FLAG_OF: Partial<Record<keyof DaemonOptions, string>> = {
  cliBind: "cli-bind",
  cliLimits: "cli-headers-timeout/cli-request-timeout/cli-max-connections",
  tags: "tag",
  actionsEnabled: "no-actions",
  trustedKeysDir: "trusted-keys",
  triggers: "on",
};

export function flagOf(key: string): string {
  return FLAG_OF[key as keyof DaemonOptions] ?? key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** A value as the log line shows it: addresses as host:port, tags as k=v, the rest as JSON. */
function show(key: string, v: unknown): string {
  if (v === undefined) return "(unset)";
  if (v === null) return "off";
  if (key === "actionsEnabled") return v ? "actions run" : "no actions";
  if (key === "tags")
    return (
      Object.entries(v as Record<string, string>)
        .map(([k, x]) => `${k}=${x}`)
        .join(",") || "(none)"
    );
  const hp = (x: unknown) => typeof x === "object" && x !== null && "host" in x && "port" in x;
  if (hp(v)) return formatHostPort(v as HostPort);
  if (Array.isArray(v) && v.every(hp)) return v.map((x) => formatHostPort(x as HostPort)).join(",") || "(none)";
  return typeof v === "string" ? v : JSON.stringify(v);
}

export interface ReloadOutcome {
  /** The options now in effect (the old ones where nothing could change). */
  running: DaemonOptions;
  /** Flags whose change was applied / kept for a restart; empty when the reload failed. */
  applied: string[];
  needRestart: string[];
  /** Why nothing was applied. */
  error?: string;
}

/** One reload: `load` re-reads the configuration; nothing is applied unless all of it is good. */
export async function reloadConfig(running: DaemonOptions, load: () => LoadedConfig, live: LiveTargets, log: Logger): Promise<ReloadOutcome> {
  const failed = (error: string): ReloadOutcome => {
    log.error({ reload: "failed", err: error }, `reload failed, nothing changed: ${error}`);
    return { running, applied: [], needRestart: [], error };
  };
  const { outcome } = load();
  if (outcome.kind === "exit") return failed(outcome.stderr.trim().replace(/\n/g, "; ") || "the command line no longer parses");
  const next = outcome.options;

  let trusted: TrustedKeys | undefined;
  if (next.trustedKeysDir !== undefined) {
    const keys = await loadTrustedKeys(next.trustedKeysDir);
    if (!keys.ok) return failed(`-trusted-keys: ${keys.error}`);
    trusted = keys.value;
  }

  const changed = [...new Set([...Object.keys(running), ...Object.keys(next)])].filter(
    (k) => !isDeepStrictEqual(running[k as keyof DaemonOptions], next[k as keyof DaemonOptions]),
  ) as (keyof DaemonOptions)[];
  const live_ = changed.filter((k) => LIVE.has(k));
  const restart = changed.filter((k) => !LIVE.has(k));

  // The one step that can refuse: before anything else is touched.
  if (live_.includes("tags") || live_.includes("weight")) {
    try {
      live.setTags(memberTags(next));
    } catch (e) {
      return failed(`-tag: ${errorMessage(e)}`);
    }
  }
  if (live_.includes("logLevel")) live.setLogLevel(next.logLevel);
  if (live_.includes("actionsEnabled")) live.setActionsEnabled(next.actionsEnabled);
  if (live_.includes("coordinators") || live_.includes("coordinatorQuorum")) live.setCoordinators({ count: next.coordinators, quorum: next.coordinatorQuorum });
  live.setTrustedKeys(trusted);
  await live.setWatch(next.checksDir, next.triggers);

  for (const k of live_) log.info({ reload: "applied", key: flagOf(k), from: show(k, running[k]), to: show(k, next[k]) }, `reload: ${flagOf(k)} ${show(k, running[k])} -> ${show(k, next[k])}`);
  // The same directory may hold other keys now: say so when the set changed.
  const before = running.trustedKeysDir !== undefined && !live_.includes("trustedKeysDir") ? running.trustedKeysDir : undefined;
  if (before !== undefined && trusted) log.info({ reload: "applied", key: "trusted-keys", keys: trusted.size }, `reload: trusted-keys ${before} read again: ${trusted.size} keys`);
  for (const k of restart) {
    log.warn(
      { reload: "needs restart", key: flagOf(k), from: show(k, running[k]), to: show(k, next[k]) },
      `reload: ${flagOf(k)} changed (${show(k, running[k])} -> ${show(k, next[k])}) but needs a restart: keeping ${show(k, running[k])}`,
    );
  }
  const applied = live_.map(flagOf);
  const needRestart = restart.map(flagOf);
  log.info(
    { reload: "done", applied, needRestart },
    changed.length === 0
      ? "reload: configuration unchanged"
      : `reload: ${applied.length} applied${needRestart.length ? `, ${needRestart.length} kept until a restart (${needRestart.join(", ")})` : ""}`,
  );
  const updated: DaemonOptions = {
    ...running,
    logLevel: next.logLevel,
    tags: next.tags,
    actionsEnabled: next.actionsEnabled,
    triggers: next.triggers,
    weight: next.weight,
    coordinators: next.coordinators,
    coordinatorQuorum: next.coordinatorQuorum,
  };
  if (next.checksDir !== undefined) updated.checksDir = next.checksDir;
  else delete updated.checksDir;
  if (next.trustedKeysDir !== undefined) updated.trustedKeysDir = next.trustedKeysDir;
  else delete updated.trustedKeysDir;
  return { running: updated, applied, needRestart };
}

/**
 * Takes SIGHUP over from the first moment (Node's default would kill the
 * daemon): a signal before the node is up is held, and reloads once
 * `start` is called. From then on every SIGHUP reloads, one at a time (a
 * signal during a reload runs another after it).
 */
export function holdSighup(): { start(initial: DaemonOptions, load: () => LoadedConfig, live: LiveTargets, log: Logger): void } {
  let reload: (() => void) | undefined;
  let held = false;
  process.on("SIGHUP", () => (reload ? reload() : (held = true)));
  return {
    start(initial, load, live, log) {
      let running = initial;
      let chain = Promise.resolve();
      reload = () => {
        chain = chain.then(async () => {
          log.info({ reload: "start" }, "SIGHUP: reloading the configuration");
          running = (await reloadConfig(running, load, live, log)).running;
        });
      };
      if (held) reload();
    },
  };
}
