import type { KeyEvent, KeyOpName, NodeRef } from "../daemon/api_types.js";
import { Exit } from "./errors.js";

/**
 * What `gcheck keys` learned about one key operation from the daemon's
 * event stream: per node, whether it applied the operation and which keys
 * (fingerprints, primary first) it holds now; and the exit code a script
 * sees: 0 every node ok, 1 some node failed or refused, 3 some node never
 * answered (and none failed).
 */

/** ok / failed: the node answered; unreachable / rejected: the origin said so; silent: no word by the end. */
export type KeyNodeState = "ok" | "failed" | "unreachable" | "rejected" | "silent";

export interface KeyNodeOutcome {
  node: string;
  address: string;
  state: KeyNodeState;
  /** Fingerprints of the keys the node holds after the operation, primary first. */
  keys: string[];
  /** The node's error, or why it is unreachable or refused. */
  error?: string;
  elapsedMs?: number;
}

export interface KeyUsage {
  fingerprint: string;
  /** Nodes that hold it, and on how many of them it is the primary. */
  installed: number;
  primary: number;
}

export class KeysReport {
  id = "";
  op: KeyOpName | "" = "";
  origin = "";
  expected: NodeRef[] = [];
  accepted = false;
  done = false;
  timedOut = false;
  private readonly nodes = new Map<string, KeyNodeOutcome>();

  /** Folds one stream event in; returns false for an event it does not know (newer daemon). */
  apply(e: KeyEvent): boolean {
    switch (e.type) {
      case "accepted":
        Object.assign(this, { accepted: true, id: e.id, op: e.op, origin: e.origin, expected: e.expected });
        for (const n of e.expected) this.nodes.set(n.name, { node: n.name, address: n.address, state: "silent", keys: [] });
        return true;
      case "result":
        this.nodes.set(e.node, { node: e.node, address: e.address, state: e.ok ? "ok" : "failed", keys: e.keys, elapsedMs: e.elapsedMs, ...(e.error !== undefined && { error: e.error }) });
        return true;
      case "unreachable":
      case "rejected":
        this.nodes.set(e.node, { node: e.node, address: e.address ?? this.nodes.get(e.node)?.address ?? "", state: e.type, keys: [], error: e.reason });
        return true;
      case "done":
        this.done = true;
        this.timedOut = e.timedOut;
        return true;
      default:
        return false;
    }
  }

  /** True once every expected node has answered or been given up on by the origin. */
  get complete(): boolean {
    return this.accepted && this.expected.every((n) => this.nodes.get(n.name)?.state !== "silent");
  }

  get timedOutWaiting(): boolean {
    return !this.complete && (this.timedOut || !this.done);
  }

  /** Nodes, those that did not end ok first, then by name. */
  outcomes(): KeyNodeOutcome[] {
    return [...this.nodes.values()].sort((a, b) => Number(a.state === "ok") - Number(b.state === "ok") || a.node.localeCompare(b.node));
  }

  counts(): Record<KeyNodeState, number> & { expected: number } {
    const c = { expected: this.expected.length, ok: 0, failed: 0, unreachable: 0, rejected: 0, silent: 0 };
    for (const n of this.nodes.values()) c[n.state]++;
    return c;
  }

  /** Every key some node holds, with how many nodes hold it and use it as primary; primaries first. */
  keyUsage(): KeyUsage[] {
    const usage = new Map<string, KeyUsage>();
    for (const n of this.nodes.values()) {
      n.keys.forEach((fingerprint, i) => {
        const u = usage.get(fingerprint) ?? { fingerprint, installed: 0, primary: 0 };
        u.installed++;
        if (i === 0) u.primary++;
        usage.set(fingerprint, u);
      });
    }
    return [...usage.values()].sort((a, b) => b.primary - a.primary || b.installed - a.installed || a.fingerprint.localeCompare(b.fingerprint));
  }

  exitCode(): number {
    const c = this.counts();
    if (c.failed + c.rejected > 0) return Exit.ChecksFailed;
    if (c.unreachable + c.silent > 0) return Exit.NodesMissing;
    return Exit.Ok;
  }
}
