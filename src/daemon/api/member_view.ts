import type { MemberView } from "../../control/api_types.js";
import type { Member } from "../../swim/types.js";

/* A member as the control API shows it: GET /v1/members and the members stream. */

export function memberView(m: Member, nowMs: number): MemberView {
  return { name: m.name, address: m.address, status: m.status, incarnation: m.incarnation, tags: m.tags, statusSinceMs: m.statusSinceMs, statusAgeMs: Math.max(0, nowMs - m.statusSinceMs) };
}
