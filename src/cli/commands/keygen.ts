import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import type { CliContext } from "../context.js";
import { CliError, Exit } from "../errors.js";
import { errorMessage } from "../../base/result.js";

/**
 * `gcheck keygen`: a new random 32-byte key, base64, on one line: a cluster
 * key for -key-file (AES-256) or a control API token for -cli-token-file.
 *
 * `gcheck keygen -signing [-out PREFIX]`: an Ed25519 operator key pair (PEM).
 * With -out, PREFIX.key (private, mode 0600, for check -sign-key) and
 * PREFIX.pub (for every daemon's -trusted-keys dir); without, both PEM blocks
 * on stdout.
 */
export async function keygen(ctx: CliContext, opts: { signing?: boolean; out?: string }): Promise<number> {
  if (!opts.signing) {
    if (opts.out !== undefined) throw new CliError("-out goes with -signing: gcheck keygen -signing -out PREFIX");
    ctx.stdout.write(randomBytes(32).toString("base64") + "\n");
    return Exit.Ok;
  }
  const { newSigningKeyPair } = await import("../signing.js");
  const pair = newSigningKeyPair();
  if (opts.out === undefined) {
    ctx.stdout.write(pair.privateKey + pair.publicKey);
    return Exit.Ok;
  }
  const priv = `${opts.out}.key`;
  const pub = `${opts.out}.pub`;
  try {
    // wx: never overwrite an existing key.
    await writeFile(priv, pair.privateKey, { mode: 0o600, flag: "wx" });
    await writeFile(pub, pair.publicKey, { mode: 0o644, flag: "wx" });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`-out ${opts.out}: cannot write the key pair (${code === "EEXIST" ? "a key file with that name exists; choose another PREFIX" : (code ?? errorMessage(e))})`);
  }
  ctx.stdout.write(`private key: ${priv} (keep it; gcheck check -sign-key ${priv})\npublic key:  ${pub} (copy it into each daemon's -trusted-keys directory)\n`);
  return Exit.Ok;
}
