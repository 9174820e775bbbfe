import { randomBytes } from "node:crypto";
import type { CliContext } from "../context.js";
import { Exit } from "../errors.js";

/**
 * `gcheck keygen`: a new random 32-byte key, base64, on one line: a cluster
 * key for -key-file (AES-256) or a control API token for -cli-token-file.
 */
export function keygen(ctx: CliContext): number {
  ctx.stdout.write(randomBytes(32).toString("base64") + "\n");
  return Exit.Ok;
}
