import { execFile } from "node:child_process";
import { errorMessage, fail, ok, type Result } from "../base/result.js";

/*
 * Runs a fixed system tool (systemctl, dpkg-query, rpm, getent, id) for the
 * check types that ask the host rather than read /proc: the tool is named
 * here, never by the check file, and its arguments go to execve as they are
 * (no shell), so these types do not "run code" and stay allowed on a
 * report-only node. Names from a check file are refused when they start with
 * "-" (validation rules), so none can pass as an option.
 */

/** How long a tool may take (ms) unless the check's own timeout says otherwise. */
export const TOOL_TIMEOUT_MS = 10_000;
/** Bound on what a tool may print (bytes); the tools used print a few lines. */
const TOOL_OUTPUT_LIMIT_BYTES = 1 << 20;

export interface ToolRun {
  /** null when killed by a signal (the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  timeoutMs?: number;
  /** The environment (PATH is where the tool is looked up); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Runs `file args`; `missing` when the tool is not on PATH, an error sentence when it could not run or timed out. */
export function runTool(file: string, args: readonly string[], opts: ToolOptions = {}): Promise<Result<ToolRun, "missing" | string>> {
  const timeoutMs = opts.timeoutMs ?? TOOL_TIMEOUT_MS;
  return new Promise((resolve) => {
    execFile(file, args, { env: opts.env ?? process.env, timeout: timeoutMs, maxBuffer: TOOL_OUTPUT_LIMIT_BYTES, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err === null) return resolve(ok({ code: 0, stdout, stderr }));
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string | null };
      if (e.code === "ENOENT") return resolve(fail("missing"));
      if (e.killed || e.signal) return resolve(fail(`${file} did not answer within ${timeoutMs} ms (killed)`));
      if (typeof e.code === "number") return resolve(ok({ code: e.code, stdout, stderr }));
      resolve(fail(`${file} could not run: ${errorMessage(err)}`));
    });
  });
}

/** The first non-empty line of a tool's output, for messages. */
export function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? ""
  );
}

/** The rule shared by every field that names something a tool is asked about. */
export function notAnOption(value: string, what: string): string {
  return value.startsWith("-") ? `${JSON.stringify(value)} starts with "-": ${what} cannot start with "-" (it would be read as an option)` : "";
}
