#!/usr/bin/env node
// A file's header comment must be a plain block comment (/* ... */), not
// JSDoc (/** ... */): TypeScript attaches a JSDoc block to the declaration
// after it, so a module's description would show up as the first
// declaration's documentation. A header is a doc block before the file's
// first declaration that is followed by a blank line or by that
// declaration's own doc block. Usage: node scripts/check-doc-headers.mjs
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import ts from "typescript";

const files = execFileSync("git", ["ls-files", "src/*.ts", "test/*.ts", "bench/*.ts", "scripts/*.ts"], { encoding: "utf8" })
  .split("\n")
  .filter((f) => f.endsWith(".ts"));
const problems = [];
for (const f of files) {
  const text = readFileSync(f, "utf8");
  const sf = ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true);
  const first = sf.statements.find((s) => !ts.isImportDeclaration(s));
  const docs = first ? ts.getJSDocCommentsAndTags(first).filter((d) => ts.isJSDoc(d)) : [];
  if (!first || docs.length === 0) continue;
  const between = text.slice(docs[0].end, first.getStart(sf, false));
  if (docs.length >= 2 || /\n\s*\n/.test(between)) {
    problems.push(
      `${f}:${sf.getLineAndCharacterOfPosition(docs[0].getStart(sf)).line + 1}: the file's header comment starts with /** (JSDoc): write /* so TypeScript does not attach it to the declaration after it`,
    );
  }
}
if (problems.length) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(`check-doc-headers: ${files.length} files, no header attached to a declaration`);
