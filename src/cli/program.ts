/**
 * gcheck's commander program. Go-style flags as the original
 * (`gcheck -file=checks.json check`), every flag before or after the
 * command (flag_placement.ts). Each command imports what it needs (the
 * checks parser, the HTTP client) only when it runs, so gcheck starts fast.
 */
import { Command, Option } from "commander";
import { formatHostPort, parseHostPort } from "../cmdline/address.js";
import { commanderExit, flagShapes, goStyleHelp, normalizeGoArgv, type ParseExit } from "../cmdline/goflags.js";
import { VERSION } from "../cmdline/version.js";
import type { CliContext, OutputFormat } from "./context.js";
import { CliError, Exit } from "./errors.js";
import { placeFlags } from "./flag_placement.js";
import { DEFAULT_CLI_BIND } from "../control/defaults.js";

interface GlobalFlags {
  server: string;
  file?: string;
  output: string;
  tokenFile?: string;
}

// Each command declares its own flag shape; commander hands them over untyped.
type Run = (ctx: CliContext, opts: never) => Promise<number> | number;

function buildProgram(out: { text: string }, run: (load: () => Promise<Run>) => (...params: unknown[]) => Promise<void>): Command {
  const collect = (v: string, prev: string[] = []) => [...prev, v];
  const program = new Command("gcheck")
    .description("gossipcheck client: run a check file on the whole cluster (check) or on the daemon's host (local-check)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => void (out.text += s), writeErr: (s) => void (out.text += s), outputError: () => {} })
    .configureHelp(goStyleHelp())
    .helpOption("-h, --help", "show this help")
    .version(VERSION, "--version", "print the version and exit")
    .addOption(new Option("--server <host:port>", "control API of the daemon to talk to").env("GOSSIPCHECK_SERVER").default(DEFAULT_CLI_BIND))
    .option("--file <file>", "JSON check file")
    .addOption(new Option("--output <format>", "output format").choices(["table", "json", "junit"]).default("table"))
    .addOption(new Option("--token-file <file>", "file holding the control API token (or set GOSSIPCHECK_TOKEN)"));
  program.configureHelp({ ...goStyleHelp(), showGlobalOptions: true });

  program
    .command("validate")
    .description("check a check file offline: exit 0 valid, 2 invalid (every problem listed)")
    .action(run(async () => (await import("./commands/validate.js")).validate));
  program
    .command("local-check")
    .description("evaluate the checks on the daemon's host, one by one, running no action")
    .action(run(async () => (await import("./commands/local_check.js")).localCheck));
  program
    .command("check")
    .description("run the checks on every (targeted) node of the cluster and collect the results")
    .option("--dry-run", "evaluate everywhere, run no action")
    .option("--node <name>", "only this node runs the batch (repeatable)", collect)
    .option("--tag <key=value>", "only nodes with this tag run the batch (repeatable, all must match)", collect)
    .option("--timeout <duration>", "stop waiting for answers after this long", "30s")
    .option("--ttl <duration>", "how long a node that receives the batch late may still run it", "5m")
    .option("--sign-key <file>", "sign the batch with this Ed25519 private key (gcheck keygen -signing)")
    .action(run(async () => (await import("./commands/check.js")).check));
  program
    .command("members")
    .description("list the cluster's members as the daemon sees them")
    .option("--status <status>", "only members with this status: alive, suspect, dead or left")
    .action(run(async () => (await import("./commands/members.js")).members));
  program
    .command("keygen")
    .description("print a new random 32-byte key (base64): a cluster key or a control API token")
    .option("--signing", "make an Ed25519 operator key pair for signed batches instead")
    .option("--out <prefix>", "with -signing: write PREFIX.key and PREFIX.pub")
    .action(run(async () => (await import("./commands/keygen.js")).keygen));
  program
    .command("keys")
    .description("list or rotate the cluster keys on every node: keys list | install KEY | use KEY | remove KEY")
    .argument("[op]", "list, install, use or remove")
    .argument("[key]", "base64 key (gcheck keygen), or @FILE to read it from a file")
    .option("--timeout <duration>", "stop waiting for nodes' answers after this long", "10s")
    .option("--sign-key <file>", "sign the operation with this Ed25519 private key: nodes with -trusted-keys change their keys only on a signed one")
    .action(run(async () => (await import("./commands/keys.js")).keys));
  program
    .command("stats")
    .description("load, CPU, memory, disk and uptime of every (targeted) node: exit 0 all answered, 3 some node silent")
    .option("--node <name>", "only this node answers (repeatable)", collect)
    .option("--tag <key=value>", "only nodes with this tag answer (repeatable, all must match)", collect)
    .option("--timeout <duration>", "stop waiting for nodes' answers after this long", "10s")
    .action(run(async () => (await import("./commands/stats.js")).stats));
  return program;
}

/** An action's parameters: commander passes the positional arguments first, then opts and the command. */
function actionParams(params: unknown[]): { cmd: Command; opts: Record<string, unknown> & { args: unknown[] } } {
  const cmd = params.at(-1) as Command;
  return { cmd, opts: { ...(params.at(-2) as Record<string, unknown>), args: params.slice(0, -2).filter((a) => a !== undefined) } };
}

/**
 * Parses argv (Go or GNU style, flags before or after the command) and runs
 * the command's action; a usage error or help/version text comes back as a
 * ParseExit. A CliError from the action is rethrown.
 */
async function parse(program: Command, out: { text: string }, argv: string[]): Promise<ParseExit | undefined> {
  const placed = placeFlags(program, normalizeGoArgv(argv, flagShapes(program)));
  if (!placed.ok) return { code: Exit.Usage, stdout: "", stderr: `${placed.error} (see gcheck -help)\n` };
  try {
    await program.parseAsync(placed.argv, { from: "user" });
    return undefined;
  } catch (e) {
    if (e instanceof CliError) throw e;
    // "(see gcheck check -help)": that command's help lists the flags it takes.
    return commanderExit(e, ["gcheck", ...placed.command].join(" "), out.text);
  }
}

/** What a command line asks for, as the command's action would receive it. */
export interface Invocation {
  command: string;
  opts: Record<string, unknown>;
  args: unknown[];
  globals: Record<string, unknown>;
}

/** Parses argv without running any command: the seam tests of the command line use. */
export async function parseInvocation(argv: string[]): Promise<Invocation | ParseExit> {
  const out = { text: "" };
  let invocation: Invocation | undefined;
  const program = buildProgram(out, () => async (...params: unknown[]) => {
    const { cmd, opts } = actionParams(params);
    const { args, ...own } = opts;
    invocation = { command: cmd.name(), opts: own, args, globals: cmd.parent?.opts() ?? {} };
  });
  const exit = await parse(program, out, argv);
  if (exit) return exit;
  if (!invocation) throw new Error(`gcheck ${argv.join(" ")}: parsed, but no command ran`);
  return invocation;
}

/** Runs gcheck with argv (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const out = { text: "" };
  let code: number = Exit.Ok;
  const run =
    (load: () => Promise<Run>) =>
    async (...params: unknown[]) => {
      const { cmd, opts } = actionParams(params);
      const g = cmd.optsWithGlobals<GlobalFlags>();
      const server = parseHostPort(g.server, { defaultPort: 5924 });
      if (!server.ok) throw new CliError(`-server "${g.server}": ${server.error}; expected host:port, e.g. 127.0.0.1:5924`);
      const ctx: CliContext = {
        server: formatHostPort(server.value),
        output: g.output as OutputFormat,
        env: process.env,
        stdout: process.stdout,
        stderr: process.stderr,
        ...(g.file !== undefined && { file: g.file }),
        ...(g.tokenFile !== undefined && { tokenFile: g.tokenFile }),
      };
      code = await (await load())(ctx, opts as never);
    };
  const program = buildProgram(out, run);
  if (argv.length === 0) {
    process.stdout.write(program.helpInformation());
    return Exit.Usage;
  }
  try {
    const exit = await parse(program, out, argv);
    if (exit) {
      process.stdout.write(exit.stdout);
      process.stderr.write(exit.stderr ? `gcheck: ${exit.stderr}` : "");
      return exit.code;
    }
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    process.stderr.write(
      e.message
        .split("\n")
        .map((l) => `gcheck: ${l}\n`)
        .join(""),
    );
    return e.exitCode;
  }
  return code;
}
