import { formatHostPort } from "../cmdline/address.js";
import type { ParseExit } from "../cmdline/goflags.js";
import { describeSources, type SourceSummary } from "./config_file.js";
import type { DaemonOptions } from "./flags.js";
import { hasClusterKey, loadDaemonKeyring } from "./keys.js";
import { preflight } from "./preflight.js";
import { checkStartupSafety } from "./safety.js";
import { loadChecksDir } from "../schedule/index.js";
import { scriptProblem } from "../triggers/index.js";

/*
 * gossipcheckd -check-config: what the daemon would refuse to start over,
 * found without starting it and without changing anything (for CI, and
 * before a SIGHUP or a restart). Flags, variables and files were parsed and
 * validated already (on the same path as a start); this adds the checks
 * of the ground that read only: the safety rules, the files the options
 * name (keys, keyring, trusted keys, token, -checks-dir's check files,
 * -on's scripts) and whether the data dir can be written or created. It does not bind ports: a port in use is found at
 * start.
 */
export async function checkConfig(o: DaemonOptions, sources: SourceSummary): Promise<ParseExit> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const safety = checkStartupSafety(o, hasClusterKey(o));
  if (safety.refusal) errors.push(safety.refusal);
  warnings.push(...safety.warnings);
  const ground = await preflight(o, { dryRun: true });
  if (ground.ok) warnings.push(...ground.warnings);
  else errors.push(ground.error);
  // After preflight only: a missing key file would be reported twice.
  if (ground.ok) {
    const keys = loadDaemonKeyring(o);
    if (keys.ok) warnings.push(...keys.value.warnings);
    else errors.push(keys.error);
  }
  // The check files of -checks-dir and the trigger scripts, as the daemon would load them.
  if (o.checksDir !== undefined) {
    const dir = await loadChecksDir(o.checksDir);
    errors.push(...dir.errors.map((e) => `-checks-dir: ${e}`));
  }
  for (const t of o.triggers) {
    const problem = scriptProblem(t.script);
    if (problem) warnings.push(`-on ${t.event}: ${problem}`);
  }
  const stderr = [...errors, ...warnings.map((w) => `warning: ${w}`)].map((l) => `gossipcheckd: ${l}\n`).join("");
  if (errors.length > 0) return { code: 2, stdout: "", stderr };
  return { code: 0, stdout: `gossipcheckd: configuration ok (node ${o.name}, bind ${formatHostPort(o.bind)}): ${describeSources(sources)}\n`, stderr };
}
