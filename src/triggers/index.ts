// Triggers: scripts run on membership, check, batch and quorum events (-on EVENT=SCRIPT).
export { TRIGGER_EVENTS, parseTriggerSpec, type TriggerEventName, type TriggerSpec, type TriggerEvent } from "./events.js";
export { defaultTriggerConfig, type TriggerConfig } from "./config.js";
export { triggerEnv, triggerJson, tagVarName, type TriggerNode } from "./env.js";
export { TriggerRunner, scriptProblem, type TriggerCounters, type TriggerRunnerOptions, type ScriptRunner } from "./runner.js";
