/**
 * Helpers shared by the test/net_*.test.ts files: real transports on
 * loopback (port 0), waiting for conditions with a deadline, and a logger
 * that records what it was told.
 */
import { encodeFrame } from "../src/net/connection.js";
import { lengthPrefix } from "../src/net/framing.js";
import { PayloadGuard } from "../src/net/guard.js";
import type { Keyring } from "../src/net/keyring.js";
import { NodeTransport, type NodeTransportOptions } from "../src/net/node_transport.js";
import { Channel } from "../src/net/transport.js";
import type { Logger } from "../src/base/logger.js";

/** Transports started by a test, closed by closeAll() in its after hook. */
export class Loopback {
  private started: NodeTransport[] = [];

  async transport(opts: Partial<NodeTransportOptions> = {}): Promise<NodeTransport> {
    const t = await NodeTransport.listen({ bindHost: "127.0.0.1", port: 0, ...opts });
    this.started.push(t);
    return t;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.started.map((t) => t.close()));
    this.started = [];
  }
}

/** Polls cond until it holds; rejects naming `what` after timeoutMs. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface LogLine {
  level: string;
  obj: object;
  msg: string;
}

export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg: msg ?? "" });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A dialler's hello frame with its length prefix, as a member sends it first on a new connection (sealed when a keyring is given). */
export function helloFrame(keyring: Keyring | null = null, label = ""): Buffer {
  const payload = encodeFrame({ guard: new PayloadGuard(keyring, label) }, { channel: Channel.Hello, oneWay: true });
  return Buffer.concat([lengthPrefix(payload.length), payload]);
}
