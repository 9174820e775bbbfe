import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Families, Sample } from "./metric_families.js";

/*
 * The one module that imports prom-client. lazy_metrics.ts loads it with a
 * dynamic import() when metrics are first wanted, so a daemon nobody scrapes
 * never pays for it (see lazy_metrics.ts for the measured cost).
 *
 * The layers below keep plain running totals (`count.framesIn++`) on their
 * hot paths; the counters and gauges here read them when a scrape comes (a
 * prom-client metric with a collect callback), so counting costs nothing
 * between scrapes. Histograms are observed where the thing they time ends.
 */

/** A registry, with the default process and Node.js metrics when asked (CPU, RSS, heap, event-loop lag, GC, fds). */
export function newRegistry(defaultMetrics: boolean): Registry {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}

/** The helpers a family definition uses, all registering in `registry`. */
export function familiesOf(registry: Registry): Families {
  const registers = [registry];
  return {
    registry,
    total(name, help, read) {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(nonNegative(read()));
        },
      });
    },
    totals(name, help, labelNames, read) {
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const s of read()) this.inc(s.labels, nonNegative(s.value));
        },
      });
    },
    gauge(name, help, read) {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    },
    gauges(name, help, labelNames, read) {
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const s of read()) this.set(s.labels, s.value);
        },
      });
    },
    histogram(name, help, labelNames, buckets) {
      const h = new Histogram({ name, help, labelNames, buckets, registers });
      return (labels: Sample["labels"], value: number) => h.observe(labels, value);
    },
  };
}

// Counter.inc refuses negative numbers by throwing, which would fail the whole scrape.
function nonNegative(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}
