import { readFileSync } from "node:fs";
import { PACKAGE_DIR_URL } from "./package_dir.js";

/**
 * The package version, read once from package.json (npm always ships it). Cheap
 * enough for gcheck's fast start: one small synchronous read, no JSON import
 * machinery.
 */
function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("package.json", PACKAGE_DIR_URL), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "0.0.0-unknown";
  } catch {
    return "0.0.0-unknown";
  }
}

export const VERSION = readVersion();
