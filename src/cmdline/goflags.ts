import { CommanderError, type Command, type Help, type Option } from "commander";

/*
 * Go-style command lines, as the original gossipcheck (Go's flag package)
 * took them: `-bind 127.0.0.1:2000`, `-bind=...` and `--bind ...` all mean the
 * same. Commander only knows `--long`, so argv is normalized first: a
 * single-dash word of two or more characters becomes `--word` (keeping
 * `=value`). Single letters (`-h`) stay short options. Shared by
 * gossipcheckd and gcheck.
 */

/** What the normalizer must know about the flags: which take a value. */
export interface FlagShapes {
  /** Long names (without dashes) of flags that take a value. */
  takesValue: ReadonlySet<string>;
  /** Long names of boolean flags (`-no-cli`, `-insecure`). */
  boolean: ReadonlySet<string>;
}

/** Collects the flag shapes of a commander program and its subcommands. */
export function flagShapes(...commands: Command[]): FlagShapes {
  const takesValue = new Set<string>();
  const boolean = new Set<string>();
  const visit = (c: Command) => {
    for (const o of c.options as readonly Option[]) {
      const name = o.long?.replace(/^--/, "");
      if (!name) continue;
      if (o.required || o.optional) takesValue.add(name);
      else boolean.add(name);
    }
    for (const sub of c.commands) visit(sub);
  };
  commands.forEach(visit);
  return { takesValue, boolean };
}

const GO_FLAG = /^-([A-Za-z][A-Za-z0-9-]+)(=.*)?$/s;
const LONG_FLAG = /^--([A-Za-z][A-Za-z0-9-]*)(=.*)?$/s;

/**
 * Rewrites Go-style flags into the `--long` form commander parses. The word
 * after a value flag given without `=` is a value and is left alone (so
 * `-name -odd` keeps "-odd" as the name). Go also accepts `-flag=true` and
 * `-flag=false` for booleans: true becomes the bare flag, false drops it.
 * Everything after `--` is passed through untouched.
 */
export function normalizeGoArgv(argv: readonly string[], shapes: FlagShapes): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const m = GO_FLAG.exec(arg) ?? LONG_FLAG.exec(arg);
    if (!m) {
      out.push(arg);
      continue;
    }
    const name = m[1]!;
    const value = m[2];
    if (shapes.boolean.has(name) && value !== undefined) {
      const v = value.slice(1).toLowerCase();
      if (v === "true" || v === "1") out.push(`--${name}`);
      else if (v !== "false" && v !== "0") out.push(`--${name}${value}`); // commander will name it
      continue;
    }
    out.push(`--${name}${value ?? ""}`);
    if (value === undefined && shapes.takesValue.has(name) && i + 1 < argv.length) {
      out.push(argv[++i]!);
    }
  }
  return out;
}

/** Shows flags in help the way they are usually typed here: `-bind host:port`. */
export function goStyleHelp(): Partial<Help> {
  return {
    optionTerm(option: Option): string {
      return option.flags
        .replace(/--/g, "-")
        .replace(/<([^>]+)>/g, "$1")
        .replace(/\[([^\]]+)\]/g, "[$1]");
    },
  };
}

/** How a parse that did not produce options ends: help/version text or an error. */
export interface ParseExit {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Turns a commander parse failure into a one-line, Go-flavoured message
 * ("unknown flag -foo (see gossipcheckd -help)") or the help/version text it
 * printed. Anything that is not a CommanderError is a bug and is rethrown.
 */
export function commanderExit(err: unknown, program: string, captured: string): ParseExit {
  if (!(err instanceof CommanderError)) throw err;
  if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") {
    return { code: 0, stdout: captured, stderr: "" };
  }
  const see = `(see ${program} -help)`;
  const flag = (s: string) => "-" + s.replace(/^-+/, "").replace(/[= ].*$/s, "");
  let msg: string;
  let m: RegExpExecArray | null;
  if (err.code === "commander.unknownOption" && (m = /'([^']+)'/.exec(err.message))) {
    msg = `unknown flag ${flag(m[1]!)} ${see}`;
  } else if (err.code === "commander.optionMissingArgument" && (m = /'([^' ]+)[^']*'/.exec(err.message))) {
    msg = `flag ${flag(m[1]!)} needs a value ${see}`;
  } else if (err.code === "commander.unknownCommand" && (m = /'([^']+)'/.exec(err.message))) {
    msg = `unknown command "${m[1]}" ${see}`;
  } else if (err.code === "commander.invalidArgument" && (m = /option '([^' ]+)[^']*' argument '([^']*)' is invalid\. Allowed choices are (.*)\.$/s.exec(err.message))) {
    msg = `${flag(m[1]!)} "${m[2]}": expected one of ${m[3]} ${see}`;
  } else if (err.code === "commander.invalidArgument" && (m = /value '([^']*)' is invalid for argument '([^']+)'\. Allowed choices are (.*)\.$/s.exec(err.message))) {
    msg = `${m[2]} "${m[1]}": expected one of ${m[3]} ${see}`;
  } else if (err.code === "commander.excessArguments") {
    msg = `unexpected argument ${see}`;
  } else {
    msg = `${err.message.replace(/^error: /, "").replace(/--([A-Za-z])/g, "-$1")} ${see}`;
  }
  return { code: 2, stdout: "", stderr: msg + "\n" };
}
