import { existsSync } from "node:fs";
import type { CheckRunContext, CheckTypeDef } from "./check_type.js";
import { quote, type Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";
import { firstLine, notAnOption, runTool } from "./tool.js";

/*
 * `service`: a systemd unit's state, from `systemctl show -p
 * LoadState,ActiveState,UnitFileState UNIT`. `running` (default true) asks
 * for ActiveState active (or reloading); `enabled` (default true) for
 * UnitFileState enabled (or enabled-runtime). A unit systemd does not know
 * (LoadState not-found) is neither.
 *
 * Only where systemd is the init system: systemctl on a host (or container)
 * that booted something else answers from nothing, so the check is an error
 * saying so, never a fail (it could not look). systemd's own test, as
 * sd_booted(3) does it, is whether /run/systemd/system exists; the probe is
 * injectable so a test can stand a fake systemctl in.
 */

export interface ServiceProbe {
  /** Whether systemd is the running init system. */
  systemdBooted(): boolean;
  /** The environment systemctl runs in (PATH is where it is looked up); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export const SYSTEMD_PROBE: ServiceProbe = { systemdBooted: () => existsSync("/run/systemd/system") };

/** The service type, with how it finds systemd; the registry holds the one with the real probe. */
export function makeServiceCheck(probe: ServiceProbe): CheckTypeDef {
  return {
    type: "service",
    subject: "service",
    fields: {
      service: { type: { kind: "string" }, required: true, doc: 'the systemd unit ("nginx" means nginx.service)' },
      running: { type: { kind: "boolean" }, doc: "true (default): the unit is active; false: it is not" },
      enabled: { type: { kind: "boolean" }, doc: "true (default): the unit is enabled to start at boot; false: it is not" },
    },
    rules: (p, field) => [notAnOption(p.service as string, "a unit name")].filter((m) => m !== "").map((m) => `${field("service")}: ${m}`),
    evaluate: (p, ctx) => evaluateService(p, ctx, probe),
  };
}

export const serviceCheck = makeServiceCheck(SYSTEMD_PROBE);

async function evaluateService(p: Params, ctx: CheckRunContext, probe: ServiceProbe): Promise<Evaluation> {
  const unit = p.service as string;
  const wantRunning = (p.running as boolean | undefined) ?? true;
  const wantEnabled = (p.enabled as boolean | undefined) ?? true;
  const label = `service ${quote(unit)}`;
  if (!probe.systemdBooted()) return { status: "error", message: `${label}: cannot look: systemd is not the init system on this host (no /run/systemd/system)` };
  const run = await runTool("systemctl", ["show", "-p", "LoadState,ActiveState,UnitFileState", unit], { timeoutMs: ctx.timeoutMs, env: probe.env });
  if (!run.ok) return { status: "error", message: `${label}: cannot look: ${run.error === "missing" ? "systemctl is not on PATH" : run.error}` };
  if (run.value.code !== 0) return { status: "error", message: `${label}: systemctl show exited ${run.value.code}: ${quote(firstLine(run.value.stderr))}` };
  const props = new Map<string, string>();
  for (const line of run.value.stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) props.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const load = props.get("LoadState") ?? "";
  const active = props.get("ActiveState") ?? "";
  const file = props.get("UnitFileState") ?? "";
  if (active === "") return { status: "error", message: `${label}: systemctl show gave no ActiveState: ${quote(firstLine(run.value.stdout))}` };
  const running = active === "active" || active === "reloading";
  const enabled = file === "enabled" || file === "enabled-runtime";
  const found = load === "not-found" ? "not found by systemd" : `${active}, ${file === "" ? "no unit file state" : file}`;
  const problems: string[] = [];
  if (running !== wantRunning) problems.push(wantRunning ? "expected running" : "expected not running");
  if (enabled !== wantEnabled) problems.push(wantEnabled ? "expected enabled" : "expected not enabled");
  if (problems.length === 0) return { status: "pass", message: `${label}: ${found}` };
  return { status: "fail", message: `${label}: ${found}; ${problems.join(", ")}` };
}
