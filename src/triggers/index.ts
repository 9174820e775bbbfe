// Triggers: scripts run on membership, check, batch and quorum events, user events and queries (-on EVENT=SCRIPT).
export { TRIGGER_EVENTS, TALK_PREFIXES, parseTriggerSpec, type TriggerEventName, type TalkTriggerName, type TriggerSpec, type TriggerEvent } from "./events.js";
export { defaultTriggerConfig, type TriggerConfig } from "./config.js";
export { triggerEnv, triggerJson, triggerStdin, tagVarName, type TriggerNode } from "./env.js";
export { TriggerRunner, scriptProblem, type TriggerCounters, type TriggerRunnerOptions, type ScriptRunner, type HandlerRun, type FollowOptions, type Followed } from "./runner.js";
