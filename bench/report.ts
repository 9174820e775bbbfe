/**
 * One section of the `npm run bench` report. Each bench/*.ts module exports
 * `run(): Promise<BenchSection[]>`; bench/run.ts runs them and prints tables.
 */
export interface BenchSection {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  /** Lines printed under the table: targets, what was measured and how. */
  notes?: string[];
}

export function formatSection(s: BenchSection): string {
  const cells = [s.columns, ...s.rows.map((r) => r.map(String))];
  const widths = s.columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
  const out = [`### ${s.title}`, "", line(s.columns), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|"];
  for (const r of cells.slice(1)) out.push(line(r));
  if (s.notes?.length) out.push("", ...s.notes.map((n) => `- ${n}`));
  return out.join("\n");
}

/** Percentile (0..100) of a list of numbers, nearest-rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = values.slice().sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
