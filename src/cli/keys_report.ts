import type { KeyEvent, KeyOpName, NodeRef } from "../control/api_types.js";
import { Exit } from "./errors.js";
import { StreamReport } from "./stream_report.js";

/*
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

export class KeysReport extends StreamReport<KeyNodeOutcome> {
  id = "";
  op: KeyOpName | "" = "";

  /** Folds one stream event in; returns false for an event it does not know (newer daemon). */
  apply(e: KeyEvent): boolean {
    if (e.type === "accepted") {
      this.id = e.id;
      this.op = e.op;
    }
    if (e.type !== "result") return this.applyCommon(e);
    this.nodes.set(e.node, { node: e.node, address: e.address, state: e.ok ? "ok" : "failed", keys: e.keys, elapsedMs: e.elapsedMs, ...(e.error !== undefined && { error: e.error }) });
    return true;
  }

  protected silent(n: NodeRef): KeyNodeOutcome {
    return { node: n.name, address: n.address, state: "silent", keys: [] };
  }

  protected gone(node: string, address: string, state: "unreachable" | "rejected", error: string): KeyNodeOutcome {
    return { node, address, state, keys: [], error };
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
