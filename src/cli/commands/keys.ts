import { readFile } from "node:fs/promises";
import { parseDuration } from "../../checks/duration.js";
import { KEY_OPS, type KeyEvent, type KeyOpName, type KeysRequestBody, MIN_TTL_MS } from "../../control/api_types.js";
import { keyFingerprint } from "../../control/fingerprint.js";
import { decodeKey, KeyringError } from "../../net/keyring.js";
import { type CliContext, connect, requireOutput } from "../context.js";
import { CliError } from "../errors.js";
import { followReport } from "../follow.js";
import { KeysReport } from "../keys_report.js";
import { keysJson, keysSummary, keysTable } from "../output/keys.js";
import { errorMessage } from "../../base/result.js";

/*
 * `gcheck keys list | install KEY | use KEY | remove KEY`: the cluster
 * keyring, changed on every live node at once (memberlist/Serf style
 * rotation: install the new key everywhere, use it everywhere, then remove
 * the old one). KEY is base64 as `gcheck keygen` prints it, or @FILE to read
 * it from a file (keeps it out of the process list). -sign-key F signs the
 * operation: nodes with -trusted-keys refuse unsigned changes (list needs no
 * signature). Nodes answer with fingerprints, never keys. Exit 0 every node ok, 1 some node failed or
 * refused, 3 some node did not answer, 2 usage or connection error.
 */

export interface KeysFlags {
  timeout: string;
  /** Ed25519 private key (PEM) to sign the operation with. */
  signKey?: string;
  /** Positional arguments: the operation, then the key. */
  args: string[];
}

const USAGE = "use gcheck keys list | install KEY | use KEY | remove KEY (KEY in base64 from gcheck keygen, or @FILE)";

export async function keys(ctx: CliContext, flags: KeysFlags): Promise<number> {
  requireOutput(ctx, "keys", ["table", "json"]);
  const [opText, keyText, ...extra] = flags.args;
  if (opText === undefined || !(KEY_OPS as readonly string[]).includes(opText)) {
    throw new CliError(`${opText === undefined ? "no keys operation" : `unknown keys operation "${opText}"`}: ${USAGE}`);
  }
  const op = opText as KeyOpName;
  if (extra.length) throw new CliError(`unexpected argument "${extra[0]}": ${USAGE}`);
  if (op === "list" && keyText !== undefined) throw new CliError(`keys list takes no key: ${USAGE}`);
  if (op !== "list" && keyText === undefined) throw new CliError(`keys ${op} needs the key: ${USAGE}`);
  const timeoutMs = parseDuration(flags.timeout);
  if (timeoutMs === null || timeoutMs <= 0) throw new CliError(`-timeout "${flags.timeout}": expected a duration such as 10s or 1m`);

  const key = keyText === undefined ? undefined : await readKey(keyText);
  const fingerprint = key ? keyFingerprint(key) : undefined;
  const client = await connect(ctx);
  let body: KeysRequestBody;
  if (flags.signKey !== undefined) {
    const { signKeyOp } = await import("../signing.js");
    // The signed operation expires when gcheck stops waiting: a node away
    // meanwhile does not apply an old rotation step when it comes back.
    body = { signed: await signKeyOp(client, flags.signKey, op, key, Math.max(timeoutMs, MIN_TTL_MS)), timeoutMs };
  } else {
    body = { op, timeoutMs, ...(key && { key: key.toString("base64") }) };
  }
  const report = new KeysReport();
  const elapsedMs = await followReport<KeyEvent>(ctx, client, "/v1/keys", body, timeoutMs, report, "the key operation");
  ctx.stdout.write(ctx.output === "json" ? keysJson(report, fingerprint, elapsedMs) : keysTable(report) + keysSummary(report, fingerprint, elapsedMs));
  return report.exitCode();
}

/** The 32 raw bytes of KEY (base64) or of the key in @FILE; usage errors name what was wrong. */
async function readKey(text: string): Promise<Buffer> {
  let source = "KEY";
  let value = text;
  if (text.startsWith("@")) {
    source = text.slice(1);
    try {
      value = (await readFile(source, "utf8")).trim();
    } catch (e) {
      throw new CliError(`key file ${source}: cannot read it (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)})`);
    }
  }
  try {
    return decodeKey(value);
  } catch (e) {
    if (e instanceof KeyringError) throw new CliError(`${source === "KEY" ? "the key" : `key file ${source}`}: ${e.message}`);
    throw e;
  }
}
