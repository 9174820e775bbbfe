/**
 * A small builder for the Prometheus text exposition format 0.0.4
 * (what GET /metrics serves): one HELP and TYPE line per family, then its
 * samples. Label values are escaped as the format requires.
 */
export type MetricType = "counter" | "gauge";

export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

export class PromText {
  private lines: string[] = [];

  family(name: string, type: MetricType, help: string, samples: Sample[] | number): this {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`);
    for (const s of typeof samples === "number" ? [{ value: samples }] : samples) {
      this.lines.push(`${name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
    }
    return this;
  }

  toString(): string {
    return this.lines.length ? this.lines.join("\n") + "\n" : "";
  }
}

function formatLabels(labels: Record<string, string> | undefined): string {
  if (!labels) return "";
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** Counters such as a transport's {"packets_dropped": 3} as one family with a "counter" label. */
export function countersFamily(text: PromText, name: string, help: string, counters: Record<string, number>): PromText {
  const samples = Object.entries(counters).map(([counter, value]) => ({ labels: { counter }, value }));
  return samples.length ? text.family(name, "counter", help, samples) : text;
}
