/**
 * gcheck's exit codes, for CI scripts to branch on (DESIGN.md, gcheck):
 * 0 everything passed (fixed counts as passed, and so does warn unless
 * -fail-on warn), 1 some check failed or errored, 2 usage, file or
 * connection error, 3 some expected node never answered (when nothing
 * failed). 130: gcheck check / results interrupted (SIGINT) before any
 * node was heard from (after that, the code what arrived gives).
 * -output nagios has its own codes (output/nagios.ts).
 */
export const Exit = {
  Ok: 0,
  ChecksFailed: 1,
  Usage: 2,
  NodesMissing: 3,
  Interrupted: 130,
} as const;

/**
 * -fail-on of check and local-check: the least severe status that makes the
 * run exit 1. `fail` (default): fail and error; `warn`: warn too, for a
 * pipeline that must stop at a warning. A warning passes by default because
 * it asks a person to look, and a deploy gate that stops at every 80%-full
 * disk soon gets its checks removed.
 */
export const FAIL_ON = ["fail", "warn"] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** A failure to report as one line on stderr and exit with code (never a stack trace). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = Exit.Usage,
  ) {
    super(message);
    this.name = "CliError";
  }
}
