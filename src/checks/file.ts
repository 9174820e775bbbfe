import type { CheckRunContext, CheckTypeDef } from "./check_type.js";
import type { Evaluation } from "./evaluation.js";
import type { Params } from "./fields.js";
import { FILE_ATTR_FIELDS, FILE_ATTR_NAMES, fileAttrRules, hasFileAttrs } from "./file_attrs.js";
import { evaluateFileExists } from "./file_exists.js";

/*
 * `file` (Goss style): `path` exists (or, with `"exists": false`, does not),
 * with the attributes file_exists also takes (file_attrs.ts). Existence is
 * judged as file_exists judges it (symbolic links followed; a dangling link
 * does not exist; permission denied is an error), so the two agree.
 */
export const fileCheck: CheckTypeDef = {
  type: "file",
  subject: "path",
  fields: {
    path: { type: { kind: "string" }, required: true, doc: "the path of the file" },
    exists: { type: { kind: "boolean" }, doc: "whether the path must exist (default true)" },
    ...FILE_ATTR_FIELDS,
  },
  rules(p, field) {
    const errors = fileAttrRules(p, field);
    if (p.exists === false && hasFileAttrs(p)) {
      const given = FILE_ATTR_NAMES.filter((f) => p[f] !== undefined);
      errors.push(`${field("exists")} is false, so ${given.map((f) => JSON.stringify(f)).join(", ")} cannot be judged: remove ${given.length === 1 ? "it" : "them"} or expect the file to exist`);
    }
    return errors;
  },
  evaluate: evaluateFile,
};

async function evaluateFile(p: Params, ctx: CheckRunContext): Promise<Evaluation> {
  const path = p.path as string;
  const r = await evaluateFileExists(path, ctx.syncFileIo, p);
  if (p.exists !== false || r.status === "error") return r;
  // Expected absent: a pass is a fail and a fail a pass; the message already says what was found.
  return r.status === "pass" ? { status: "fail", message: `${r.message}, expected it not to exist` } : { status: "pass", message: r.message };
}
