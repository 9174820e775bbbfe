import type { Logger } from "../base/logger.js";
import { toMember, type MemberRecord } from "./members.js";
import type { MemberEvent, MemberEventType } from "./types.js";

/**
 * Delivers membership changes to the layers above, synchronously, each with
 * a snapshot of the member. A listener that throws is logged, not allowed
 * to break the protocol code that emitted.
 */
export class MemberEvents {
  private readonly listeners = new Set<(e: MemberEvent) => void>();

  constructor(private readonly log: Logger) {}

  on(listener: (e: MemberEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(type: MemberEventType, rec: MemberRecord): void {
    if (this.listeners.size === 0) return;
    const e: MemberEvent = { type, member: toMember(rec) };
    for (const listener of [...this.listeners]) {
      try {
        listener(e);
      } catch (err) {
        this.log.error({ err, event: type, member: rec.name }, "membership event listener threw");
      }
    }
  }
}
