import { readFileSync } from "node:fs";

/**
 * The package version, read once from package.json (three levels above the
 * compiled dist/src/cmdline/version.js; npm always ships package.json). Cheap
 * enough for gcheck's fast start: one small synchronous read, no JSON import
 * machinery.
 */
function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "0.0.0-unknown";
  } catch {
    return "0.0.0-unknown";
  }
}

export const VERSION = readVersion();
