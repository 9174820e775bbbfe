import type { SwimConfig } from "./config.js";

/**
 * Tags are advertised in every alive update of this node, so their size is
 * bounded (maxTagBytes: keys plus values in UTF-8 bytes). Returns why the
 * tags cannot be used, or null.
 */
export function tagsProblem(tags: Record<string, string>, config: SwimConfig): string | null {
  let bytes = 0;
  for (const [k, v] of Object.entries(tags)) {
    if (!k) return "a tag has an empty key: write tags as key=value";
    if (typeof v !== "string") return `tag "${k}" has a non-string value`;
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (bytes > config.maxTagBytes) {
    return `tags take ${bytes} bytes, more than the limit of ${config.maxTagBytes} bytes (keys plus values): shorten or drop some -tag values`;
  }
  return null;
}
