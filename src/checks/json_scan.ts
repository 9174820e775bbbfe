/*
 * A JSON syntax scanner that tells a person where their check file is wrong.
 *
 * Why not JSON.parse alone: V8's messages give an offset at best ("in JSON at
 * position 8"), sometimes only a quote of the text, never a line; and
 * JSON.parse silently keeps the last of two equal keys, so a check file that
 * names two checks alike would lose one without a word. The values themselves
 * still come from JSON.parse; this only walks the grammar. It is iterative
 * (an explicit stack) so hostile nesting cannot overflow the call stack.
 */

export interface JsonSyntaxError {
  /** 1-based line and column (column in UTF-16 code units). */
  line: number;
  column: number;
  message: string;
}

export interface JsonKey {
  key: string;
  line: number;
}

export interface DuplicateKey {
  /** Keys of the enclosing objects, outermost first ([] = the top level). */
  path: string[];
  key: string;
  firstLine: number;
  line: number;
}

export interface JsonScan {
  error?: JsonSyntaxError;
  /** Keys of the top-level object in file order (JS objects reorder integer-like keys). */
  topLevelKeys: JsonKey[];
  duplicates: DuplicateKey[];
}

interface Frame {
  kind: "object" | "array";
  /** Key path of this container; for objects, the keys seen so far and their lines. */
  path: string[];
  keys?: Map<string, number>;
  lastKey?: string;
  /** Inside an array somewhere above: keys here are not check names or check fields. */
  inArray: boolean;
}

const numberRe = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const literals = ["true", "false", "null"];

export function scanJson(text: string): JsonScan {
  const out: JsonScan = { topLevelKeys: [], duplicates: [] };
  const n = text.length;
  let i = 0;
  const stack: Frame[] = [];

  // Line numbers are asked for at increasing offsets: count from the last
  // answer so the whole scan stays linear in the file size.
  let lineCursor = 0;
  let lineCount = 1;
  const lineAt = (offset: number): number => {
    if (offset < lineCursor) {
      lineCursor = 0;
      lineCount = 1;
    }
    for (; lineCursor < offset && lineCursor < n; lineCursor++) if (text.charCodeAt(lineCursor) === 10) lineCount++;
    return lineCount;
  };
  const fail = (offset: number, message: string): JsonScan => {
    const line = lineAt(offset);
    const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
    out.error = { line, column: offset - lineStart + 1, message };
    return out;
  };
  const skipWs = () => {
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
    }
  };
  const shown = (offset: number): string => {
    if (offset >= n) return "end of file";
    const c = text[offset]!;
    if (c === "'") return `"'" (JSON strings and keys need double quotes)`;
    if (c === "/" && (text[offset + 1] === "/" || text[offset + 1] === "*")) return `"${c}${text[offset + 1]}" (JSON does not allow comments)`;
    return JSON.stringify(c);
  };
  /** Reads a string token at i; returns its decoded value or an error message. */
  const readString = (): { value: string } | { error: string; at: number } => {
    const start = i;
    i++;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return { value: JSON.parse(text.slice(start, i)) as string };
      }
      if (c < 0x20) {
        return { error: c === 10 ? "line break inside a string (write it as \\n)" : "control character inside a string (escape it)", at: i };
      }
      if (c === 92) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { error: "\\u must be followed by 4 hex digits", at: i };
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i++;
        } else {
          return { error: `invalid escape "\\${e ?? ""}" inside a string`, at: i };
        }
      }
    }
    return { error: "string is not closed (missing closing double quote)", at: start };
  };
  /** Reads `"key" :` in an object frame; leaves i at the value. */
  const readKey = (frame: Frame): { error: string; at: number } | null => {
    if (text[i] !== '"') return { error: `expected a double-quoted key, found ${shown(i)}`, at: i };
    const keyAt = i;
    const s = readString();
    if ("error" in s) return s;
    const line = lineAt(keyAt);
    const first = frame.keys!.get(s.value);
    if (first === undefined) frame.keys!.set(s.value, line);
    else if (!frame.inArray) out.duplicates.push({ path: frame.path, key: s.value, firstLine: first, line });
    if (stack.length === 1) out.topLevelKeys.push({ key: s.value, line });
    frame.lastKey = s.value;
    skipWs();
    if (text[i] !== ":") return { error: `expected ":" after the key ${JSON.stringify(s.value)}, found ${shown(i)}`, at: i };
    i++;
    skipWs();
    return null;
  };
  const childPath = (): string[] => {
    const top = stack[stack.length - 1];
    if (!top) return [];
    return top.kind === "object" ? [...top.path, top.lastKey ?? ""] : top.path;
  };

  skipWs();
  if (i >= n) return fail(i, "the file is empty");
  for (;;) {
    // Expecting a value at i.
    const c = text[i];
    if (c === "{" || c === "[") {
      const parent = stack[stack.length - 1];
      const frame: Frame = { kind: c === "{" ? "object" : "array", path: childPath(), inArray: parent !== undefined && (parent.kind === "array" || parent.inArray) };
      if (c === "{") frame.keys = new Map();
      stack.push(frame);
      i++;
      skipWs();
      if (text[i] === (c === "{" ? "}" : "]")) {
        i++;
        stack.pop();
      } else {
        if (c === "{") {
          const err = readKey(frame);
          if (err) return fail(err.at, err.error);
        }
        continue;
      }
    } else if (c === '"') {
      const s = readString();
      if ("error" in s) return fail(s.at, s.error);
    } else if (c !== undefined && (c === "-" || (c >= "0" && c <= "9"))) {
      numberRe.lastIndex = i;
      const m = numberRe.exec(text);
      if (!m) return fail(i, `invalid number starting at ${shown(i)}`);
      i += m[0].length;
    } else {
      const lit = literals.find((l) => text.startsWith(l, i));
      if (!lit) return fail(i, `expected a value (string, number, object, array, true, false or null), found ${shown(i)}`);
      i += lit.length;
    }
    // After a value: close containers or move to the next element.
    for (;;) {
      skipWs();
      const top = stack[stack.length - 1];
      if (!top) {
        if (i < n) return fail(i, `unexpected ${shown(i)} after the end of the JSON value`);
        return out;
      }
      const close = top.kind === "object" ? "}" : "]";
      if (text[i] === close) {
        i++;
        stack.pop();
        continue;
      }
      if (text[i] !== ",") {
        const what = top.kind === "object" ? `the value of ${JSON.stringify(top.lastKey)}` : "an array element";
        if (i >= n) return fail(i, `unexpected end of file: expected "," or "${close}" after ${what}`);
        return fail(i, `expected "," or "${close}" after ${what}, found ${shown(i)}`);
      }
      const comma = i;
      i++;
      skipWs();
      if (text[i] === close) return fail(comma, `trailing comma before "${close}" (JSON does not allow it)`);
      if (top.kind === "object") {
        const err = readKey(top);
        if (err) return fail(err.at, err.error);
      }
      break;
    }
  }
}
