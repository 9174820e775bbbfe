import type { Command } from "commander";
import { bashCompletion } from "../completion/bash.js";
import { fishCompletion } from "../completion/fish.js";
import { completionSpec, type Shell } from "../completion/spec.js";
import { zshCompletion } from "../completion/zsh.js";
import type { CliContext } from "../context.js";
import { Exit } from "../errors.js";

/*
 * `gcheck completion bash|zsh|fish`: the shell's completion script on
 * stdout, made from the program's own command definitions (commander
 * already refused any other shell name). README "completion" says how to
 * install each.
 */

const GENERATORS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion } as const;

export function completionScript(program: Command, shell: Shell): string {
  return GENERATORS[shell](completionSpec(program));
}

export function completion(ctx: CliContext, opts: { args: string[] }, cmd: Command): number {
  ctx.stdout.write(completionScript(cmd.parent!, opts.args[0] as Shell));
  return Exit.Ok;
}
