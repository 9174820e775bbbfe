/**
 * gcheck's commander program. Go-style flags as the original
 * (`gcheck -file=checks.json check`), global flags before or after the
 * command. Each command imports what it needs (the checks parser, the HTTP
 * client) only when it runs, so gcheck starts fast.
 */
import { Command, Option } from "commander";
import { formatHostPort, parseHostPort } from "../daemon/address.js";
import { DEFAULT_CLI_BIND } from "../daemon/flags.js";
import { commanderExit, flagShapes, goStyleHelp, normalizeGoArgv } from "../daemon/goflags.js";
import { VERSION } from "../daemon/version.js";
import type { CliContext, OutputFormat } from "./context.js";
import { CliError, Exit } from "./errors.js";

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

  program.command("validate").description("check a check file offline: exit 0 valid, 2 invalid (every problem listed)").action(run(async () => (await import("./commands/validate.js")).validate));
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

/** Runs gcheck with argv (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const out = { text: "" };
  let code: number = Exit.Ok;
  // Commander passes the positional arguments first, then opts and the command.
  const run = (load: () => Promise<Run>) => async (...params: unknown[]) => {
    const cmd = params.at(-1) as Command;
    const opts = { ...(params.at(-2) as Record<string, unknown>), args: params.slice(0, -2).filter((a) => a !== undefined) };
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
    await program.parseAsync(normalizeGoArgv(argv, flagShapes(program)), { from: "user" });
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(e.message.split("\n").map((l) => `gcheck: ${l}\n`).join(""));
      return e.exitCode;
    }
    const exit = commanderExit(e, "gcheck", out.text);
    process.stdout.write(exit.stdout);
    process.stderr.write(exit.stderr ? `gcheck: ${exit.stderr}` : "");
    return exit.code;
  }
  return code;
}
