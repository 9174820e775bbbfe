import type { Command, Option } from "commander";

/*
 * What a shell needs to complete gcheck's command lines, read from the
 * commander definitions themselves (program.ts), so a new command or flag
 * completes without anyone editing a list: the commands with their one-line
 * summaries, each command's flags and the program's (which go anywhere on the
 * line), which flags take a value, the values some flags and arguments allow
 * (their commander choices), and which values are files. bash.ts, zsh.ts and
 * fish.ts turn it into each shell's script.
 */

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

export interface FlagSpec {
  /** Long name without dashes ("server"): typed -server (Go style) or --server. */
  name: string;
  /** Single-letter alias without its dash ("h"), if any. */
  short?: string;
  description: string;
  takesValue: boolean;
  /** What the value is, as the help shows it ("host:port", "file"). */
  valueName?: string;
  /** The values it allows (commander choices). */
  choices?: string[];
  /** Whether its value is a path (the shell completes file names). */
  files: boolean;
}

export interface ArgSpec {
  name: string;
  choices?: string[];
}

export interface CommandSpec {
  name: string;
  summary: string;
  flags: FlagSpec[];
  /** Positional arguments in order. */
  args: ArgSpec[];
}

export interface ProgramSpec {
  name: string;
  /** The program's own flags, valid before or after any command. */
  globals: FlagSpec[];
  commands: CommandSpec[];
}

/** Value names that are paths: <file>, and -out's <prefix> (PREFIX.key, PREFIX.pub). */
const PATH_VALUES = new Set(["file", "prefix"]);

function flagSpec(o: Option): FlagSpec {
  const takesValue = o.required || o.optional;
  const valueName = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1];
  return {
    name: o.long!.replace(/^--/, ""),
    ...(o.short !== undefined && { short: o.short.replace(/^-/, "") }),
    description: o.description,
    takesValue,
    ...(valueName !== undefined && { valueName }),
    ...(o.argChoices !== undefined && { choices: [...o.argChoices] }),
    files: takesValue && valueName !== undefined && PATH_VALUES.has(valueName),
  };
}

/** The visible flags of one command (help included; the program's -version too). */
function flagsOf(cmd: Command): FlagSpec[] {
  return cmd
    .createHelp()
    .visibleOptions(cmd)
    .filter((o) => o.long !== undefined)
    .map(flagSpec);
}

export function completionSpec(program: Command): ProgramSpec {
  const globalNames = new Set(flagsOf(program).map((f) => f.name));
  return {
    name: program.name(),
    globals: flagsOf(program),
    commands: program.commands.map((c) => ({
      name: c.name(),
      summary: c.summary() || c.description(),
      // -help is a program flag too: listed once, with the globals.
      flags: flagsOf(c).filter((f) => !globalNames.has(f.name)),
      args: c.registeredArguments.map((a) => ({ name: a.name(), ...(a.argChoices !== undefined && { choices: [...a.argChoices] }) })),
    })),
  };
}

/** Every flag of the program, each once: the ones that take a value decide which word is the command. */
export function allFlags(spec: ProgramSpec): FlagSpec[] {
  const seen = new Map<string, FlagSpec>();
  for (const f of [...spec.globals, ...spec.commands.flatMap((c) => c.flags)]) if (!seen.has(f.name)) seen.set(f.name, f);
  return [...seen.values()];
}
