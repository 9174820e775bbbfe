import type { Command, Option } from "commander";

/*
 * Flags before the command word (`gcheck -timeout 5s check`). Commander
 * parses a command's own flags only after the command's name, so the flags
 * in front of it are moved just behind it (`gcheck check --timeout 5s`), in
 * their order, so repeatable flags collect as typed. The program's own flags
 * (-server, -file) move too: commander reads those anywhere on the line.
 * Commands nested in commands are handled the same way, one level at a time.
 *
 * Runs on argv already in `--long` form (normalizeGoArgv). Which flags take
 * a value, and so which word is the command, comes from the commander
 * definitions themselves.
 */

export type Placement =
  | {
      ok: true;
      /** argv for commander, every flag behind the command it belongs to. */
      argv: string[];
      /** The commands found, outermost first (["keys"]); empty when none. */
      command: string[];
    }
  | { ok: false; error: string };

/**
 * Flag spelling (`--timeout`, `-h`) -> whether it takes a value, over the
 * whole command tree (help and version included). Invariant: one spelling
 * has one shape in every command; otherwise a flag before the command word
 * could not be told from its value, and this throws (a bug in the program's
 * definition, not a user error).
 */
function flagShapes(program: Command): Map<string, boolean> {
  const shapes = new Map<string, boolean>();
  const visit = (cmd: Command) => {
    const options: readonly Option[] = [...cmd.options, ...cmd.createHelp().visibleOptions(cmd)];
    for (const o of options) {
      const takesValue = o.required || o.optional;
      for (const spelling of [o.long, o.short]) {
        if (spelling === undefined) continue;
        if (shapes.get(spelling) === !takesValue) {
          throw new Error(`flag ${spelling} takes a value in one command and not in another: flags before the command word would be ambiguous`);
        }
        shapes.set(spelling, takesValue);
      }
    }
    cmd.commands.forEach(visit);
  };
  visit(program);
  return shapes;
}

/** A word commander reads as a flag ("-" alone is an operand: stdin). */
const isFlag = (arg: string) => arg.length > 1 && arg.startsWith("-");

/**
 * Index of the first word from `from` that is neither a flag nor a flag's
 * value, or undefined at the end or at `--`; or the first flag that no
 * command defines (its value, if any, cannot be told from the command word).
 */
function findCommandWord(argv: readonly string[], from: number, shapes: Map<string, boolean>): { at?: number; unknown?: string } {
  for (let i = from; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return {};
    if (!isFlag(arg)) return { at: i };
    const eq = arg.indexOf("=");
    const spelling = eq < 0 ? arg : arg.slice(0, eq);
    const takesValue = shapes.get(spelling);
    if (takesValue === undefined) return { unknown: spelling };
    if (takesValue && eq < 0) i++;
  }
  return {};
}

/** Moves every flag written before a command word to just behind it. */
export function placeFlags(program: Command, argv: readonly string[]): Placement {
  const shapes = flagShapes(program);
  const out = [...argv];
  const command: string[] = [];
  let cmd = program;
  // out[0..start) is settled: the commands found so far, each followed by its flags.
  let start = 0;
  // A leaf command's flags and arguments are commander's to parse (and to name if unknown).
  while (cmd.commands.length > 0) {
    const { at, unknown } = findCommandWord(out, start, shapes);
    if (unknown !== undefined) {
      return { ok: false, error: `unknown flag -${unknown.replace(/^-+/, "")}` };
    }
    if (at === undefined) break;
    const word = out[at]!;
    out.splice(start, at - start + 1, word, ...out.slice(start, at));
    // Not a command (`help`, a typo): the flags still go behind it, so that
    // commander names the word rather than a flag it cannot place.
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub === undefined) break;
    command.push(sub.name());
    cmd = sub;
    start += 1;
  }
  return { ok: true, argv: out, command };
}
