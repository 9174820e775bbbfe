/*
 * GET /metrics parsed by a real exposition-format parser
 * (parse-prometheus-text-format, a devDependency), so a test asserts what a
 * scraper sees rather than matching lines. The parser throws on a malformed
 * line. It keeps one set of buckets per histogram family (the labels of a
 * labelled histogram's buckets are merged), so per-label histogram samples
 * are read from the text itself (histogramCount).
 */
import parsePrometheusTextFormat from "parse-prometheus-text-format";

export type Family = ReturnType<typeof parsePrometheusTextFormat>[number];

/** Families by name; throws naming the family when a name is exposed twice. */
export function parseExposition(text: string): Map<string, Family> {
  const out = new Map<string, Family>();
  for (const f of parsePrometheusTextFormat(text)) {
    if (out.has(f.name)) throw new Error(`family ${f.name} is exposed twice`);
    out.set(f.name, f);
  }
  return out;
}

/** The _count sample of a histogram for the given label (e.g. type="file_exists"), 0 when absent. */
export function histogramCount(text: string, name: string, label?: [string, string]): number {
  const labels = label ? `\\{${label[0]}="${label[1]}"\\}` : "";
  const m = new RegExp(`^${name}_count${labels} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}
