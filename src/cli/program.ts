/**
 * gcheck's commander program. Go-style flags as the original
 * (`gcheck -file=checks.json check`), every flag before or after the
 * command (flag_placement.ts). Each command imports what it needs (the
 * checks parser, the HTTP client) only when it runs, so gcheck starts fast.
 */
import { Argument, Command, Option } from "commander";
import { formatHostPort, parseHostPort } from "../cmdline/address.js";
import { commanderExit, flagShapes, goStyleHelp, normalizeGoArgv, type ParseExit } from "../cmdline/goflags.js";
import { VERSION } from "../cmdline/version.js";
import { type CliContext, OUTPUT_FORMATS, type OutputFormat } from "./context.js";
import { CliError, Exit, FAIL_ON } from "./errors.js";
import { placeFlags } from "./flag_placement.js";
import { DEFAULT_CLI_BIND } from "../control/defaults.js";
import { KEY_OPS, MEMBER_STATUSES } from "../control/api_types.js";
import { SHELLS } from "./completion/spec.js";
import { SCHEDULE_OPS } from "../control/schedule_rules.js";
import { CHECK_STATUSES } from "../checks/types.js";

interface GlobalFlags {
  server: string;
  file?: string;
  output: string;
  tokenFile?: string;
}

// Each command declares its own flag shape; commander hands them over untyped.
// The command itself comes last, for those that read the definitions (completion).
type Run = (ctx: CliContext, opts: never, cmd: Command) => Promise<number> | number;

/** The "Example:" lines at the end of a command's help: a command line and what it does, aligned. */
function examples(cmd: Command, lines: [command: string, what: string][]): Command {
  const width = Math.max(...lines.map(([c]) => c.length));
  return cmd.addHelpText("after", `\nExample${lines.length > 1 ? "s" : ""}:\n${lines.map(([c, w]) => `  ${c.padEnd(width)}  # ${w}\n`).join("")}`);
}

/** -fail-on of check and local-check (errors.ts: FAIL_ON). */
function failOnOption(): Option {
  return new Option("--fail-on <status>", "exit 1 on a failed or errored check (fail), or on a warning too (warn)").choices(FAIL_ON).default("fail");
}

/** -group-by and -failures-only of check and results (the table output's shape). */
function tableViewOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--group-by <what>", "table: one row per node and check (node), or one line per check (check; the default past 300 rows)").choices(["node", "check"]))
    .option("--failures-only", "table: only the rows (or checks) that did not pass");
}

function buildProgram(out: { text: string }, run: (load: () => Promise<Run>) => (...params: unknown[]) => Promise<void>): Command {
  const collect = (v: string, prev: string[] = []) => [...prev, v];
  const program = new Command("gcheck")
    .description("gossipcheck client: run a check file on the whole cluster (check) or on the daemon's host (local-check)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => void (out.text += s), writeErr: (s) => void (out.text += s), outputError: () => {} })
    .helpOption("-h, --help", "show this help")
    .version(VERSION, "--version", "print the version and exit")
    .addOption(new Option("--server <host:port>", "control API of the daemon to talk to").env("GOSSIPCHECK_SERVER").default(DEFAULT_CLI_BIND))
    .option("--file <file>", "check file, JSON or YAML (or a Goss gossfile); - reads it from standard input")
    .addOption(new Option("--output <format>", "output format (ndjson for check, results, event and query; tap and nagios for check and results only)").choices(OUTPUT_FORMATS).default("table"))
    .addOption(new Option("--token-file <file>", "file holding the control API token (or set GOSSIPCHECK_TOKEN)"));
  // The command list shows each command's one-line summary; "[options]" is left
  // out of it (each command's -help lists its flags) so every entry fits one line.
  program.configureHelp({ ...goStyleHelp(), showGlobalOptions: true, subcommandTerm: (c) => [c.name(), ...c.registeredArguments.map(argTerm)].join(" ") });
  examples(program, [
    ["gcheck -file checks.json check", "run the checks on every node"],
    ["gcheck members", "who is in the cluster"],
    ["gcheck COMMAND -help", "a command's flags and an example"],
  ]);

  examples(
    program
      .command("validate")
      .summary("check a check file offline: exit 0 valid, 2 invalid")
      .description("check a check file offline: exit 0 valid, 2 invalid (every problem listed)")
      .action(run(async () => (await import("./commands/validate.js")).validate)),
    [
      ["gcheck -file checks.json validate", "lint a file, e.g. in CI"],
      ["generate-checks | gcheck -file - validate", "lint what a program writes"],
    ],
  );
  examples(
    program
      .command("import")
      .summary("print a gossfile or YAML check file as JSON")
      .description("print the JSON check file equivalent to -file: a Goss gossfile, gossipcheck's format in YAML, or JSON; exit 0, or 2 with every problem listed")
      .action(run(async () => (await import("./commands/import.js")).importFile)),
    [["gcheck -file goss.yaml import > checks.json", "translate a gossfile once, keep the JSON"]],
  );
  examples(
    program
      .command("local-check")
      .summary("evaluate the checks on the daemon's host, no actions")
      .description("evaluate the checks on the daemon's host, one by one, running no action")
      .addOption(failOnOption())
      .action(run(async () => (await import("./commands/local_check.js")).localCheck)),
    [["gcheck -file checks.json local-check", "is this host as the file says?"]],
  );
  examples(
    tableViewOptions(program.command("check"))
      .summary("run the checks on every targeted node, collect results")
      .description("run the checks on every (targeted) node of the cluster and collect the results")
      .option("--dry-run", "evaluate everywhere, run no action")
      .option("--node <name>", "only this node runs the batch (repeatable)", collect)
      .option("--tag <key=value>", "only nodes with this tag run the batch (repeatable, all must match)", collect)
      .option("--timeout <duration>", "stop waiting for answers after this long (in a rollout: for each wave's)", "30s")
      .option("--ttl <duration>", "how long a node that receives the batch late may still run it", "5m")
      .option("--sign-key <file>", "sign the batch with this Ed25519 private key (gcheck keygen -signing)")
      .addOption(failOnOption())
      .option("--canary <count>", "rollout: run on this many nodes first (wave 1), then on the others (README: Rollouts)")
      .option("--batch-size <n|n%>", "rollout: then in waves of this many nodes (or percent of the targeted ones)")
      .option("--batch-wait <duration>", "rollout: pause between the end of a wave and the start of the next (default 0s)")
      .option("--max-failures <n|n%>", "rollout: failing nodes tolerated before it stops, skipping the rest (default 0)")
      .option("--order <name|random|tag:KEY>", "rollout: wave order: by name (default), random (seeded by the rollout ID), or by a tag's value")
      .option("--count <k>", "run on exactly k of the targeted running nodes (chosen by sha256(rollout ID + name); a dead one is replaced)")
      .option("--detach", "rollout: the origin carries on if gcheck goes away (default: it finishes the current wave and stops)")
      .addOption(new Option("--on <which>", "run on the coordinator(s) only, whichever node(s) the daemon computes now (README: Coordinator)").choices(["coordinator"]))
      .action(run(async () => (await import("./commands/check.js")).check)),
    [
      ["gcheck -file backup.json check -on coordinator", "a cluster-wide job on one node, whichever is coordinator now"],
      ["gcheck -file checks.json check -canary 1 -batch-size 10% -batch-wait 30s", "one canary, then 10% at a time; stop at the first failure"],
      ["gcheck -file migrate.json check -count 1", "a one-off job on exactly one node"],
      ["gcheck -file checks.json check -tag role=web", "run on the web nodes, fix what fails"],
      ["gcheck -file checks.json check -dry-run -output junit", "evaluate only, JUnit XML for CI"],
      ["gcheck -file checks.json check -output ndjson | jq .", "one JSON line per node as it answers"],
      ["gcheck -file checks.json check -group-by check -failures-only", "what fails, one line per check"],
      ["gcheck -file checks.json check -fail-on warn", "a warning fails the CI job too"],
    ],
  );
  // list-members is the original gossipcheck's (Go, 2016) name for members: the
  // same command under its own help line, so both names are found in -help.
  const members = (name: string, summary: string) =>
    examples(
      program
        .command(name)
        .summary(summary)
        .description(`${summary}: name, address, status, incarnation, tags, since`)
        .addOption(new Option("--status <status>", "only members with this status").choices(MEMBER_STATUSES))
        .option("--watch", "keep watching until Ctrl-C: a live table on a terminal; in a pipe the table, then a line per change; NDJSON events with -output json")
        .action(run(async () => (await import("./commands/members.js")).members)),
      [
        [`gcheck ${name} -status suspect`, "members some node suspects of having failed"],
        [`gcheck ${name} -watch`, "the table, live, as members join, fail and leave"],
      ],
    );
  members("members", "list the cluster's members as the daemon sees them");
  members("list-members", "same as members (the original gossipcheck's name)");
  examples(
    program
      .command("wait")
      .summary("block until -count alive members carry the -tag tags")
      .description("block until -count alive members carry every -tag (node-discovery's need/ready), as the daemon sees them: exit 0 as soon as they do, 3 at -timeout (saying how many it saw)")
      .option("--tag <key=value>", "the members must carry this tag (repeatable, all must match; none: any member)", collect)
      .option("--count <n>", "how many alive members", "1")
      .option("--timeout <duration>", "give up after this long (at most 10m)", "60s")
      .action(run(async () => (await import("./commands/wait.js")).wait)),
    [
      ["gcheck wait -tag service=db -count 2 -timeout 60s", "start the app once two database nodes are up"],
      ["gcheck wait -count 5 && deploy", "go on once five members are alive"],
    ],
  );
  examples(
    program
      .command("info")
      .summary("the daemon's name, version, uptime, members, counters")
      .description("the daemon's name, version, uptime, members by status, and the counters that show trouble (dropped packets, refused connections and envelopes)")
      .action(run(async () => (await import("./commands/info.js")).info)),
    [
      ["gcheck -server 10.0.0.5:5924 info", "how is that node doing?"],
      ["gcheck info -output json", "the daemon's whole GET /v1/info document"],
    ],
  );
  examples(
    program
      .command("version")
      .summary("gcheck's version, and the daemon's if one answers")
      .description("print gcheck's version and, when a daemon answers at -server, its name and version; exit 0 either way (gcheck info fails when no daemon answers)")
      .action(run(async () => (await import("./commands/version.js")).version)),
    [["gcheck -server 10.0.0.5:5924 version", "gcheck's and that daemon's versions"]],
  );
  examples(
    program
      .command("keygen")
      .summary("print a new random key, or -signing an Ed25519 key pair")
      .description("print a new random 32-byte key (base64): a cluster key or a control API token")
      .option("--signing", "make an Ed25519 operator key pair for signed batches instead")
      .option("--out <prefix>", "with -signing: write PREFIX.key and PREFIX.pub")
      .action(run(async () => (await import("./commands/keygen.js")).keygen)),
    [
      ["gcheck keygen > cluster.key", "a key for gossipcheckd -key-file"],
      ["gcheck keygen -signing -out ops", "ops.key (keep) and ops.pub (for -trusted-keys)"],
    ],
  );
  examples(
    program
      .command("keys")
      .summary("list or rotate the cluster keys on every node")
      .description("list or rotate the cluster keys on every node: keys list | install KEY | use KEY | remove KEY")
      // Choices for help and completion only: keys judges the operation itself,
      // so a wrong one gets its usage line (argParser replaces commander's check).
      .addArgument(new Argument("[op]", "the operation").choices(KEY_OPS).argParser(String))
      .argument("[key]", "base64 key (gcheck keygen), or @FILE to read it from a file")
      .option("--timeout <duration>", "stop waiting for nodes' answers after this long", "10s")
      .option("--sign-key <file>", "sign the operation with this Ed25519 private key: nodes with -trusted-keys change their keys only on a signed one")
      .action(run(async () => (await import("./commands/keys.js")).keys)),
    [
      ["gcheck keys list", "which keys each node has (fingerprints)"],
      ["gcheck keys install @new.key", "1. every node learns the new key"],
      ["gcheck keys use @new.key", "2. every node sends with it"],
      ["gcheck keys remove @old.key", "3. every node forgets the old one"],
    ],
  );
  examples(
    program
      .command("stats")
      .summary("load, CPU, memory, disk and uptime of every node")
      .description("load, CPU, memory, disk and uptime of every (targeted) node: exit 0 all answered, 3 some node silent")
      .option("--node <name>", "only this node answers (repeatable)", collect)
      .option("--tag <key=value>", "only nodes with this tag answer (repeatable, all must match)", collect)
      .option("--timeout <duration>", "stop waiting for nodes' answers after this long (default 10s; not with -watch)")
      .option("--watch", "keep watching until Ctrl-C, a round every -interval: a live table on a terminal; in a pipe a table per round; NDJSON events with -output json")
      .option("--interval <duration>", "with -watch: how often every node is asked (default 2s, 500ms to 60s)")
      .action(run(async () => (await import("./commands/stats.js")).stats)),
    [
      ["gcheck stats -tag role=db", "how loaded are the database nodes?"],
      ["gcheck stats -watch -interval 5s", "every node's figures, live, every 5 s"],
    ],
  );
  // User events and queries (issue 17).
  examples(
    program
      .command("event")
      .summary("send a user event to every node's handlers")
      .description(
        "send a user event to every (targeted) node: each runs its -on user:NAME=SCRIPT handlers once, the payload on their standard input; returns when every node has it (-wait-handlers: when their handlers ended). Exit 0 all delivered, 1 a handler failed (-wait-handlers) or a node refused, 3 some node never answered",
      )
      .argument("[name]", "the event's name (1 to 128 of A-Z a-z 0-9 . _ : -)")
      .argument("[text]", "the payload, as UTF-8 text (or -payload-file)")
      .option("--payload-file <file>", "send this file's bytes as the payload (- reads standard input), up to 12 MiB less 16 KiB")
      .option("--node <name>", "only this node runs its handlers (repeatable)", collect)
      .option("--tag <key=value>", "only nodes with this tag run their handlers (repeatable, all must match)", collect)
      .option("--wait-handlers", "wait for every handler's exit status too (exit 1 when one failed)")
      .option("--timeout <duration>", "stop waiting after this long; also how long a node that was away may still get the event", "30s")
      .action(run(async () => (await import("./commands/talk.js")).event)),
    [
      ["gcheck event deploy v1.4.2", "every node's -on user:deploy handlers read v1.4.2"],
      ["gcheck event reload -tag role=web -wait-handlers", "the web nodes' handlers, and their exit statuses"],
      ["gcheck event bundle -payload-file app.tgz", "hand a file to every handler (up to about 12 MiB)"],
    ],
  );
  examples(
    program
      .command("query")
      .summary("ask every node's query handlers, print their output")
      .description(
        "run every (targeted) node's -on query:NAME=SCRIPT handlers (payload on standard input) and print each node's answer: exit and standard output (64 KiB at most per handler); ends when every node answered. Exit 0 all answered, 1 a handler failed or a node refused, 3 some node never answered",
      )
      .argument("[name]", "the query's name (1 to 128 of A-Z a-z 0-9 . _ : -)")
      .argument("[text]", "the payload, as UTF-8 text (or -payload-file)")
      .option("--payload-file <file>", "send this file's bytes as the payload (- reads standard input), up to 12 MiB less 16 KiB")
      .option("--node <name>", "only this node answers (repeatable)", collect)
      .option("--tag <key=value>", "only nodes with this tag answer (repeatable, all must match)", collect)
      .option("--timeout <duration>", "stop waiting for answers after this long; also the handlers' timeout (at most 30s)", "10s")
      .action(run(async () => (await import("./commands/talk.js")).query)),
    [
      ["gcheck query uptime", "each node's -on query:uptime output, one row per handler"],
      ["gcheck query has-file /etc/app.conf -output json", "every answer whole, outputs in base64 and text"],
    ],
  );
  examples(
    program
      .command("schedule")
      .summary("set, list, show or remove the cluster's scheduled checks")
      .description('the cluster\'s named schedules: checks every targeted node runs on its own, each at its "interval": schedule set -name NAME -file F | list | show NAME | remove NAME')
      // Choices for help and completion only: schedule judges the operation itself (as keys does).
      .addArgument(new Argument("[op]", "the operation").choices(SCHEDULE_OPS).argParser(String))
      .argument("[name]", "the schedule's name (show, remove; set takes -name or this)")
      .option("--name <name>", "set: the schedule's name (1 to 128 of A-Z a-z 0-9 . _ : -)")
      .option("--node <name>", "set: only this node runs the schedule (repeatable)", collect)
      .option("--tag <key=value>", "set: only nodes with this tag run the schedule (repeatable, all must match)", collect)
      .option("--sign-key <file>", "sign the schedule (or its removal) with this Ed25519 private key: nodes with -trusted-keys accept only signed ones")
      .action(run(async () => (await import("./commands/schedule.js")).schedule)),
    [
      ["gcheck schedule set -name web -file web.json -tag role=web", "every web node runs web.json's checks at their intervals"],
      ["gcheck schedule list", "the schedules the daemon knows, and whether it runs them"],
      ["gcheck schedule show web -output json", "one schedule with its checks"],
      ["gcheck schedule remove web", "stop it on every node"],
    ],
  );
  examples(
    program
      .command("rollout")
      .summary("list rollouts, show one (status ID), stop one (abort ID)")
      .description(
        "ask the origin daemon (-server) about a rollout started by gcheck check -canary/-batch-size/-count: status ID shows its waves and nodes (exit 1 stopped or some node failed so far, else 3 aborted or disconnected, else 0); abort ID lets no further wave start",
      )
      .addArgument(new Argument("[op]", "the operation").choices(["list", "status", "abort"]).argParser(String))
      .argument("[id]", "the rollout ID (32 hex digits, printed by gcheck check and in its -output json)")
      .action(run(async () => (await import("./commands/rollout.js")).rollout)),
    [
      ["gcheck rollout list", "the rollouts this daemon ran, newest first"],
      ["gcheck rollout status 3f0c9a1e5b7d2c4a6e8f0a1b2c3d4e5f", "which waves ran, which nodes failed"],
      ["gcheck rollout abort 3f0c9a1e5b7d2c4a6e8f0a1b2c3d4e5f", "no further wave starts"],
    ],
  );
  examples(
    tableViewOptions(program.command("results"))
      .summary("a past batch's results, from every node that ran it")
      .description("fetch a past batch's results from every node that ran it (their history), with check's outputs and exit codes; nodes that did not run it are listed apart")
      .argument("[batch-id]", "the batch's ID (32 hex digits, as gcheck check -output json prints it)")
      .option("--node <name>", "only ask this node (repeatable)", collect)
      .option("--tag <key=value>", "only ask nodes with this tag (repeatable, all must match)", collect)
      .option("--timeout <duration>", "stop waiting for nodes' answers after this long", "10s")
      .addOption(failOnOption())
      .action(run(async () => (await import("./commands/results.js")).results)),
    [["gcheck results 3f0c9a1e5b7d2c4a6e8f0a1b2c3d4e5f -output junit", "the results of a batch whose gcheck was killed"]],
  );
  examples(
    program
      .command("history")
      .summary("past batches and check transitions, newest first")
      .description("the batches the nodes ran and the transitions of their scheduled checks (pass -> fail, ...), merged across nodes, newest first: exit 0 all answered, 3 some node silent")
      .option("--node <name>", "only this node's history (repeatable)", collect)
      .option("--tag <key=value>", "only nodes with this tag (repeatable, all must match)", collect)
      .option("--check <name>", "only this check's entries")
      .option("--since <duration>", "only what happened in this last while, e.g. 1h or 2d")
      .addOption(new Option("--status <status>", "only entries with this status (a transition to it, a batch with a result of it)").choices(CHECK_STATUSES))
      .option("--limit <count>", "at most this many batches and this many transitions", "100")
      .option("--audit", "show the audit log instead: key operations, schedule changes, refused envelopes and connections")
      .option("--timeout <duration>", "stop waiting for nodes' answers after this long", "10s")
      .action(run(async () => (await import("./commands/history.js")).history)),
    [
      ["gcheck history -since 1h -status fail", "what failed in the last hour, anywhere"],
      ["gcheck history -node web-07 -check nginx_running", "one check's story on one node"],
      ["gcheck history -audit -since 1d", "who changed keys and schedules, and what was refused, today"],
    ],
  );
  examples(
    program
      .command("status")
      .summary("the state of every scheduled check, aggregated by check")
      .description(
        "the current state of every scheduled check on every (targeted) node, aggregated by check, and the quorum verdicts: exit 1 a check fails on some node or a quorum verdict fails (a quorum check counts by its verdict only), 3 some node silent, 0 otherwise",
      )
      .option("--node <name>", "only this node answers (repeatable)", collect)
      .option("--tag <key=value>", "only nodes with this tag answer (repeatable, all must match)", collect)
      .option("--timeout <duration>", "stop waiting for nodes' answers after this long", "10s")
      .addOption(failOnOption())
      .action(run(async () => (await import("./commands/status.js")).status)),
    [
      ["gcheck status", "what fails where, right now"],
      ["gcheck status -tag role=web -output json", "the web nodes' answers and the aggregate"],
    ],
  );
  examples(
    program
      .command("completion")
      .summary("print a shell completion script: bash, zsh or fish")
      .description("print a completion script for bash, zsh or fish, made from gcheck's own command definitions (README: completion)")
      .addArgument(new Argument("<shell>", "bash, zsh or fish").choices(SHELLS))
      .action(run(async () => (await import("./commands/completion.js")).completion)),
    [
      ["source <(gcheck completion bash)", "bash, this shell (add it to ~/.bashrc)"],
      ["gcheck completion fish > ~/.config/fish/completions/gcheck.fish", "fish, from now on"],
    ],
  );
  return program;
}

/** A positional argument in the command list: "<shell>", "[op]". */
function argTerm(a: Argument): string {
  const name = a.name() + (a.variadic ? "..." : "");
  return a.required ? `<${name}>` : `[${name}]`;
}

/** The program's definitions, with actions that do nothing: for tools that read them (completion scripts, help tests). */
export function programDefinition(): Command {
  return buildProgram({ text: "" }, () => async () => {});
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
        stdin: process.stdin,
        stdout: process.stdout,
        stderr: process.stderr,
        ...(g.file !== undefined && { file: g.file }),
        ...(g.tokenFile !== undefined && { tokenFile: g.tokenFile }),
      };
      code = await (await load())(ctx, opts as never, cmd);
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
