import type { MemberView } from "../../control/api_types.js";
import type { Member } from "../../swim/types.js";

/* A member as the control API shows it: GET /v1/members and the members stream. */

/** coordinators: the names this daemon computes as coordinators now (marked coordinator: true). */
export function memberView(m: Member, nowMs: number, coordinators?: ReadonlySet<string>): MemberView {
  return {
    name: m.name,
    address: m.address,
    status: m.status,
    incarnation: m.incarnation,
    tags: m.tags,
    statusSinceMs: m.statusSinceMs,
    statusAgeMs: Math.max(0, nowMs - m.statusSinceMs),
    ...(coordinators?.has(m.name) && { coordinator: true }),
  };
}
