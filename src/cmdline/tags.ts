import { fail, type Result } from "../base/result.js";

/**
 * `-tag key=value` (repeatable): keys are short identifiers, each given once;
 * with maxBytes (the daemon passes the membership layer's limit), all of
 * them small. gcheck's -tag targeting has no size limit.
 */
export function parseTags(items: readonly string[], maxBytes = Infinity): Result<Record<string, string>> {
  const tags: Record<string, string> = {};
  let bytes = 0;
  for (const item of items) {
    const i = item.indexOf("=");
    const key = i < 0 ? item : item.slice(0, i);
    if (i < 0 || !/^[A-Za-z0-9_.\/-]{1,64}$/.test(key)) {
      return fail(`-tag "${item}": expected key=value with a key of 1 to 64 letters, digits or _ . / -`);
    }
    if (Object.hasOwn(tags, key)) return fail(`-tag "${item}": tag ${key} is given twice`);
    tags[key] = item.slice(i + 1);
    bytes += Buffer.byteLength(key) + Buffer.byteLength(tags[key]!);
  }
  if (bytes > maxBytes) return fail(`-tag: the tags take ${bytes} bytes; at most ${maxBytes} (they travel in every membership update)`);
  return { ok: true, value: tags };
}
