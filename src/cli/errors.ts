/**
 * gcheck's exit codes, for CI scripts to branch on (DESIGN.md, gcheck):
 * 0 everything passed (fixed counts as passed), 1 some check failed or
 * errored, 2 usage, file or connection error, 3 some expected node never
 * answered (when nothing failed).
 */
export const Exit = {
  Ok: 0,
  ChecksFailed: 1,
  Usage: 2,
  NodesMissing: 3,
} as const;

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
