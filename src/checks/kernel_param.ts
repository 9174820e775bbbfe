import { readFile } from "node:fs/promises";
import type { CheckRunContext, CheckTypeDef } from "./check_type.js";
import { fsReason, quote, type Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";

/*
 * `kernel_param`: a sysctl, read from /proc/sys (no sysctl binary needed).
 * `key` is written as sysctl writes it, "net.ipv4.ip_forward" (dots for
 * slashes), or as a path below /proc/sys, "net/ipv4/conf/eth0.100/forwarding"
 * (as sysctl does, a key with a "/" keeps its dots, for names such as VLAN
 * interfaces). `value` must equal the value with surrounding whitespace
 * trimmed and runs of whitespace (the tabs of "4096\t131072\t6291456")
 * collapsed to one space; `contains` must be a substring of it. Without
 * either, the key only has to exist. A key the kernel does not have is a
 * fail (the module may not be loaded); one it will not let us read is an
 * error.
 */

export const kernelParamCheck: CheckTypeDef = {
  type: "kernel_param",
  subject: "key",
  fields: {
    key: { type: { kind: "string" }, required: true, doc: 'the sysctl key, "net.ipv4.ip_forward" (or a path below /proc/sys, "net/ipv4/ip_forward")' },
    value: { type: { kind: "string" }, doc: 'the value it must have, compared with whitespace trimmed and runs of it collapsed to one space ("4096 131072 6291456")' },
    contains: { type: { kind: "string" }, doc: "text the value must contain" },
  },
  rules(p, field) {
    const key = p.key as string;
    const parts = keyPath(key).split("/");
    if (key.startsWith("/") || parts.some((s) => s === "" || s === "." || s === "..")) {
      return [`${field("key")}: expected a sysctl key such as "net.ipv4.ip_forward" or "kernel/ostype" (no empty, "." or ".." parts, no leading "/"), got ${JSON.stringify(key)}`];
    }
    return [];
  },
  evaluate: (p, ctx) => evaluateKernelParam(p, ctx),
};

/** The path below /proc/sys of a key: dots are slashes unless the key already has a slash. */
function keyPath(key: string): string {
  return key.includes("/") ? key : key.replaceAll(".", "/");
}

async function evaluateKernelParam(p: Params, ctx: CheckRunContext): Promise<Evaluation> {
  const key = p.key as string;
  const file = `/proc/sys/${keyPath(key)}`;
  let raw: string;
  try {
    raw = await ctx.memo(`kernel_param:${file}`, () => readFile(file, "utf8")); // once per key per batch
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { status: "fail", message: `kernel_param ${key}: no such key (${file} does not exist)` };
    if (code === "EISDIR") return { status: "error", message: `kernel_param ${key}: ${file} is a directory of keys, not a key` };
    return { status: "error", message: `kernel_param ${key}: cannot read ${file}: ${fsReason(e)}` };
  }
  const value = raw.trim().replace(/\s+/g, " ");
  const problems: string[] = [];
  const wanted = p.value as string | undefined;
  if (wanted !== undefined && value !== wanted.trim().replace(/\s+/g, " ")) problems.push(`expected ${quote(wanted)}`);
  const part = p.contains as string | undefined;
  if (part !== undefined && !value.includes(part)) problems.push(`expected it to contain ${quote(part)}`);
  const msg = `kernel_param ${key} = ${quote(value)}`;
  return problems.length === 0 ? { status: "pass", message: msg } : { status: "fail", message: `${msg}, ${problems.join(" and ")}` };
}
