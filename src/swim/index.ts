// The membership layer's public surface: what the daemon wires and what the
// layers above read.
export { Swim, type SwimOptions } from "./swim.js";
export { checkConfig, lanConfig, localConfig, profile, PROFILE_NAMES, type SwimConfig } from "./config.js";
export type { SwimCounters } from "./counters.js";
export { JoinRefusedError } from "./pushpull.js";
export type { Member, MemberEvent, MemberEventType, MemberStatus, Membership, PushPullDelegate } from "./types.js";
