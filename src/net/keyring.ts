import { writeFileAtomic } from "../base/atomic_file.js";
import { createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { KEY_BYTES } from "./seal.js";
import { errorMessage } from "../base/result.js";

/*
 * The cluster keyring, as in memberlist/Serf: one primary key seals every
 * outgoing packet and frame; every installed key is tried (primary first) to
 * open incoming ones. Rotation without downtime is: install the new key on
 * every node, make it primary everywhere, then remove the old one.
 *
 * Keys are 32 random bytes (AES-256), written as standard base64 outside the
 * process (flags, files, `gcheck keys`). The keyring is mutated in place and
 * the transport reads it on every packet, so a rotation takes effect at once.
 */

export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyringError";
  }
}

/** A new random key, base64: what `gcheck keygen` prints. */
export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString("base64");
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes a base64 key, refusing anything that is not exactly 32 bytes of clean base64. */
export function decodeKey(key: string | Uint8Array): Buffer {
  if (typeof key !== "string") {
    if (key.length !== KEY_BYTES) {
      throw new KeyringError(`a cluster key is ${KEY_BYTES} bytes (AES-256), got ${key.length}: make one with \`gcheck keygen\``);
    }
    return Buffer.from(key);
  }
  const text = key.trim();
  if (!BASE64.test(text) || text.length % 4 !== 0) {
    throw new KeyringError(`a cluster key must be base64 (as printed by \`gcheck keygen\`); "${preview(text)}" is not`);
  }
  const raw = Buffer.from(text, "base64");
  if (raw.length !== KEY_BYTES) {
    throw new KeyringError(`a cluster key is ${KEY_BYTES} bytes (AES-256) in base64, but "${preview(text)}" decodes to ${raw.length} bytes: make one with \`gcheck keygen\``);
  }
  return raw;
}

export function encodeKey(raw: Uint8Array): string {
  return Buffer.from(raw).toString("base64");
}

// Enough of a key to recognise it in a message without printing the secret.
function preview(text: string): string {
  return text.length > 8 ? `${text.slice(0, 4)}…(${text.length} chars)` : text;
}

interface Entry {
  raw: Buffer;
  key: KeyObject;
}

export class Keyring {
  // entries[0] is the primary key.
  private entries: Entry[] = [];

  /** keys: base64 strings or raw 32-byte keys, primary first. */
  constructor(keys: readonly (string | Uint8Array)[]) {
    if (keys.length === 0) throw new KeyringError("a keyring needs at least one key (the primary): make one with `gcheck keygen`");
    for (const k of keys) this.install(k);
  }

  /** Adds a key that may open incoming messages (no-op when already installed). */
  install(key: string | Uint8Array): void {
    const raw = decodeKey(key);
    if (this.indexOf(raw) >= 0) return;
    this.entries.push({ raw, key: createSecretKey(raw) });
  }

  /** Makes an installed key the primary: from now on it seals everything we send. */
  use(key: string | Uint8Array): void {
    const raw = decodeKey(key);
    const i = this.indexOf(raw);
    if (i < 0) throw new KeyringError(`key ${preview(encodeKey(raw))} is not installed: install it first (gcheck keys install KEY), then use it`);
    const [entry] = this.entries.splice(i, 1);
    this.entries.unshift(entry!);
  }

  /** Removes a key; refuses the primary. Returns whether the key was installed. */
  remove(key: string | Uint8Array): boolean {
    const raw = decodeKey(key);
    const i = this.indexOf(raw);
    if (i === 0) throw new KeyringError("refusing to remove the primary key: make another key primary first (gcheck keys use KEY), then remove this one");
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }

  /** Installed keys in base64, primary first. */
  list(): string[] {
    return this.entries.map((e) => encodeKey(e.raw));
  }

  /** The key that seals outgoing messages. */
  primaryKey(): KeyObject {
    return this.entries[0]!.key;
  }

  /** Every installed key, primary first: the order incoming messages are tried in. */
  openingKeys(): KeyObject[] {
    return this.entries.map((e) => e.key);
  }

  /** Reads a keyring file (JSON array of base64 keys, primary first). */
  static load(path: string): Keyring {
    return loadKeyFile(path).keyring;
  }

  /**
   * Writes the keyring as a JSON array of base64 keys, primary first, with
   * mode 0600, atomically: a crash leaves either the old file or the new one,
   * never half of one.
   */
  save(path: string): void {
    writeFileAtomic(path, JSON.stringify(this.list(), null, 2) + "\n");
  }

  private indexOf(raw: Buffer): number {
    return this.entries.findIndex((e) => timingSafeEqual(e.raw, raw));
  }
}

export interface LoadedKeyFile {
  keyring: Keyring;
  /** Set when the file is readable by group or others: a line for the daemon to log. */
  warning?: string;
}

/**
 * Loads a key file: either one base64 key (what `gcheck keygen > FILE`
 * writes) or a keyring JSON array (what Keyring.save writes). Errors name the
 * file and say what to do.
 */
export function loadKeyFile(path: string): LoadedKeyFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new KeyringError(`key file ${path} does not exist: create one with \`gcheck keygen > ${path}\` and chmod 600 it`);
    if (code === "EACCES") throw new KeyringError(`key file ${path} is not readable by this user: fix its owner or permissions`);
    throw new KeyringError(`cannot read key file ${path}: ${errorMessage(err)}`);
  }
  if (text === "") throw new KeyringError(`key file ${path} is empty: put a key in it with \`gcheck keygen > ${path}\``);
  let keys: unknown[];
  if (text.startsWith("[")) {
    try {
      keys = JSON.parse(text) as unknown[];
    } catch (err) {
      throw new KeyringError(`keyring file ${path} is not valid JSON (${errorMessage(err)}): expected an array of base64 keys, primary first`);
    }
    if (!Array.isArray(keys) || keys.length === 0) throw new KeyringError(`keyring file ${path} holds no keys: expected an array of base64 keys, primary first`);
  } else {
    keys = [text];
  }
  const decoded = keys.map((k, i) => {
    if (typeof k !== "string") throw new KeyringError(`keyring file ${path}: entry ${i} is not a string: expected base64 keys`);
    try {
      return decodeKey(k);
    } catch (err) {
      throw new KeyringError(`key file ${path}${keys.length > 1 ? ` (entry ${i})` : ""}: ${errorMessage(err)}`);
    }
  });
  return { keyring: new Keyring(decoded), warning: permissionWarning(path) };
}

/** A warning when a secret file is readable or writable by group or others. */
export function permissionWarning(path: string): string | undefined {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return `key file ${path} has mode ${mode.toString(8).padStart(4, "0")}, so other users can read the cluster key: run chmod 600 ${path}`;
}
