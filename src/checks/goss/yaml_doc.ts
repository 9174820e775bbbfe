import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { errorMessage } from "../../base/result.js";

/*
 * A YAML document as plain values, with the positions of its keys: what the
 * check-file readers need to name "file:line:column" in a message. Syntax
 * errors, duplicate keys and more than one document are errors with the
 * position the yaml package reports. Merge keys ("<<: *base") are accepted,
 * as Go's YAML (and so Goss) accepts them.
 */

export type YamlRead = { ok: true; value: unknown; at: (path: readonly string[]) => string } | { ok: false; errors: string[] };

/** At most this many alias expansions (a "billion laughs" document is an error, not a hang). */
const MAX_ALIASES = 1000;

export function readYaml(text: string, label: string): YamlRead {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: true });
  const pos = (offset: number): string => {
    const { line, col } = lines.linePos(offset);
    return `${label}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => `${pos(e.pos[0])}: malformed YAML: ${firstLine(e.message)}`) };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    return { ok: false, errors: [`${label}: cannot read the YAML: ${errorMessage(e)}`] };
  }
  return { ok: true, value, at: (path) => `${pos(keyOffset(doc, path))}` };
}

/** The offset of the last key of `path` (or of the nearest enclosing key found; 0 for none). */
function keyOffset(doc: Document, path: readonly string[]): number {
  let node: unknown = doc.contents;
  let offset = 0;
  for (const k of path) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === k);
    if (!pair || !isScalar(pair.key)) break;
    offset = pair.key.range?.[0] ?? offset;
    node = pair.value;
  }
  return offset;
}

function firstLine(s: string): string {
  const line = s.split("\n")[0] ?? s;
  // The yaml package ends its messages with " at line L, column C"; the position leads ours.
  return line.replace(/ at line \d+, column \d+:?$/, "");
}

/** The 1-based line of the first "{{" (a Go template), or 0. */
export function templateLine(text: string): number {
  const i = text.indexOf("{{");
  if (i < 0) return 0;
  let line = 1;
  for (let j = 0; j < i; j++) if (text.charCodeAt(j) === 10) line++;
  return line;
}
